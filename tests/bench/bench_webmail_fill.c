/* Fills a user's INBOX with N messages quickly, for the webmail benchmark:
 * 1000 distinct messages are appended to a scratch folder "Bench", then
 * copied into INBOX (bodies shared, one transaction per 1000) until N.
 *   bench_webmail_fill CONFIG ADDRESS N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "process.h"
#include "store.h"

#define DISTINCT 1000

int main(int argc, char **argv)
{
	const char *error;
	struct config *config;
	struct store *store;
	struct store_user user;
	struct store_mailbox inbox, bench;
	if (argc != 4) {
		fprintf(stderr, "usage: bench_webmail_fill CONFIG ADDRESS N\n");
		return 64;
	}
	long n = strtol(argv[3], NULL, 10);
	if (config_load(argv[1], &config, &error) < 0 ||
	    process_init(config->user, NULL, true, &error) < 0 ||
	    store_open(config, false, &store, &error) < 0) {
		fprintf(stderr, "bench_webmail_fill: %s\n", error);
		return 1;
	}
	uint32_t bench_id;
	if (store_user_find(store, argv[2], &user, &error) != 1 ||
	    store_mailbox_find(store, user.id, "INBOX", &inbox, &error) != 1 ||
	    store_mailbox_create(store, user.id, "Bench", 0, &bench_id, &error) < 0 ||
	    store_mailbox_find(store, user.id, "Bench", &bench, &error) != 1) {
		fprintf(stderr, "bench_webmail_fill: %s\n", error);
		return 1;
	}
	static const char *const names[] = { "Alice", "Bob", "Carol", "Dave", "Eve", "Frank",
					     "Grace", "Heidi", "Ivan", "Judy" };
	uint32_t *uids = calloc(DISTINCT, sizeof(*uids)), *new_uids = calloc(DISTINCT, sizeof(*uids));
	char msg[2048];
	for (int i = 0; i < DISTINCT; i++) {
		struct store_body *body;
		int len = snprintf(msg, sizeof(msg),
				   "From: %s <%s%d@example.net>\r\nTo: bench@example.com\r\n"
				   "Subject: Benchmark message %04d about topic %d\r\n"
				   "Date: Mon, %d Jan 2024 %02d:%02d:00 +0000\r\n"
				   "Message-ID: <bench%d@example.net>\r\n\r\n"
				   "Body of benchmark message %d.\r\n%.*s\r\n",
				   names[i % 10], names[i % 10], i, i, i % 97, 1 + i % 28, i % 24,
				   i % 60, i, i, i % 1000, "Lorem ipsum dolor sit amet, consectetur "
				   "adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
				   "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco "
				   "laboris nisi ut aliquip ex ea commodo consequat.");
		if (store_body_from_buffer(store, msg, (size_t)len, &body, &error) != 1 ||
		    store_msg_append(store, bench.id, body, i % 3 == 0 ? STORE_FLAG_SEEN : 0, NULL, 0,
				     (int64_t)time(NULL), 0, NULL, 0, &uids[i], &error) != 1) {
			fprintf(stderr, "bench_webmail_fill: append: %s\n", error);
			return 1;
		}
		store_body_free(&body);
	}
	for (long done = 0; done < n; done += DISTINCT) {
		size_t k = n - done < DISTINCT ? (size_t)(n - done) : DISTINCT;
		if (store_msg_copy(store, bench.id, uids, k, inbox.id, false, new_uids, &error) <= 0) {
			fprintf(stderr, "bench_webmail_fill: copy: %s\n", error);
			return 1;
		}
	}
	free(uids);
	free(new_uids);
	store_close(&store);
	config_free(&config);
	printf("%ld messages in %s's INBOX\n", n, argv[2]);
	return 0;
}
