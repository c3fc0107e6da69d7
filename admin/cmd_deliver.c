/* pillarbox deliver [-f SENDER] ADDRESS < message: the local delivery agent.
 *
 * The message is first read from stdin into an unlinked temporary file, line
 * ends made canonical (CRLF) and checked against max_message_size; only then
 * is the store joined. So a slow or stuck writer on stdin never holds a store
 * registration: a process killed while registered (an MTA's time limit)
 * would make the next process run recovery and restart every session.
 * Exit codes follow sysexits so an MTA can tell a bounce from a retry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "process.h"

/* Bytes moved per read: big enough for few system calls, small enough to
 * keep memory flat whatever the message size. */
#define DELIVER_CHUNK 65536

struct deliver_norm {
	bool skip_line;   /* inside a leading mbox "From " envelope line */
	bool pending_cr;  /* the previous byte was a CR */
};

/* Copies `in` to `out` (room for 2 * len + 2) with every line end made CRLF:
 * CRLF stays, a bare LF or a bare CR becomes CRLF. Returns the bytes written,
 * or -1 on a NUL byte (not mail: RFC 5322 2.3 and RFC 6152 forbid it). */
static ssize_t deliver_normalise(struct deliver_norm *norm, const char *in, size_t len,
				 char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (norm->skip_line) {
			norm->skip_line = c != '\n';
			continue;
		}
		if (norm->pending_cr) {
			norm->pending_cr = false;
			out[o++] = '\r';
			out[o++] = '\n';
			if (c == '\n')
				continue;
		}
		if (c == '\r') {
			norm->pending_cr = true;
		} else if (c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
		} else if (c == '\0') {
			return -1;
		} else {
			out[o++] = c;
		}
	}
	return (ssize_t)o;
}

static ssize_t deliver_read(char *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, len);

		if (n >= 0 || errno != EINTR || process_stop_requested)
			return n;
	}
}

/* Spools stdin into *spool_r. Returns 0 or an exit code. */
static int deliver_spool(const struct config *config, FILE **spool_r, uint64_t *size_r)
{
	struct deliver_norm norm = { false, false };
	char *in = malloc(DELIVER_CHUNK), *out = malloc(2 * DELIVER_CHUNK + 4);
	uint64_t size = 0;
	size_t have = 0;
	bool first = true;
	FILE *spool = tmpfile();
	int code = 0;

	if (in == NULL || out == NULL || spool == NULL) {
		code = admin_fail(ADMIN_EXIT_TEMPFAIL, "cannot spool the message: %s",
				  strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = deliver_read(in + have, DELIVER_CHUNK - have), o;

		if (n < 0) {
			code = admin_fail(ADMIN_EXIT_TEMPFAIL, "reading the message: %s",
					  errno == EINTR ? "interrupted" : strerror(errno));
			goto out;
		}
		have += (size_t)n;
		/* The first 5 bytes decide about a leading "From " line. */
		if (first && n > 0 && have < 5)
			continue;
		if (first) {
			first = false;
			norm.skip_line = have >= 5 && memcmp(in, "From ", 5) == 0;
		}
		o = deliver_normalise(&norm, in, have, out);
		if (n == 0 && norm.pending_cr && o >= 0) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
		if (o < 0) {
			code = admin_fail(ADMIN_EXIT_DATAERR, "the message contains a NUL byte");
			goto out;
		}
		size += (uint64_t)o;
		if (size > config->max_message_size) {
			code = admin_fail(ADMIN_EXIT_DATAERR, "the message is larger than "
					  "max_message_size (%llu bytes)",
					  (unsigned long long)config->max_message_size);
			goto out;
		}
		if (o > 0 && fwrite(out, 1, (size_t)o, spool) != (size_t)o) {
			code = admin_fail(ADMIN_EXIT_TEMPFAIL, "spooling the message: %s",
					  strerror(errno));
			goto out;
		}
		have = 0;
		if (n == 0)
			break;
	}
	if (size == 0) {
		code = admin_fail(ADMIN_EXIT_DATAERR, "empty message");
		goto out;
	}
	if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0) {
		code = admin_fail(ADMIN_EXIT_TEMPFAIL, "spooling the message: %s", strerror(errno));
		goto out;
	}
	*spool_r = spool;
	*size_r = size;
	spool = NULL;
out:
	if (spool != NULL)
		fclose(spool);
	free(in);
	free(out);
	return code;
}

