/* spamlearn: teaches the spam checker about messages a user moved into
 * Junk (spam) or out of it (ham), and exits.
 *   spamlearn [--config FILE] --mailbox ID --uids FIRST:LAST --class spam|ham
 * The store starts it detached after the move's durable commit
 * (store/msgcopy.c, program_kick.h), so nothing a user waits for waits for
 * spamd. Each message, up to spam_max_size, goes to `spamd` with
 * SpamAssassin's TELL (spamd --allow-tell); at most SPAMLEARN_MAX a run,
 * one run at a time (learner_turn). Learning is best effort: a message it
 * cannot read is logged and skipped, a spamd that fails ends the run;
 * mail is never touched. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "process.h"
#include "spamc.h"
#include "store.h"

/* Messages taught per run: a user moving a whole folder into Junk teaches
 * the first ones; Bayes needs examples, not every copy of them. */
#define SPAMLEARN_MAX 100
#define SPAMLEARN_ADDRESS_SPACE (1024UL * 1024 * 1024)
#define SPAMLEARN_OPEN_FILES 64

static const struct cli spamlearn_cli = {
	.name = "spamlearn",
	.usage = "Usage: spamlearn [--config FILE] --mailbox ID --uids FIRST:LAST --class spam|ham\n"
		 "Teaches the spam checker (spamd, TELL) that messages FIRST..LAST of mailbox\n"
		 "ID are spam or not, and exits. The store starts it when a user moves mail\n"
		 "into or out of Junk and pillarbox.conf has spam_learn = yes.\n"
		 "  --mailbox ID       the mailbox (its number in the store)\n"
		 "  --uids FIRST:LAST  the messages' UIDs (at most 100 are tried)\n"
		 "  --class spam|ham   what they are\n"
		 "  --config FILE      read FILE instead of the default pillarbox.conf\n"
		 "  --help             show this help and exit\n"
		 "  --version          show the version and exit\n"
		 "Exit status: 0 done (messages may have been skipped: see the log), 64 usage,\n"
		 "75 temporary failure (store), 78 configuration.\n",
};

/* "123" into *r (1..UINT32_MAX); false if not exactly that. */
static bool parse_u32(const char *s, const char *end, uint32_t *r)
{
	uint64_t v = 0;

	if (s == end || end - s > 10)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return false;
	*r = (uint32_t)v;
	return true;
}

/* The message's bytes, up to max (0 too big or gone, -1 error). */
static int message_read(struct store *store, uint32_t mailbox_id, uint32_t uid, uint64_t max,
			char **msg_r, size_t *len_r, const char **error_r)
{
	struct store_msg msg = { .mailbox_id = mailbox_id, .uid = uid };
	struct store_msg_reader *reader = NULL;
	int r = store_msg_open(store, &msg, &reader, error_r);

	if (r <= 0)
		return r;
	uint64_t size = store_msg_reader_size(reader);
	char *buf = size <= max ? malloc(size > 0 ? size : 1) : NULL;
	uint64_t got = 0;

	r = buf != NULL ? 1 : size <= max ? -1 : 0;
	if (buf == NULL && r < 0)
		*error_r = "out of memory";
	while (r == 1 && got < size) {
		ssize_t n = store_msg_read(reader, got, buf + got, size - got);

		if (n <= 0) {
			*error_r = "read failed";
			r = -1;
		} else {
			got += (uint64_t)n;
		}
	}
	store_msg_close(&reader);
	if (r != 1) {
		free(buf);
		return r;
	}
	*msg_r = buf;
	*len_r = (size_t)size;
	return 1;
}

/* Teaches messages first..last: at most SPAMLEARN_MAX tried, and none
 * after spamd fails once (down, hung, TELL not enabled: the next would
 * fail the same way). 0. */
static int learn(struct store *store, const struct config *config, uint32_t mailbox_id,
		 uint32_t first, uint32_t last, bool spam)
{
	const char *class = spam ? "spam" : "ham";
	unsigned learned = 0, unset = 0, skipped = 0, tried = 0;

	for (uint64_t uid = first; uid <= last && !process_stop_requested; uid++) {
		const char *error = NULL;
		char *msg = NULL;
		size_t len = 0;

		if (tried++ == SPAMLEARN_MAX) {
			log_info("mailbox=%u: %s: the first %u tried, the rest left", mailbox_id,
				 class, SPAMLEARN_MAX);
			break;
		}
		int r = message_read(store, mailbox_id, (uint32_t)uid, config->spam_max_size, &msg,
				     &len, &error);
		if (r <= 0) {
			/* gone since, past spam_max_size, or unreadable */
			if (r < 0)
				log_error("mailbox=%u uid=%" PRIu64 ": %s", mailbox_id, uid, error);
			skipped++;
			continue;
		}
		r = spamc_tell(config->spamd, msg, len, spam, &error);
		free(msg);
		if (r < 0) {
			log_warning("mailbox=%u uid=%" PRIu64 ": spamd %s: %s: the run stops",
				    mailbox_id, uid, config->spamd, error);
			skipped++;
			break;
		}
		if (r == 1)
			learned++;
		else
			unset++;
	}
	log_info("mailbox=%u uids=%u:%u class=%s learned=%u unset=%u skipped=%u", mailbox_id, first,
		 last, class, learned, unset, skipped);
	if (unset > 0 && learned == 0)
		log_warning("mailbox=%u: spamd set nothing for any of them: learned already, or its "
			    "Bayes is off or failing (use_bayes, bayes_path)", mailbox_id);
	return 0;
}

