/* storetool: drives the store from the multi-process tests (tests/store/)
 * and the benchmark (tests/bench/bench_store.sh). One subcommand per job;
 * every one loads the configuration, becomes the store user (process_init)
 * and installs the watchdog handler before it touches the store.
 *
 *   init     --config F --domain D --user A [--user B ...] [--password P]
 *   deliver  --config F --to A --count N --tag T [--size B] [--quiet]
 *            [--timing] [--report-open] [--announce] [--reuse-body]
 *            prints "ok T-i" (flushed) after each acknowledged delivery
 *   read     --config F --user A --seconds S [--until-count N] [--gapless]
 *   verify   --config F --user A --acked FILE [--size B] [--expect N]
 *            [--gapless]
 *   hold     --config F --user A --seconds S   (locks INBOX's state record)
 *   panic    --config F --seconds S [--hold-registry]
 *            (marks the environment panicked, as another process's recovery
 *            does, then lives S seconds; --hold-registry: holding the
 *            registry's lock meanwhile, as that recovery does)
 *   open     --config F                        (times store_open)
 *   status   --config F --user A [--password P] [--timing]
 *            (one login + INBOX status; --timing prints the phases)
 *   hashtime --config F --user A --password P --runs N
 *   bodies   --config F --count N [--size B]   (body files alone, timed)
 *   maintain --config F --orphan-age N
 *   check    --config F
 *   orphans  --config F                        (body files without a record)
 *   holdfile --config F --file NAME --seconds S (a database file of any format held
 *            open: store upgrade must give up, not wait)
 *   setformat --config F --version N           (writes the format record and
 *            env/FORMAT, as a Pillarbox of that version would)
 *   damage   --config F --user A --record R [--mailbox M]
 *            damages exactly one record, for `store check` to find: R is
 *            usage (the user's quota.db record counts one message more),
 *            address (the user's address entry in accounts.db goes), stray-address
 *            (stray@ the user's domain points to a user that does not exist),
 *            user (the user's record in accounts.db goes), mailbox-name, mailbox-info,
 *            mailbox-state (M's record in mailboxes.db, mailbox_info.db,
 *            mboxstate.db goes; M defaults to Junk), domain (the domain's
 *            record counts one user more)
 *   stats    --config F [--env-only]           (store_stats; --env-only: log,
 *            transaction and lock figures without walking every database)
 *   legacy   --config F --domain D
 *            keys domain D (an IDN, stored in A-labels) with its users and
 *            aliases in U-labels, as a version before IDNA stored it, for
 *            `store check` and `domain migrate` to find
 *
 * Exit status: 0 done, 1 a check failed, 2 usage, 75 temporary store error.
 * It includes store internals (store_int.h, mailbox.h, body.h): it is a test
 * program, not a client of the public API. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account_int.h"
#include "body.h"
#include "config.h"
#include "log.h"
#include "mailbox.h"
#include "password.h"
#include "process.h"
#include "store.h"
#include "store_int.h"

/* Berkeley DB's own (not in db.h): sets or clears the region's panic mark. */
int __env_panic_set(ENV *env, int on);

#define EXIT_CHECK 1
#define EXIT_USAGE 2
#define EXIT_TEMPFAIL 75

#define TOOL_USERS_MAX 64
#define TOOL_TAG_MAX 64
#define TOOL_SIZE_DEFAULT 5120
#define TOOL_SIZE_MAX (1024 * 1024)
#define TOOL_RUNS_MAX 100000
#define MSGID_DOMAIN "storetool.pillarbox.test"

struct opts {
	const char *config_path;
	const char *to;
	const char *user;
	const char *users[TOOL_USERS_MAX];
	size_t nusers;
	const char *domain;
	const char *password;
	const char *tag;
	const char *acked;
	const char *record;
	const char *mailbox;
	const char *file;
	unsigned long count;
	unsigned long until_count;
	unsigned long expect;
	unsigned long size;
	unsigned long runs;
	unsigned long orphan_age;
	unsigned long version;
	double seconds;
	bool gapless, quiet, timing, report_open, announce, reuse_body, env_only, hold_registry;
};

static struct config *config;
static struct store *store;
static uint64_t main_ns;       /* when main() began, for `status --timing` */

static void die(int code, const char *what, const char *error)
	__attribute__((noreturn));
