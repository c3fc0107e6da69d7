/* Test helper: reads what smtpd stored, through the store API, so the SMTP
 * tests can compare a delivered message byte for byte and count copies.
 *   smtp_peek CONFIG count ADDRESS...   "ADDRESS<tab>N" for each INBOX
 *   smtp_peek CONFIG dump ADDRESS       every INBOX message: a line
 *                                       "UID SIZE", SIZE bytes, a newline
 * Runs as the store user (switches when started as root). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process.h"
#include "store.h"

struct peek {
	struct store *store;
	int ret;
};

static int peek_inbox(struct store *store, const char *address, uint32_t *id_r)
{
	struct store_user user;
	struct store_mailbox inbox;
	const char *error = NULL;
	int r = store_user_find(store, address, &user, &error);

	if (r > 0)
		r = store_mailbox_find(store, user.id, "INBOX", &inbox, &error);
	if (r <= 0) {
		fprintf(stderr, "smtp_peek: %s: %s\n", address, r < 0 ? error : "no such user");
		return -1;
	}
	*id_r = inbox.id;
	return 0;
}

static int count_cb(const struct store_msg *msg, void *ctx)
{
	(void)msg;
	(*(unsigned long *)ctx)++;
	return 0;
}

static int dump_cb(const struct store_msg *msg, void *ctx)
{
	struct peek *p = ctx;
	struct store_msg_reader *reader;
	const char *error = NULL;
	char buf[65536];
	uint64_t off = 0, size;

	if (store_msg_open(p->store, msg, &reader, &error) <= 0) {
		fprintf(stderr, "smtp_peek: uid %u: %s\n", msg->uid, error);
		p->ret = 75;
		return 1;
	}
	size = store_msg_reader_size(reader);
	printf("%u %llu\n", msg->uid, (unsigned long long)size);
	while (off < size) {
		ssize_t n = store_msg_read(reader, off, buf, sizeof(buf));

		if (n <= 0) {
			fprintf(stderr, "smtp_peek: uid %u: short read\n", msg->uid);
			p->ret = 75;
			break;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		off += (uint64_t)n;
	}
	putchar('\n');
	store_msg_close(&reader);
	return p->ret != 0;
}

int main(int argc, char **argv)
{
	struct config *config = NULL;
	struct peek p = { NULL, 0 };
	const char *error = NULL;
	uint32_t inbox;

	if (argc < 4 || (strcmp(argv[2], "count") != 0 && strcmp(argv[2], "dump") != 0) ||
	    (strcmp(argv[2], "dump") == 0 && argc != 4)) {
		fprintf(stderr, "usage: smtp_peek CONFIG count ADDRESS... | dump ADDRESS\n");
		return 64;
	}
	if (config_load(argv[1], &config, &error) < 0 ||
	    process_init(config->user, &(struct process_limits){ 0, 0 }, true, &error) < 0 ||
	    store_open(config, false, &p.store, &error) < 0) {
		fprintf(stderr, "smtp_peek: %s\n", error);
		return 75;
	}
	for (int i = 3; i < argc && p.ret == 0; i++) {
		unsigned long n = 0;

		if (peek_inbox(p.store, argv[i], &inbox) < 0) {
			p.ret = 67;
			break;
		}
		if (strcmp(argv[2], "count") == 0) {
			if (store_msg_list(p.store, inbox, 1, UINT32_MAX, count_cb, &n, &error) < 0) {
				fprintf(stderr, "smtp_peek: %s\n", error);
				p.ret = 75;
			}
			printf("%s\t%lu\n", argv[i], n);
		} else if (store_msg_list(p.store, inbox, 1, UINT32_MAX, dump_cb, &p, &error) < 0) {
			fprintf(stderr, "smtp_peek: %s\n", error);
			p.ret = 75;
		}
	}
	fflush(stdout);
	store_close(&p.store);
	config_free(&config);
	return p.ret;
}
