/* Starting helper programs detached (program_kick.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* close_range */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "program_kick.h"

int program_kick(const char *program, const char *config_path, const char *const *args)
{
	pid_t pid;
	int status;

	if (program == NULL || access(program, X_OK) != 0)
		return 0;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* The first child: its own session, then the grandchild runs
		 * the program and the child leaves at once, so the program is
		 * nobody's child here and outlives this process. Only _exit
		 * from here on: exit() would run our atexit handlers (the
		 * store's) in a copy of this process. */
		char *argv[12];
		int n = 0, fd;

		if (setsid() < 0)
			_exit(1);
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
		    (!log_to_stderr_enabled() && dup2(fd, 2) < 0))
			_exit(1);
		/* Nothing of ours goes to the program: the client socket is
		 * already replaced, the store's files close here. */
		if (close_range(3, ~0U, 0) < 0)
			for (int i = 3; i < 1024; i++)
				(void)close(i);
		signal(SIGPIPE, SIG_DFL);
		argv[n++] = (char *)program;
		if (config_path != NULL) {
			argv[n++] = (char *)"--config";
			argv[n++] = (char *)config_path;
		}
		for (int i = 0; args[i] != NULL && n < 11; i++)
			argv[n++] = (char *)args[i];
		argv[n] = NULL;
		execv(program, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 1;
}

int relay_kick(const char *program, const char *config_path, const char *queue_id)
{
	const char *args[] = { "--id", queue_id, NULL };
	int r = program_kick(program, config_path, args);

	if (r == 0)
		log_info("queue=%s held in the queue (no relay program%s%s)", queue_id,
			 program != NULL ? " at " : "", program != NULL ? program : "");
	else if (r == 1)
		log_info("queue=%s relay started", queue_id);
	return r;
}

int spam_learn_kick(const char *program, const char *config_path, uint32_t mailbox_id,
		    uint32_t first_uid, uint32_t last_uid, bool spam)
{
	char mailbox[16], uids[32];
	const char *args[] = { "--mailbox", mailbox, "--uids", uids, "--class",
			       spam ? "spam" : "ham", NULL };

	snprintf(mailbox, sizeof(mailbox), "%u", mailbox_id);
	snprintf(uids, sizeof(uids), "%u:%u", first_uid, last_uid);
	int r = program_kick(program, config_path, args);

	if (r == 0)
		log_warning("spam learning: no learner program%s%s", program != NULL ? " at " : "",
			    program != NULL ? program : "");
	return r;
}