/* Copies the spool into a store body. Returns 0 or an exit code. */
static int deliver_body_store(struct admin *admin, FILE *spool, struct store_body **body_r)
{
	struct store_body_writer *writer = NULL;
	const char *error = NULL;
	char *buf = malloc(DELIVER_CHUNK);
	size_t n;
	int ret;

	if (buf == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	if (store_body_create(admin->store, &writer, &error) < 0) {
		free(buf);
		return admin_store_fail(-1, 0, "storing the message", error);
	}
	while ((n = fread(buf, 1, DELIVER_CHUNK, spool)) > 0) {
		ret = store_body_write(writer, buf, n, &error);
		if (ret <= 0) {
			free(buf);
			store_body_abort(&writer);
			if (ret == 0)
				return admin_fail(ADMIN_EXIT_DATAERR, "the message is too big");
			return admin_store_fail(-1, 0, "storing the message", error);
		}
	}
	free(buf);
	if (ferror(spool)) {
		store_body_abort(&writer);
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "reading the spooled message failed");
	}
	ret = store_body_finish(&writer, body_r, &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_DATAERR, "the message is too big");
	if (ret < 0)
		return admin_store_fail(-1, 0, "storing the message", error);
	return 0;
}

/* An address as an MTA passes it: not empty (unless `empty_ok`), within the
 * RFC 5321 length, no controls, spaces or angle brackets. */
static bool deliver_address_ok(const char *s, bool empty_ok)
{
	size_t len = strlen(s);

	if (len == 0)
		return empty_ok;
	if (len > STORE_ADDRESS_MAX || strchr(s, '@') == NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	}
	return true;
}

/* Where `address` goes. Returns 0 (deliverable) or an exit code. */
static int deliver_resolve(struct admin *admin, const char *address)
{
	struct store_rcpt_target *targets;
	const char *error = NULL;
	size_t n = 0;
	enum store_resolve_result res;

	targets = calloc(STORE_ALIAS_TARGETS_MAX, sizeof(*targets));
	if (targets == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	res = store_resolve(admin->store, address, targets, STORE_ALIAS_TARGETS_MAX, &n, &error);
	free(targets);
	switch (res) {
	case STORE_RESOLVE_OK:
		return 0;
	case STORE_RESOLVE_NOT_LOCAL:
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: not a local domain", admin_arg(address));
	case STORE_RESOLVE_NO_USER:
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: no such user", admin_arg(address));
	case STORE_RESOLVE_DISABLED:
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: account disabled", admin_arg(address));
	case STORE_RESOLVE_ERROR:
	default:
		return admin_store_fail(-1, 0, admin_arg(address), error);
	}
}

static int deliver_cmd(struct admin *admin, int argc, char **argv)
{
	const char *sender = "", *address = NULL, *error = NULL;
	struct store_delivery delivery;
	struct store_body *body = NULL;
	char queue_id[33] = "";
	bool queued = false;
	uint64_t size = 0;
	FILE *spool = NULL;
	int code, ret;

	bool usage_ok = true;

	for (int i = 0; i < argc && usage_ok; i++) {
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc && address == NULL)
			sender = argv[++i];
		else if (address == NULL)
			address = argv[i];
		else
			usage_ok = false;
	}
	if (!usage_ok || address == NULL)
		return admin_fail(ADMIN_EXIT_USAGE, "usage: pillarbox deliver [-f SENDER] ADDRESS");
	if (strcmp(sender, "<>") == 0)
		sender = "";
	if (!deliver_address_ok(address, false))
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: not a valid address", admin_arg(address));
	if (!deliver_address_ok(sender, true))
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: not a valid sender address",
				  admin_arg(sender));

	admin_watchdog_pause();
	code = deliver_spool(admin->config, &spool, &size);
	if (code != 0)
		return code;
	admin_watchdog_resume(admin);
	if (store_open(admin->config, false, &admin->store, &error) < 0) {
		fclose(spool);
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "%s", error);
	}
	code = deliver_resolve(admin, address);
	if (code == 0)
		code = deliver_body_store(admin, spool, &body);
	fclose(spool);
	if (code != 0)
		return code;

	memset(&delivery, 0, sizeof(delivery));
	delivery.sender = sender;
	delivery.recipients = &address;
	delivery.nrecipients = 1;
	delivery.body = body;
	delivery.internaldate = 0;
	delivery.add_prefix = true;
	ret = store_deliver(admin->store, &delivery, &queued, queue_id, &error);
	store_body_free(&body);
	if (ret == 0)
		return admin_store_fail(0, ADMIN_EXIT_CANTCREAT, admin_arg(address),
					error != NULL ? error : "over quota");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(address), error);
	if (queued)
		admin_say("%s: copies for remote recipients or full mailboxes queued as %s "
			  "(delivered once the relay runs)", admin_arg(address), queue_id);
	return ADMIN_EXIT_OK;
}

static const struct admin_verb deliver_verbs[] = {
	{ NULL, "[-f SENDER] ADDRESS", "deliver the message on stdin (exit 0, 67, 73, 75...)",
	  1, 3, ADMIN_STORE_NONE, true, NULL, NULL, deliver_cmd },
};

const struct admin_noun admin_noun_deliver = {
	"deliver", "The local delivery agent: deliver [-f SENDER] ADDRESS < message.\n"
	"A leading mbox \"From \" line is dropped and line ends are made CRLF.",
	deliver_verbs, 1,
};
