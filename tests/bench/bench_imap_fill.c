/* bench_imap_fill: fills a user's mailbox with N messages straight through
 * the store API (one shared body per subject, so 100,000 messages take
 * minutes, not hours of `pillarbox deliver`), for tests/bench/bench_imap.py.
 *
 *   bench_imap_fill CONFIG ADDRESS MAILBOX N
 *
 * Every 10th message is unseen; subjects cycle through ten words, one of
 * them "xylophone" (what the benchmark's SEARCH SUBJECT looks for). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "process.h"
#include "store.h"

#define FILL_BODIES 10

int main(int argc, char **argv)
{
	static const char *const words[FILL_BODIES] = {
		"apple", "banana", "cherry", "date", "elder", "fig", "grape", "xylophone",
		"kiwi", "lemon",
	};
	struct store_body *bodies[FILL_BODIES];
	struct config *config = NULL;
	struct store *store = NULL;
	struct store_user user;
	struct store_mailbox mb;
	const char *error = NULL;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_imap_fill CONFIG ADDRESS MAILBOX N\n");
		return 64;
	}
	long n = atol(argv[4]);
	log_open("bench_imap_fill");
	if (config_load(argv[1], &config, &error) < 0 ||
	    process_init(config->user, NULL, true, &error) < 0 ||
	    store_open(config, false, &store, &error) < 0) {
		fprintf(stderr, "bench_imap_fill: %s\n", error);
		return 75;
	}
	if (store_user_find(store, argv[2], &user, &error) != 1 ||
	    store_mailbox_find(store, user.id, argv[3], &mb, &error) != 1) {
		fprintf(stderr, "bench_imap_fill: %s: %s\n", argv[2], error ? error : "not found");
		return 1;
	}
	for (int i = 0; i < FILL_BODIES; i++) {
		char text[1024];
		int len = snprintf(text, sizeof(text),
				   "From: Sender %d <sender%d@example.org>\r\nTo: %s\r\n"
				   "Subject: %s report\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
				   "Message-ID: <%d.%ld@bench>\r\nMIME-Version: 1.0\r\n"
				   "Content-Type: text/plain; charset=utf-8\r\n\r\n"
				   "The %s report body.\r\nSecond line.\r\n",
				   i, i, argv[2], words[i], i, (long)time(NULL), words[i]);
		if (store_body_from_buffer(store, text, (size_t)len, &bodies[i], &error) <= 0) {
			fprintf(stderr, "bench_imap_fill: body: %s\n", error);
			return 1;
		}
	}
	for (long i = 0; i < n; i++) {
		uint32_t uid;
		uint32_t flags = i % 10 == 9 ? 0 : STORE_FLAG_SEEN;
		if (store_msg_append(store, mb.id, bodies[i % FILL_BODIES], flags, NULL, 0,
				     time(NULL) - (n - i) * 60, 0, NULL, 0, &uid, &error) != 1) {
			fprintf(stderr, "bench_imap_fill: append %ld: %s\n", i, error);
			return 1;
		}
	}
	for (int i = 0; i < FILL_BODIES; i++)
		store_body_free(&bodies[i]);
	store_close(&store);
	config_free(&config);
	return 0;
}