/* One learner runs at a time, and one more may wait for it (lock files in
 * the store's notify/, beside its other locks); any other exits at once:
 * a user who moves mail in and out of Junk as fast as IMAP goes starts
 * processes that leave, not hundreds that teach. true: this one may run
 * (the run lock held until it exits). */
static bool learner_turn(const struct config *config)
{
	char path[4096];
	int wait_fd, run_fd;

	snprintf(path, sizeof(path), "%s/notify/spamlearn.wait", config->store);
	wait_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (wait_fd < 0 || flock(wait_fd, LOCK_EX | LOCK_NB) < 0) {
		log_warning("busy: a learner runs and another waits; these are not taught");
		return false;
	}
	snprintf(path, sizeof(path), "%s/notify/spamlearn.lock", config->store);
	run_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (run_fd < 0 || flock(run_fd, LOCK_EX) < 0) {
		log_error("%s: %s", path, strerror(errno));
		return false;
	}
	close(wait_fd); /* the next may wait now; run_fd stays locked until exit */
	return true;
}

int main(int argc, char **argv)
{
	enum { OPT_CONFIG = CLI_OPT_FIRST, OPT_MAILBOX, OPT_UIDS, OPT_CLASS };
	static const struct option options[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "mailbox", required_argument, NULL, OPT_MAILBOX },
		{ "uids", required_argument, NULL, OPT_UIDS },
		{ "class", required_argument, NULL, OPT_CLASS },
		CLI_OPTIONS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const struct process_limits limits = {
		.address_space = SPAMLEARN_ADDRESS_SPACE,
		.open_files = SPAMLEARN_OPEN_FILES,
	};
	const char *config_file = NULL, *mailbox = NULL, *uids = NULL, *class = NULL;
	const char *error = NULL;
	struct config *config = NULL;
	struct store *store = NULL;
	uint32_t mailbox_id = 0, first = 0, last = 0;
	int o, ret;

	while ((o = cli_getopt(&spamlearn_cli, argc, argv, "", options)) != -1) {
		switch (o) {
		case OPT_CONFIG:
			config_file = optarg;
			break;
		case OPT_MAILBOX:
			mailbox = optarg;
			break;
		case OPT_UIDS:
			uids = optarg;
			break;
		case OPT_CLASS:
			class = optarg;
			break;
		}
	}
	if ((ret = cli_no_operands(spamlearn_cli.name, argc, argv)) != 0)
		return ret;
	const char *colon = uids != NULL ? strchr(uids, ':') : NULL;

	if (mailbox == NULL || !parse_u32(mailbox, mailbox + strlen(mailbox), &mailbox_id))
		return cli_usage_error(spamlearn_cli.name, NULL, "--mailbox needs a mailbox number");
	if (colon == NULL || !parse_u32(uids, colon, &first) ||
	    !parse_u32(colon + 1, colon + 1 + strlen(colon + 1), &last) || last < first)
		return cli_usage_error(spamlearn_cli.name, NULL,
				       "--uids needs FIRST:LAST, two UIDs in order");
	if (class == NULL || (strcmp(class, "spam") != 0 && strcmp(class, "ham") != 0))
		return cli_usage_error(spamlearn_cli.name, NULL, "--class is spam or ham");

	log_open("spamlearn");
	if (config_load(config_path(config_file), &config, &error) < 0) {
		log_error("configuration: %s", error);
		fprintf(stderr, "spamlearn: %s\n", error);
		return 78;
	}
	if (config->spamd == NULL) {
		log_error("configuration: no spamd to teach");
		config_free(&config);
		return 78;
	}
	if (process_init(config->user, &limits, false, &error) < 0) {
		log_error("start: %s", error);
		fprintf(stderr, "spamlearn: %s\n", error);
		config_free(&config);
		return 78;
	}
	/* before the store: one waiting learner holds no environment handle */
	if (!learner_turn(config)) {
		config_free(&config);
		return 0;
	}
	if (store_open(config, false, &store, &error) < 0) {
		log_error("store: %s", error);
		config_free(&config);
		return 75;
	}
	ret = learn(store, config, mailbox_id, first, last, strcmp(class, "spam") == 0);
	store_close(&store);
	config_free(&config);
	return ret;
}