static void die(int code, const char *what, const char *error)
{
	fprintf(stderr, "storetool: %s%s%s\n", what, error != NULL ? ": " : "",
		error != NULL ? error : "");
	store_close(&store);
	config_free(&config);
	exit(code);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long parse_ulong(const char *s, const char *name, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-')
		die(EXIT_USAGE, name, "bad number");
	return v;
}

static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* With --report-open prints "open_ms WALL cpu_ms CPU" for store_open. */
static void open_store(const struct opts *o)
{
	const char *error;
	double c0 = cpu_ms();
	uint64_t t0 = now_ns();
	if (store_open(config, false, &store, &error) < 0)
		die(EXIT_TEMPFAIL, "opening the store", error);
	if (o->report_open) {
		printf("open_ms %.3f cpu_ms %.3f\n", (double)(now_ns() - t0) / 1e6, cpu_ms() - c0);
		fflush(stdout);
	}
}

static uint32_t user_id_of(const char *address)
{
	struct store_user user;
	const char *error = NULL;
	int r = store_user_find(store, address, &user, &error);
	if (r < 0)
		die(EXIT_TEMPFAIL, address, error);
	if (r == 0)
		die(EXIT_CHECK, address, "no such user");
	return user.id;
}

static void inbox_of(uint32_t user_id, struct store_mailbox *mb)
{
	const char *error = NULL;
	int r = store_mailbox_find(store, user_id, "INBOX", mb, &error);
	if (r < 0)
		die(EXIT_TEMPFAIL, "store_mailbox_find INBOX", error);
	if (r == 0)
		die(EXIT_CHECK, "store_mailbox_find INBOX", "no INBOX");
}

/* ---- messages: a deterministic function of (tag, size) ---- */

/* Fills buf (cap >= size + 512) with the message for `tag`, CRLF line ends,
 * `size` bytes give or take a line. Returns its length. */
static size_t message_make(char *buf, size_t cap, const char *tag, const char *to, size_t size)
{
	int n = snprintf(buf, cap,
			 "Message-ID: <%s@" MSGID_DOMAIN ">\r\n"
			 "From: storetool <storetool@" MSGID_DOMAIN ">\r\n"
			 "To: <%s>\r\n"
			 "Subject: storetool %s\r\n"
			 "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
			 "\r\n", tag, to, tag);
	size_t len = n > 0 ? (size_t)n : 0;
	for (unsigned line = 0; len + 80 + 16 + TOOL_TAG_MAX < size; line++) {
		n = snprintf(buf + len, cap - len,
			     "%s line %05u abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV\r\n",
			     tag, line);
		len += (size_t)n;
	}
	n = snprintf(buf + len, cap - len, "END %s\r\n", tag);
	return len + (size_t)n;
}

/* The tag from a message's header block, or "" if it has no storetool id. */
static void message_tag(const char *data, size_t len, char tag[TOOL_TAG_MAX + 1])
{
	static const char key[] = "Message-ID: <";
	tag[0] = '\0';
	for (size_t i = 0; i + sizeof(key) - 1 < len; i++) {
		if (memcmp(data + i, key, sizeof(key) - 1) != 0)
			continue;
		if (i > 0 && data[i - 1] != '\n')
			continue;
		const char *p = data + i + sizeof(key) - 1;
		const char *end = memchr(p, '@', len - (size_t)(p - data));
		if (end == NULL || end - p > TOOL_TAG_MAX)
			return;
		memcpy(tag, p, (size_t)(end - p));
		tag[end - p] = '\0';
		return;
	}
}

/* ---- init ---- */

static int cmd_init(const struct opts *o)
{
	const char *error;
	if (o->domain == NULL || o->nusers == 0)
		die(EXIT_USAGE, "init", "needs --domain and --user");
	if (store_init(config, &error) < 0)
		die(EXIT_CHECK, "store_init", error);
	open_store(o);
	if (store_domain_add(store, o->domain, &error) < 0)
		die(EXIT_TEMPFAIL, "store_domain_add", error);
	for (size_t i = 0; i < o->nusers; i++) {
		int r = store_user_add(store, o->users[i], o->password ? o->password : "secret",
				       NULL, &error);
		if (r <= 0)
			die(r < 0 ? EXIT_TEMPFAIL : EXIT_CHECK, o->users[i], error);
	}
	store_close(&store);
	return 0;
}

/* ---- deliver ---- */

static int cmd_deliver(const struct opts *o)
{
	const char *error;
	if (o->to == NULL || o->tag == NULL || strlen(o->tag) > TOOL_TAG_MAX - 12)
		die(EXIT_USAGE, "deliver", "needs --to and --tag (short)");
	size_t cap = o->size + 512;
	char *buf = malloc(cap);
	if (buf == NULL)
		die(EXIT_TEMPFAIL, "out of memory", NULL);
	open_store(o);
	if (o->announce) {
		printf("opened %d\n", (int)getpid());
		fflush(stdout);
	}
	const char *rcpt[1] = { o->to };
	struct store_body *body = NULL;
	char tag[TOOL_TAG_MAX + 1];
	unsigned long done = 0;
	uint64_t t0 = now_ns();
	for (unsigned long i = 1; i <= o->count && !process_stop_requested; i++) {
		snprintf(tag, sizeof(tag), "%s-%lu", o->tag, i);
		if (body == NULL) {
			size_t len = message_make(buf, cap, tag, o->to, o->size);
			int r = store_body_from_buffer(store, buf, len, &body, &error);
			if (r <= 0)
				die(r < 0 ? EXIT_TEMPFAIL : EXIT_CHECK, "store_body_from_buffer", error);
		}
		struct store_delivery d = {
			.sender = "storetool@" MSGID_DOMAIN, .recipients = rcpt, .nrecipients = 1,
			.body = body, .internaldate = 0, .add_prefix = true,
		};
		bool queued;
		char queue_id[33];
		int r = store_deliver(store, &d, &queued, queue_id, &error);
		if (r <= 0) {
			free(buf);
			store_body_free(&body);
			die(r < 0 ? EXIT_TEMPFAIL : EXIT_CHECK, tag, error);
		}
		/* The line is the proof of an acknowledged commit. */
		if (!o->quiet) {
			printf("ok %s\n", tag);
			fflush(stdout);
		}
		done++;
		if (!o->reuse_body)
			store_body_free(&body);
	}
	uint64_t t1 = now_ns();
	store_body_free(&body);
	free(buf);
	if (o->timing)
		printf("timing %llu %llu %lu\n", (unsigned long long)t0, (unsigned long long)t1, done);
	store_close(&store);
	return 0;
}

/* ---- bodies alone (benchmark) ---- */

static int cmd_bodies(const struct opts *o)
{
	const char *error;
	size_t cap = o->size + 512;
	char *buf = malloc(cap);
	if (buf == NULL)
		die(EXIT_TEMPFAIL, "out of memory", NULL);
	open_store(o);
	size_t len = message_make(buf, cap, "bodies-1", "nobody@" MSGID_DOMAIN, o->size);
	uint64_t t0 = now_ns();
	for (unsigned long i = 0; i < o->count; i++) {
		struct store_body *body;
		if (store_body_from_buffer(store, buf, len, &body, &error) <= 0)
			die(EXIT_TEMPFAIL, "store_body_from_buffer", error);
		store_body_free(&body);
	}
	uint64_t t1 = now_ns();
	free(buf);
	printf("timing %llu %llu %lu\n", (unsigned long long)t0, (unsigned long long)t1, o->count);
	store_close(&store);
	return 0;
}

/* ---- read: the reader loop ---- */

struct scan {
	uint32_t prev;
	unsigned long n;
	bool gapless;
	char problem[200];
};

static int scan_cb(const struct store_msg *msg, void *ctx)
{
	struct scan *s = ctx;
	if (msg->uid <= s->prev)
		snprintf(s->problem, sizeof(s->problem), "UID %u after %u: not ascending",
			 msg->uid, s->prev);
	else if (s->gapless && msg->uid != s->prev + 1)
		snprintf(s->problem, sizeof(s->problem), "UID %u after %u: a gap", msg->uid, s->prev);
	s->prev = msg->uid;
	s->n++;
	return s->problem[0] != '\0';
}

static int cmd_read(const struct opts *o)
{
	const char *error = NULL;
	if (o->user == NULL || o->seconds <= 0)
		die(EXIT_USAGE, "read", "needs --user and --seconds");
	open_store(o);
	uint32_t user_id = user_id_of(o->user);
	uint64_t deadline = now_ns() + (uint64_t)(o->seconds * 1e9);
	unsigned long iterations = 0, last = 0;
	while (!process_stop_requested && now_ns() < deadline) {
		struct store_mailbox mb;
		inbox_of(user_id, &mb);
		struct scan s = { .gapless = o->gapless };
		int r = store_msg_list(store, mb.id, 1, UINT32_MAX, scan_cb, &s, &error);
		if (r < 0)
			die(EXIT_TEMPFAIL, "store_msg_list", error);
		if (s.problem[0] != '\0')
			die(EXIT_CHECK, "read", s.problem);
		/* The state was read first and messages only arrive: the list
		 * (a later snapshot) cannot have fewer. */
		if (s.n < mb.exists) {
			snprintf(s.problem, sizeof(s.problem), "list has %lu messages, state said %u",
				 s.n, mb.exists);
			die(EXIT_CHECK, "read", s.problem);
		}
		if (s.n < last) {
			snprintf(s.problem, sizeof(s.problem), "list shrank from %lu to %lu", last, s.n);
			die(EXIT_CHECK, "read", s.problem);
		}
		last = s.n;
		iterations++;
		if (o->until_count > 0 && s.n >= o->until_count)
			break;
	}
	printf("read: %lu scans, last saw %lu messages\n", iterations, last);
	store_close(&store);
	return 0;
}

/* ---- verify ---- */

struct tagged {
	char tag[TOOL_TAG_MAX + 1];
	uint32_t uid;
};

struct verify_ctx {
	struct tagged *msgs;
	size_t n, cap;
	uint32_t prev;
	bool gapless;
	char problem[300];
	struct store_msg *list;   /* collected, then read outside the snapshot */
	size_t nlist, caplist;
};

static int collect_cb(const struct store_msg *msg, void *ctx)
{
	struct verify_ctx *v = ctx;
	if (v->nlist == v->caplist) {
		size_t cap = v->caplist ? v->caplist * 2 : 1024;
		struct store_msg *p = reallocarray(v->list, cap, sizeof(*p));
		if (p == NULL) {
			snprintf(v->problem, sizeof(v->problem), "out of memory");
			return 1;
		}
		v->list = p;
		v->caplist = cap;
	}
	v->list[v->nlist++] = *msg;
	return 0;
}

static int tagged_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tagged *)a)->tag, ((const struct tagged *)b)->tag);
}

