/* Starting the relay for one queue entry (relay_kick.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* close_range */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "relay_kick.h"

int relay_kick(const char *program, const char *config_path, const char *queue_id)
{
	pid_t pid;
	int status;

	if (program == NULL || access(program, X_OK) != 0) {
		log_info("queue=%s held in the queue (no relay program%s%s)", queue_id,
			 program != NULL ? " at " : "", program != NULL ? program : "");
		return 0;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* The first child: its own session, then the grandchild runs
		 * the relay and the child leaves at once, so the relay is
		 * nobody's child here and outlives this process. Only _exit
		 * from here on: exit() would run our atexit handlers (the
		 * store's) in a copy of this process. */
		char *argv[8];
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
		/* Nothing of ours goes to the relay: the client socket is
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
		argv[n++] = (char *)"--id";
		argv[n++] = (char *)queue_id;
		argv[n] = NULL;
		execv(program, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	log_info("queue=%s relay started", queue_id);
	return 1;
}
