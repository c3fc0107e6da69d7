/* libFuzzer harness over the whole webmail core (webmail_handle): the
 * input is one HTTP request as a front end hands it over, with a real
 * store behind it (made once per fuzzing process; INBOX refilled before
 * each run with plain, HTML, multipart and encapsulated messages), so
 * routing, the query, cookie and form parsers, the CSRF check and every
 * page (list, search, message view and its parts, compose and send,
 * folders, settings, contacts, set-up) run as they do for a browser.
 *
 * Input: byte 0 is flags (FLAG_*), then up to four lines (the path, the
 * query, the Content-Type, more of the Cookie header), then the body.
 * "@T" in the query or body becomes the session's CSRF token, so that
 * state-changing POSTs get past the check; with FLAG_SESSION the request
 * carries a valid session cookie (the session is made again when a run
 * signed out or changed the password).
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_webmail
 * Run:   tests/fuzz/fuzz_webmail -max_total_time=600 ../../tests/fuzz/corpus/webmail */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "fuzz_world.h"
#include "webmail.h"

#define FUZZ_USER "bob@example.com"
#define FUZZ_MESSAGES 5
/* Inputs past this are cut: the bodies a fuzzer makes stay small. */
#define FUZZ_INPUT_MAX 65536

enum {
	FLAG_METHOD = 3,       /* GET, POST, HEAD, other */
	FLAG_SESSION = 1 << 2, /* a valid session cookie */
	FLAG_HTTPS = 1 << 3,
	FLAG_RAW = 1 << 4,     /* a raw target (webmaild) instead of PATH_INFO (CGI) */
	FLAG_ROOT = 1 << 5,    /* a path from the site's root (mail client set-up) */
	FLAG_LENGTH = 1 << 6,  /* a Content-Length that is not the body's */
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *fuzz_config;
static struct store *fuzz_store;
static struct webmail *fuzz_webmail;
static struct store_user fuzz_account;
static struct store_session fuzz_session;
static char fuzz_session_hex[2 * STORE_SESSION_ID_LEN + 1];
static char fuzz_csrf_hex[TOKEN_HEX_LEN + 1];

static const char *const fuzz_bodies[FUZZ_MESSAGES] = {
	"From: \"A\" <a@example.org>\r\nTo: b@example.com, group: c@d, e@f;\r\n"
	"Subject: =?utf-8?q?caf=C3=A9?=\r\nDate: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
	"Message-ID: <1@x>\r\nContent-Type: text/plain; format=flowed\r\n\r\n"
	"Hello http://example.org/x?a=1&b=2 \r\nsoft break\r\n> quoted\r\n",
	fuzz_world_multipart,
	"From: h@example.org\r\nSubject: html\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
	"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
	"<html><body style=\"background:url(http://t.example/x)\"><img src=\"cid:i1\">"
	"<img src=\"http://t.example/p.png\"><a href=\"javascript:alert(1)\">x</a>"
	"<script>alert(1)</script></body></html>\r\n"
	"--r\r\nContent-Type: image/png\r\nContent-ID: <i1>\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n",
	"Content-Type: multipart/mixed\r\n\r\nno boundary at all\r\n",
	"Subject: lf\nContent-Type: text/plain; charset=x-unknown\n\nbare\nline\nfeeds\n",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *error = NULL;

	fuzz_config = fuzz_world_config("fuzz_webmail", argc, argv);
	fuzz_config->max_message_size = 1024 * 1024;
	free(fuzz_config->templates);
	fuzz_config->templates = strdup(FUZZ_TEMPLATES);
	free(fuzz_config->relay_program); /* mail to other domains stays queued */
	fuzz_config->relay_program = NULL;
	if (fuzz_config->templates == NULL)
		fuzz_die("config", "out of memory");
	fuzz_store = fuzz_world_store();
	if (store_domain_add(fuzz_store, "example.com", &error) < 0 ||
	    store_user_add(fuzz_store, FUZZ_USER, "pw", NULL, &error) != 1 ||
	    store_user_add(fuzz_store, "alice@example.com", "pw", NULL, &error) != 1 ||
	    store_user_find(fuzz_store, FUZZ_USER, &fuzz_account, &error) != 1)
		fuzz_die("store", error);
	if (webmail_new(fuzz_config, fuzz_store, true, &fuzz_webmail, &error) < 0)
		fuzz_die("webmail", error);
	return 0;
}

/* The session of FLAG_SESSION, made again when a run ended it. */
static void session_ensure(void)
{
	const char *error = NULL;
	struct store_session s;
	int r = fuzz_session_hex[0] == '\0' ? 0
		: store_session_get(fuzz_store, fuzz_session.id, time(NULL), STORE_SESSION_IDLE_DEFAULT,
				    STORE_SESSION_ABSOLUTE_DEFAULT, &s, &error);
	if (r < 0)
		fuzz_die("session", error);
	if (r == 1)
		return;
	if (store_session_create(fuzz_store, fuzz_account.id, time(NULL), &fuzz_session, &error) != 1)
		fuzz_die("session", error);
	hex_encode(fuzz_session.id, sizeof(fuzz_session.id), fuzz_session_hex);
	hex_encode(fuzz_session.csrf, sizeof(fuzz_session.csrf), fuzz_csrf_hex);
}

/* The next line of the input (up to '\n'), NUL-terminated in the arena. */
static const char *next_line(struct arena *a, const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *stop = nl != NULL ? nl : end;
	char *s = arena_strndup(a, (const char *)*p, (size_t)(stop - *p));
	*p = nl != NULL ? nl + 1 : end;
	return s;
}

/* `s` with every "@T" replaced by the CSRF token; *len_r its length. */
static char *with_token(struct arena *a, const char *s, size_t len, size_t *len_r)
{
	size_t n = 0;
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '@' && s[i + 1] == 'T')
			n++;
	char *out = arena_alloc(a, len + n * TOKEN_HEX_LEN + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (i + 1 < len && s[i] == '@' && s[i + 1] == 'T') {
			memcpy(out + o, fuzz_csrf_hex, TOKEN_HEX_LEN);
			o += TOKEN_HEX_LEN;
			i++;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum http_method methods[] = { HTTP_GET, HTTP_POST, HTTP_HEAD, HTTP_OTHER };
	const char *error = NULL;
	struct store_mailbox inbox;

	if (size == 0)
		return 0;
	if (size > FUZZ_INPUT_MAX)
		size = FUZZ_INPUT_MAX;
	uint8_t flags = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	/* A run may have moved or deleted INBOX's messages: look it up. */
	if (store_mailbox_find(fuzz_store, fuzz_account.id, "INBOX", &inbox, &error) != 1)
		fuzz_die("inbox", error);
	fuzz_world_refill(inbox.id, fuzz_bodies, FUZZ_MESSAGES);
	session_ensure();

	struct http_request *req = http_request_new();
	if (req == NULL)
		fuzz_die("request", "out of memory");
	struct arena *a = req->arena;
	req->method = methods[flags & FLAG_METHOD];
	req->https = (flags & FLAG_HTTPS) != 0;
	req->remote_addr = "192.0.2.1";
	const char *path = next_line(a, &p, end);
	const char *query_raw = next_line(a, &p, end);
	const char *type = next_line(a, &p, end);
	const char *cookie = next_line(a, &p, end);
	if (path == NULL || query_raw == NULL || type == NULL || cookie == NULL)
		fuzz_die("request", "out of memory");
	size_t qlen, blen;
	const char *query = with_token(a, query_raw, strlen(query_raw), &qlen);
	const char *body = with_token(a, (const char *)p, (size_t)(end - p), &blen);
	if (query == NULL || body == NULL)
		fuzz_die("request", "out of memory");
	if (flags & FLAG_RAW) {
		http_request_set_target(req, path, strlen(path), query, qlen);
	} else {
		http_request_set_path(req, path);
		req->query = query;
	}
	req->at_root = (flags & FLAG_ROOT) != 0;
	req->content_type = *type != '\0' ? type : NULL;
	req->cookie = (flags & FLAG_SESSION)
		? arena_printf(a, "%s=%s; %s", SESSION_COOKIE, fuzz_session_hex, cookie)
		: *cookie != '\0' ? cookie : NULL;
	req->content_length = (flags & FLAG_LENGTH) ? (int64_t)blen / 2 : (int64_t)blen;
	if (req->method == HTTP_POST && req->error_status == 0 &&
	    http_body_begin(req, WEBMAIL_BODY_MAX) == 0) {
		/* fed in two pieces: the parsers must not depend on the split */
		size_t half = blen / 2;
		if (http_body_feed(req, body, half) == 0)
			(void)http_body_feed(req, body + half, blen - half);
		http_body_end(req);
	}

	struct http_response resp;
	http_response_init(&resp);
	webmail_handle(fuzz_webmail, req, &resp);
	/* FUZZ_WEBMAIL_SHOW=1: each answer's status, to see what a corpus reaches */
	if (getenv("FUZZ_WEBMAIL_SHOW") != NULL)
		fprintf(stderr, "fuzz_webmail: %d %s?%s\n", resp.status, req->path, req->query);
	if (resp.stream.read != NULL) {
		char chunk[65536];
		while (resp.stream.read(resp.stream.ctx, chunk, sizeof(chunk)) > 0)
			;
	}
	http_response_free(&resp);
	http_request_free(&req);
	return 0;
}