/* Reads the whole message and compares it with what `deliver` made. */
static void verify_message(const struct opts *o, const struct store_msg *msg, char *expect,
			   size_t cap, struct tagged *out, char *problem, size_t psize)
{
	struct store_msg_reader *reader;
	const char *error = NULL;
	int r = store_msg_open(store, msg, &reader, &error);
	if (r < 0)
		die(EXIT_TEMPFAIL, "store_msg_open", error);
	if (r == 0) {
		snprintf(problem, psize, "UID %u: listed but cannot be opened (%s)", msg->uid,
			 error ? error : "gone");
		return;
	}
	uint64_t size = store_msg_reader_size(reader);
	uint16_t plen = store_msg_prefix_len(reader);
	char *data = malloc(size + 1);
	if (data == NULL)
		die(EXIT_TEMPFAIL, "out of memory", NULL);
	uint64_t off = 0;
	while (off < size) {
		ssize_t n = store_msg_read(reader, off, data + off, size - off);
		if (n <= 0)
			break;
		off += (uint64_t)n;
	}
	store_msg_close(&reader);
	out->uid = msg->uid;
	message_tag(data + plen, off > plen ? off - plen : 0, out->tag);
	if (off != size) {
		snprintf(problem, psize, "UID %u: read %llu of %llu bytes", msg->uid,
			 (unsigned long long)off, (unsigned long long)size);
	} else if (out->tag[0] == '\0') {
		snprintf(problem, psize, "UID %u: no storetool Message-ID", msg->uid);
	} else {
		size_t len = message_make(expect, cap, out->tag, o->to ? o->to : o->user, o->size);
		if (size - plen != len || memcmp(data + plen, expect, len) != 0)
			snprintf(problem, psize, "UID %u (%s): body differs from what was delivered "
				 "(%llu bytes, expected %zu)", msg->uid, out->tag,
				 (unsigned long long)(size - plen), len);
	}
	free(data);
}

static char **acked_load(const char *path, size_t *n_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die(EXIT_USAGE, path, strerror(errno));
	char **tags = NULL, line[256];
	size_t n = 0, cap = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "ok ", 3) != 0)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			char **p = reallocarray(tags, cap, sizeof(*p));
			if (p == NULL)
				die(EXIT_TEMPFAIL, "out of memory", NULL);
			tags = p;
		}
		if ((tags[n++] = strdup(line + 3)) == NULL)
			die(EXIT_TEMPFAIL, "out of memory", NULL);
	}
	fclose(f);
	*n_r = n;
	return tags;
}

static int cmd_verify(const struct opts *o)
{
	const char *error = NULL;
	if (o->user == NULL || o->acked == NULL)
		die(EXIT_USAGE, "verify", "needs --user and --acked");
	size_t nacked;
	char **acked = acked_load(o->acked, &nacked);
	open_store(o);
	uint32_t user_id = user_id_of(o->user);
	struct store_mailbox mb;
	inbox_of(user_id, &mb);
	struct verify_ctx v = { .gapless = o->gapless };
	if (store_msg_list(store, mb.id, 1, UINT32_MAX, collect_cb, &v, &error) < 0)
		die(EXIT_TEMPFAIL, "store_msg_list", error);
	if (v.problem[0] != '\0')
		die(EXIT_TEMPFAIL, v.problem, NULL);
	unsigned problems = 0;
#define PROBLEM(...) do { fprintf(stderr, "verify: " __VA_ARGS__); fputc('\n', stderr); \
		problems++; } while (0)
	v.msgs = calloc(v.nlist + 1, sizeof(*v.msgs));
	size_t cap = o->size + 512;
	char *expect = malloc(cap);
	if (v.msgs == NULL || expect == NULL)
		die(EXIT_TEMPFAIL, "out of memory", NULL);
	uint32_t prev = 0;
	for (size_t i = 0; i < v.nlist; i++) {
		const struct store_msg *m = &v.list[i];
		if (m->uid <= prev)
			PROBLEM("UID %u after %u: not ascending", m->uid, prev);
		else if (o->gapless && m->uid != prev + 1)
			PROBLEM("UID %u after %u: a gap", m->uid, prev);
		prev = m->uid;
		char problem[300] = "";
		verify_message(o, m, expect, cap, &v.msgs[v.n++], problem, sizeof(problem));
		if (problem[0] != '\0')
			PROBLEM("%s", problem);
	}
	/* The state record agrees with the messages. */
	if (mb.exists != v.nlist)
		PROBLEM("INBOX state says %u messages, %zu listed", mb.exists, v.nlist);
	if (mb.uidnext != prev + 1)
		PROBLEM("INBOX UIDNEXT %u, highest UID %u", mb.uidnext, prev);
	if (o->expect > 0 && v.nlist != o->expect)
		PROBLEM("%zu messages, expected %lu", v.nlist, o->expect);
	/* Each message once. */
	qsort(v.msgs, v.n, sizeof(*v.msgs), tagged_cmp);
	for (size_t i = 1; i < v.n; i++)
		if (v.msgs[i].tag[0] != '\0' && strcmp(v.msgs[i].tag, v.msgs[i - 1].tag) == 0)
			PROBLEM("%s is present twice (UIDs %u and %u)", v.msgs[i].tag,
				v.msgs[i - 1].uid, v.msgs[i].uid);
	/* Every acknowledged one present. */
	size_t missing = 0;
	for (size_t i = 0; i < nacked; i++) {
		struct tagged key;
		snprintf(key.tag, sizeof(key.tag), "%s", acked[i]);
		if (bsearch(&key, v.msgs, v.n, sizeof(*v.msgs), tagged_cmp) == NULL) {
			if (missing++ < 20)
				PROBLEM("acknowledged %s is missing", acked[i]);
			else
				problems++;
		}
	}
	printf("verify: %zu messages, UIDs 1..%u, %zu acknowledged, %zu present without an "
	       "acknowledgement, %zu acknowledged missing, %u problems\n", v.nlist, prev, nacked,
	       v.nlist >= nacked - missing ? v.nlist - (nacked - missing) : 0, missing, problems);
	for (size_t i = 0; i < nacked; i++)
		free(acked[i]);
	free(acked);
	free(expect);
	free(v.msgs);
	free(v.list);
	store_close(&store);
	return problems == 0 ? 0 : EXIT_CHECK;
}

/* ---- hold: a writer that sits on INBOX's state record ---- */

struct hold_ctx {
	uint32_t user_id;
	double seconds;
};

static int hold_txn(struct store *st, DB_TXN *txn, void *ctx)
{
	struct hold_ctx *h = ctx;
	uint32_t inbox;
	struct mboxstate state;
	int r = mailbox_inbox_id_txn(st, txn, h->user_id, &inbox);
	if (r <= 0)
		return r < 0 ? r : store_err(st, "no INBOX");
	r = mboxstate_get(st, txn, inbox, &state, true);
	if (r <= 0)
		return r < 0 ? r : store_err(st, "no INBOX state");
	printf("held %u\n", inbox);
	fflush(stdout);
	uint64_t until = now_ns() + (uint64_t)(h->seconds * 1e9);
	while (!process_stop_requested && now_ns() < until) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return 1;
}

static int cmd_hold(const struct opts *o)
{
	const char *error = NULL;
	if (o->user == NULL || o->seconds <= 0)
		die(EXIT_USAGE, "hold", "needs --user and --seconds");
	open_store(o);
	if (o->announce) {
		printf("opened %d\n", (int)getpid());
		fflush(stdout);
	}
	struct hold_ctx h = { user_id_of(o->user), o->seconds };
	if (store_write(store, false, hold_txn, &h, &error) < 0)
		die(EXIT_TEMPFAIL, "hold", error);
	printf("released\n");
	store_close(&store);
	return 0;
}

/* A database file of any format held open, as a process of an older
 * Pillarbox would (for `store upgrade`, which must not wait for it). */
static int cmd_holdfile(const struct opts *o)
{
	const char *error = NULL;
	DB *db;
	if (o->file == NULL || o->seconds <= 0)
		die(EXIT_USAGE, "holdfile", "needs --file and --seconds");
	if (store_open_upgrading(config, &store, &error) < 0)
		die(EXIT_TEMPFAIL, "opening the store", error);
	int ret = db_create(&db, store->env, 0);
	if (ret == 0)
		ret = db->open(db, NULL, o->file, NULL, DB_UNKNOWN,
			       DB_AUTO_COMMIT | DB_RDONLY | DB_MULTIVERSION, 0);
	if (ret != 0)
		die(EXIT_TEMPFAIL, o->file, db_strerror(ret));
	printf("held %s\n", o->file);
	fflush(stdout);
	struct timespec ts = { (time_t)o->seconds, (long)((o->seconds - (time_t)o->seconds) * 1e9) };
	nanosleep(&ts, NULL);
	db->close(db, 0);
	store_close(&store);
	printf("released\n");
	return 0;
}

static int cmd_panic(const struct opts *o)
{
	if (o->seconds <= 0)
		die(EXIT_USAGE, "panic", "needs --seconds");
	open_store(o);
	/* As a recovering process marks the old environment: the flag alone,
	 * no event here (DB_PANIC_ENVIRONMENT would end this process too). */
	__env_panic_set(store->env->env, 1);
	if (o->hold_registry) {
		/* byte 1, BDB's exclusive lock; the descriptor stays open (closing
		 * it would drop this process's other locks on the file) */
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
		if (store->registry_fd < 0 || fcntl(store->registry_fd, F_SETLKW, &fl) < 0)
			die(EXIT_TEMPFAIL, "panic", "cannot lock the registry");
	}
	printf("panicked\n");
	fflush(stdout);
	struct timespec ts = { (time_t)o->seconds, (long)((o->seconds - (time_t)o->seconds) * 1e9) };
	nanosleep(&ts, NULL);
	_exit(0);     /* as a crash: the handles of a panicked environment stay */
}

/* ---- open, status, hash time ---- */

static int cmd_open(const struct opts *o)
{
	struct opts copy = *o;
	copy.report_open = true;
	open_store(&copy);
	store_close(&store);
	return 0;
}

static int cmd_status(const struct opts *o)
{
	const char *error = NULL;
	if (o->user == NULL)
		die(EXIT_USAGE, "status", "needs --user");
	uint64_t t0 = now_ns();
	open_store(o);
	uint64_t t1 = now_ns();
	uint32_t user_id;
	if (o->password != NULL) {
		struct store_user user;
		enum store_auth_result r = store_auth_login(store, o->user, o->password, NULL,
							    &user, &error);
		if (r != STORE_AUTH_OK)
			die(r == STORE_AUTH_TEMPFAIL ? EXIT_TEMPFAIL : EXIT_CHECK, "login", error);
		user_id = user.id;
	} else {
		user_id = user_id_of(o->user);
	}
	struct store_mailbox mb;
	inbox_of(user_id, &mb);
	if (!o->quiet)
		printf("INBOX %u messages %u unseen uidnext %u\n", mb.exists, mb.unseen, mb.uidnext);
	uint64_t t2 = now_ns();
	store_close(&store);
	uint64_t t3 = now_ns();
	if (o->timing)
		printf("phases start_ms %.3f open_ms %.3f work_ms %.3f close_ms %.3f\n",
		       (double)(t0 - main_ns) / 1e6, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6,
		       (double)(t3 - t2) / 1e6);
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), u64_cmp);
	return (double)v[n / 2] / 1e6;
}

static int cmd_hashtime(const struct opts *o)
{
	const char *error = NULL;
	if (o->user == NULL || o->password == NULL || o->runs == 0)
		die(EXIT_USAGE, "hashtime", "needs --user, --password and --runs");
	char hash[PASSWORD_HASH_MAX];
	if (password_hash(o->password, config->password_cost, hash, &error) < 0)
		die(EXIT_TEMPFAIL, "password_hash", error);
	uint64_t *t = calloc(o->runs, sizeof(*t));
	if (t == NULL)
		die(EXIT_TEMPFAIL, "out of memory", NULL);
	for (unsigned long i = 0; i < o->runs; i++) {
		uint64_t t0 = now_ns();
		if (password_verify(o->password, hash) != 1)
			die(EXIT_CHECK, "password_verify", "does not match its own hash");
		t[i] = now_ns() - t0;
	}
	printf("hash_verify_ms %.3f\n", median_ms(t, o->runs));
	open_store(o);
	for (unsigned long i = 0; i < o->runs; i++) {
		struct store_user user;
		uint64_t t0 = now_ns();
		if (store_auth_login(store, o->user, o->password, NULL, &user, &error) != STORE_AUTH_OK)
			die(EXIT_CHECK, "store_auth_login", error);
		t[i] = now_ns() - t0;
	}
	printf("auth_login_ms %.3f\n", median_ms(t, o->runs));
	free(t);
	store_close(&store);
	return 0;
}

/* ---- maintenance, check, orphans, format ---- */

static int cmd_maintain(const struct opts *o)
{
	const char *error = NULL;
	open_store(o);
	int r = store_maintain(store, (unsigned)o->orphan_age, &error);
	if (r < 0)
		die(EXIT_TEMPFAIL, "store_maintain", error);
	printf("maintain: %d removed or expired\n", r);
	store_close(&store);
	return 0;
}

static int cmd_check(const struct opts *o)
{
	const char *error = NULL;
	(void)o;
	int r = store_check(config, stdout, &error);
	if (r < 0)
		die(EXIT_TEMPFAIL, "store_check", error);
	printf("check: %d problems\n", r);
	return r == 0 ? 0 : EXIT_CHECK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "<32 hex>" or "<32 hex>.mime" -> id; false for anything else. */
static bool blob_name_id(const char *name, uint8_t id[STORE_BODY_ID_LEN])
{
	size_t len = strlen(name);
	if (len != 2 * STORE_BODY_ID_LEN &&
	    !(len == 2 * STORE_BODY_ID_LEN + 5 && strcmp(name + 2 * STORE_BODY_ID_LEN, ".mime") == 0))
		return false;
	for (int i = 0; i < STORE_BODY_ID_LEN; i++) {
		int hi = hexval(name[2 * i]), lo = hexval(name[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

struct record_ctx {
	const uint8_t *id;
	struct body_record rec;
};

static int record_txn(struct store *st, DB_TXN *txn, void *ctx)
{
	struct record_ctx *c = ctx;
	int r = body_record_get(st, txn, c->id, &c->rec);
	return r < 0 ? r : r == 1 ? 1 : STORE_TXN_REFUSE;
}

/* Every file under blobs/??/?? must have a body record; blobs/tmp should be
 * empty after maintenance. */
static int cmd_orphans(const struct opts *o)
{
	const char *error = NULL;
	char path[1024];
	unsigned files = 0, orphans = 0, foreign = 0, tmp = 0;
	open_store(o);
	const char *blobs = store->blobs;
	DIR *top = opendir(blobs);
	if (top == NULL)
		die(EXIT_CHECK, blobs, strerror(errno));
	struct dirent *a;
	while ((a = readdir(top)) != NULL) {
		if (a->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", blobs, a->d_name);
		DIR *mid = opendir(path);
		if (mid == NULL)
			continue;
		bool is_tmp = strcmp(a->d_name, "tmp") == 0;
		struct dirent *b;
		while ((b = readdir(mid)) != NULL) {
			if (b->d_name[0] == '.')
				continue;
			if (is_tmp) {
				printf("orphans: left in tmp: %s/tmp/%s\n", blobs, b->d_name);
				tmp++;
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s/%s", blobs, a->d_name, b->d_name);
			DIR *leaf = opendir(path);
			if (leaf == NULL)
				continue;
			struct dirent *c;
			while ((c = readdir(leaf)) != NULL) {
				uint8_t id[STORE_BODY_ID_LEN];
				if (c->d_name[0] == '.')
					continue;
				files++;
				if (!blob_name_id(c->d_name, id)) {
					printf("orphans: foreign file %s/%s\n", path, c->d_name);
					foreign++;
					continue;
				}
				struct record_ctx rc = { .id = id };
				int r = store_read(store, record_txn, &rc, &error);
				if (r < 0)
					die(EXIT_TEMPFAIL, "bodies.db", error);
				if (r == 0) {
					printf("orphans: %s/%s has no body record\n", path, c->d_name);
					orphans++;
				}
			}
			closedir(leaf);
		}
		closedir(mid);
	}
	closedir(top);
	printf("orphans: %u files, %u without a record, %u foreign, %u in tmp\n", files, orphans,
	       foreign, tmp);
	store_close(&store);
	return orphans + foreign + tmp == 0 ? 0 : EXIT_CHECK;
}

static int format_txn(struct store *st, DB_TXN *txn, void *ctx)
{
	uint8_t buf[4];
	be32_put(buf, *(uint32_t *)ctx);
	return store_put(st, DBI_META, txn, "format", 6, buf, 4, 0);
}

static int cmd_setformat(const struct opts *o)
{
	const char *error = NULL;
	uint32_t version = (uint32_t)o->version;
	open_store(o);
	if (store_write(store, true, format_txn, &version, &error) < 0)
		die(EXIT_TEMPFAIL, "writing the format record", error);
	if (store_format_file_write(store, version) < 0)
		die(EXIT_TEMPFAIL, "writing " STORE_FORMAT_FILE, store_last_error(store));
	store->env->txn_checkpoint(store->env, 0, 0, 0);
	store_close(&store);
	return 0;
}

struct damage_ctx {
	const char *record;
	struct store_user user;
	struct store_mailbox mb;
};

static int damage_txn(struct store *st, DB_TXN *txn, void *ctx)
{
	struct damage_ctx *d = ctx;
	struct account_addr addr;
	struct domain_rec dom;
	uint8_t key[4 + STORE_MAILBOX_NAME_MAX], val[QUOTA_RECLEN] = { 0 };
	uint64_t bytes;
	uint32_t messages;
	struct pack p;
	int r;
	if (account_addr_parse(d->user.address, &addr, NULL) != 1)
		return store_err(st, "bad address %s", d->user.address);
	be32_put(key, d->user.id);
	if (strcmp(d->record, "usage") == 0) {
		if ((r = quota_get_txn(st, txn, d->user.id, &bytes, &messages, DB_RMW)) <= 0)
			return r < 0 ? r : store_err(st, "no usage record");
		pack_init(&p, val, sizeof(val));
		pack_u8(&p, QUOTA_REC_VERSION);
		pack_u64(&p, bytes);
		pack_u32(&p, messages + 1);
		return store_put(st, DBI_QUOTA, txn, key, 4, val, sizeof(val), 0);
	}
	if (strcmp(d->record, "address") == 0)
		return account_del(st, txn, ACCOUNT_TAG_ADDRESS, addr.key, strlen(addr.key));
	if (strcmp(d->record, "stray-address") == 0) {
		char stray[STORE_ADDRESS_MAX + 1];
		snprintf(stray, sizeof(stray), "stray@%s", account_addr_domain(&addr));
		be32_put(val, 999999);
		return account_put(st, txn, ACCOUNT_TAG_ADDRESS, stray, strlen(stray), val, 4);
	}
	if (strcmp(d->record, "user") == 0)
		return account_del(st, txn, ACCOUNT_TAG_USER, key, 4);
	if (strcmp(d->record, "mailbox-name") == 0) {
		size_t n = strlen(d->mb.name);
		memcpy(key + 4, d->mb.name, n);
		return store_del(st, DBI_MAILBOXES, txn, key, 4 + n);
	}
	be32_put(key, d->mb.id);
	if (strcmp(d->record, "mailbox-info") == 0)
		return store_del(st, DBI_MAILBOX_INFO, txn, key, 4);
	if (strcmp(d->record, "mailbox-state") == 0)
		return store_del(st, DBI_MBOXSTATE, txn, key, 4);
	if (strcmp(d->record, "domain") == 0) {
		const char *domain = account_addr_domain(&addr);
		if ((r = domain_get_txn(st, txn, domain, &dom, DB_RMW)) <= 0)
			return r < 0 ? r : store_err(st, "no domain record");
		dom.users++;
		return domain_put_txn(st, txn, domain, &dom);
	}
	return store_err(st, "unknown record kind %s", d->record);
}

static int cmd_damage(const struct opts *o)
{
	const char *error = NULL;
	struct damage_ctx d = { .record = o->record };
	if (o->user == NULL || o->record == NULL)
		die(EXIT_USAGE, "damage", "needs --user and --record");
	open_store(o);
	int r = store_user_find(store, o->user, &d.user, &error);
	if (r <= 0)
		die(r < 0 ? EXIT_TEMPFAIL : EXIT_CHECK, o->user, r < 0 ? error : "no such user");
	r = store_mailbox_find(store, d.user.id, o->mailbox ? o->mailbox : "Junk", &d.mb, &error);
	if (r <= 0)
		die(r < 0 ? EXIT_TEMPFAIL : EXIT_CHECK, "mailbox", r < 0 ? error : "no such mailbox");
	r = store_write(store, true, damage_txn, &d, &error);
	if (r < 0)
		die(EXIT_TEMPFAIL, "damage", error);
	store->env->txn_checkpoint(store->env, 0, 0, 0);
	store_close(&store);
	return 0;
}

/* The migration's own steps, the other way: A-labels to U-labels. */
static int legacy_txn(struct store *st, DB_TXN *txn, void *ctx)
{
	const char *const *names = ctx; /* A-label form, U-label form */
	struct domain_rec dom;
	uint32_t merged = 0;
	int r = domain_get_txn(st, txn, names[0], &dom, DB_RMW);

	if (r <= 0)
		return r < 0 ? r : store_err(st, "no domain %s", names[0]);
	if ((r = user_domain_move_txn(st, txn, names[0], names[1], dom.id)) <= 0 ||
	    (r = alias_domain_move_txn(st, txn, names[0], names[1], &merged)) <= 0 ||
	    (r = domain_put_txn(st, txn, names[1], &dom)) < 0)
		return r;
	return store_del(st, DBI_DOMAINS, txn, names[0], strlen(names[0]));
}

static int cmd_legacy(const struct opts *o)
{
	char ascii[STORE_DOMAIN_MAX + 1], unicode[STORE_DOMAIN_MAX + 1];
	const char *error = NULL, *names[2] = { ascii, unicode };

	if (o->domain == NULL)
		die(EXIT_USAGE, "legacy", "needs --domain");
	if (store_domain_ascii(o->domain, ascii, &error) != 1 ||
	    store_domain_unicode(ascii, unicode, sizeof(unicode)) != 1)
		die(EXIT_USAGE, o->domain, "not an internationalized domain name");
	open_store(o);
	if (store_write(store, true, legacy_txn, names, &error) <= 0)
		die(EXIT_TEMPFAIL, "legacy", error);
	store_close(&store);
	return 0;
}

static int cmd_stats(const struct opts *o)
{
	const char *error = NULL;
	open_store(o);
	if (store_stats(store, stdout, !o->env_only, &error) < 0)
		die(EXIT_TEMPFAIL, "store_stats", error);
	store_close(&store);
	return 0;
}

/* ---- main ---- */

static const struct {
	const char *name;
	int (*fn)(const struct opts *o);
} commands[] = {
	{ "init", cmd_init }, { "deliver", cmd_deliver }, { "bodies", cmd_bodies },
	{ "read", cmd_read }, { "verify", cmd_verify }, { "hold", cmd_hold }, { "panic", cmd_panic },
	{ "open", cmd_open }, { "status", cmd_status }, { "hashtime", cmd_hashtime },
	{ "maintain", cmd_maintain }, { "check", cmd_check }, { "orphans", cmd_orphans },
	{ "setformat", cmd_setformat }, { "damage", cmd_damage }, { "stats", cmd_stats },
	{ "legacy", cmd_legacy }, { "holdfile", cmd_holdfile },
};

enum {
	OPT_CONFIG = 256, OPT_TO, OPT_USER, OPT_DOMAIN, OPT_PASSWORD, OPT_TAG, OPT_ACKED,
	OPT_COUNT, OPT_UNTIL, OPT_EXPECT, OPT_SIZE, OPT_RUNS, OPT_AGE, OPT_VERSION,
	OPT_SECONDS, OPT_GAPLESS, OPT_QUIET, OPT_TIMING, OPT_REPORT_OPEN, OPT_ANNOUNCE,
	OPT_REUSE,
	OPT_ENV_ONLY, OPT_HOLD_REGISTRY, OPT_RECORD, OPT_MAILBOX, OPT_FILE,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "to", required_argument, NULL, OPT_TO },
	{ "user", required_argument, NULL, OPT_USER },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "acked", required_argument, NULL, OPT_ACKED },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "until-count", required_argument, NULL, OPT_UNTIL },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "orphan-age", required_argument, NULL, OPT_AGE },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "gapless", no_argument, NULL, OPT_GAPLESS },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "timing", no_argument, NULL, OPT_TIMING },
	{ "report-open", no_argument, NULL, OPT_REPORT_OPEN },
	{ "announce", no_argument, NULL, OPT_ANNOUNCE },
	{ "reuse-body", no_argument, NULL, OPT_REUSE },
	{ "env-only", no_argument, NULL, OPT_ENV_ONLY },
	{ "hold-registry", no_argument, NULL, OPT_HOLD_REGISTRY },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "mailbox", required_argument, NULL, OPT_MAILBOX },
	{ "file", required_argument, NULL, OPT_FILE },
	{ NULL, 0, NULL, 0 },
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;
	o->size = TOOL_SIZE_DEFAULT;
	o->count = 1;
	o->orphan_age = 86400;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG: o->config_path = optarg; break;
		case OPT_TO: o->to = optarg; break;
		case OPT_USER:
			if (o->nusers == TOOL_USERS_MAX)
				die(EXIT_USAGE, "--user", "too many");
			o->users[o->nusers++] = optarg;
			o->user = optarg;
			break;
		case OPT_DOMAIN: o->domain = optarg; break;
		case OPT_PASSWORD: o->password = optarg; break;
		case OPT_TAG: o->tag = optarg; break;
		case OPT_ACKED: o->acked = optarg; break;
		case OPT_COUNT: o->count = parse_ulong(optarg, "--count", 100000000); break;
		case OPT_UNTIL: o->until_count = parse_ulong(optarg, "--until-count", 100000000); break;
		case OPT_EXPECT: o->expect = parse_ulong(optarg, "--expect", 100000000); break;
		case OPT_SIZE: o->size = parse_ulong(optarg, "--size", TOOL_SIZE_MAX); break;
		case OPT_RUNS: o->runs = parse_ulong(optarg, "--runs", TOOL_RUNS_MAX); break;
		case OPT_AGE: o->orphan_age = parse_ulong(optarg, "--orphan-age", 100000000); break;
		case OPT_VERSION: o->version = parse_ulong(optarg, "--version", UINT32_MAX); break;
		case OPT_SECONDS: {
			char *end;
			o->seconds = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(o->seconds >= 0 && o->seconds < 1e6))
				die(EXIT_USAGE, "--seconds", "bad number");
			break;
		}
		case OPT_GAPLESS: o->gapless = true; break;
		case OPT_QUIET: o->quiet = true; break;
		case OPT_TIMING: o->timing = true; break;
		case OPT_REPORT_OPEN: o->report_open = true; break;
		case OPT_ANNOUNCE: o->announce = true; break;
		case OPT_REUSE: o->reuse_body = true; break;
		case OPT_ENV_ONLY: o->env_only = true; break;
		case OPT_HOLD_REGISTRY: o->hold_registry = true; break;
		case OPT_RECORD: o->record = optarg; break;
		case OPT_MAILBOX: o->mailbox = optarg; break;
		case OPT_FILE: o->file = optarg; break;
		default: die(EXIT_USAGE, "usage", "see the comment at the top of storetool.c");
		}
	}
	if (optind != argc)
		die(EXIT_USAGE, "unexpected argument", argv[optind]);
}

/* A panic ends the process inside the store after a line to syslog: the
 * tests read stderr. */
static void storetool_panic(void)
{
	fputs("storetool: environment panic: exiting\n", stderr);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *error = NULL;
	main_ns = now_ns();
	log_open("storetool");  /* PILLARBOX_LOG_STDERR=1 mirrors the store's log */
	store_set_panic_hook(storetool_panic);
	if (argc < 2)
		die(EXIT_USAGE, "usage: storetool COMMAND --config FILE ...", NULL);
	int (*fn)(const struct opts *) = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			fn = commands[i].fn;
	if (fn == NULL)
		die(EXIT_USAGE, "unknown command", argv[1]);
	parse_args(argc, argv, &o);
	if (o.config_path == NULL)
		die(EXIT_USAGE, "--config FILE is required", NULL);
	if (config_load(o.config_path, &config, &error) < 0)
		die(EXIT_CHECK, "configuration", error);
	if (process_init(config->user, NULL, true, &error) < 0)
		die(EXIT_CHECK, "process_init", error);
	/* txn.c arms alarm() around each store call; this makes it _exit(75). */
	process_watchdog(0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	int r = fn(&o);
	fflush(stdout);
	config_free(&config);
	return r;
}
