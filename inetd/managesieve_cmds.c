/* The ManageSieve script commands (RFC 5804 2.5-2.12) over the store's
 * per-user scripts (sieve_store.h). A script is compiled before it is
 * kept; the store's refusals are turned into the RFC's response codes by
 * looking at the script list again (its messages are for people). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "log.h"
#include "managesieve.h"

/* The user's scripts, or NULL after a NO (TRYLATER). */
static struct store_sieve_entry *ms_list(struct ms_session *s, size_t *n_r)
{
	struct store_sieve_entry *list;
	const char *error = NULL;

	if (store_sieve_list(s->store, s->account.id, &list, n_r, &error) < 0) {
		log_error("sieve list user=<%s>: %s", s->account.address, error);
		ms_no(s, "TRYLATER", "Temporary failure, try again later");
		return NULL;
	}
	return list;
}

static const struct store_sieve_entry *ms_find(const struct store_sieve_entry *list, size_t n,
					       const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	}
	return NULL;
}

/* RFC 5804 1.6: 1 to STORE_SIEVE_NAME_MAX octets of UTF-8 without
 * U+0000..U+001F, U+007F..U+009F (charset_utf8_text), U+2028 and U+2029. */
static bool ms_name_valid(const struct ms_arg *arg)
{
	return arg->len > 0 && arg->len <= STORE_SIEVE_NAME_MAX &&
	       memchr(arg->data, '\0', arg->len) == NULL &&
	       charset_utf8_text(arg->data, arg->len, false) &&
	       strstr(arg->data, "\xe2\x80\xa8") == NULL &&
	       strstr(arg->data, "\xe2\x80\xa9") == NULL;
}

static int ms_bad_name(struct ms_session *s)
{
	ms_no(s, NULL, "Invalid script name: 1 to 128 octets of UTF-8, no control characters");
	return 0;
}

static int ms_store_failed(struct ms_session *s, const char *what, const char *error)
{
	log_error("sieve %s user=<%s>: %s", what, s->account.address, error);
	ms_no(s, "TRYLATER", "Temporary failure, try again later");
	return 0;
}

/* Compiles a script: 1 fine, 0 after the NO with the compiler's message. */
static int ms_compile(struct ms_session *s, const struct ms_arg *text)
{
	char error[SIEVE_ERROR_MAX];
	struct sieve_script *script = sieve_compile(text->data, text->len, error);

	if (script == NULL) {
		ms_no(s, NULL, error);
		return 0;
	}
	sieve_script_free(script);
	return 1;
}

int ms_cmd_havespace(struct ms_session *s, struct ms_parser *p)
{
	struct store_sieve_entry *list;
	uint32_t size = 0;
	size_t n;

	if (!ms_name_valid(&p->args[0]))
		return ms_bad_name(s);
	(void)ms_arg_number(&p->args[1], &size);
	if (size > SIEVE_SCRIPT_MAX) {
		ms_no(s, "QUOTA/MAXSIZE", "Script too big (at most 65536 octets)");
		return 0;
	}
	if ((list = ms_list(s, &n)) == NULL)
		return 0;
	if (ms_find(list, n, p->args[0].data) == NULL && n >= STORE_SIEVE_SCRIPTS_MAX)
		ms_no(s, "QUOTA/MAXSCRIPTS", "Too many scripts (at most 16): delete one first");
	else
		ms_ok(s, NULL, "Putscript would succeed");
	free(list);
	return 0;
}

int ms_cmd_putscript(struct ms_session *s, struct ms_parser *p)
{
	const char *error = NULL;
	int r;

	if (!ms_name_valid(&p->args[0]))
		return ms_bad_name(s);
	if (p->args[1].len > SIEVE_SCRIPT_MAX) {
		ms_no(s, "QUOTA/MAXSIZE", "Script too big (at most 65536 octets)");
		return 0;
	}
	if (!ms_compile(s, &p->args[1]))
		return 0;
	r = store_sieve_put(s->store, s->account.id, p->args[0].data, p->args[1].data,
			    p->args[1].len, &error);
	if (r < 0)
		return ms_store_failed(s, "put", error);
	if (r == 0) {
		/* A good name and size: only the count is left to refuse. */
		ms_no(s, "QUOTA/MAXSCRIPTS", "Too many scripts (at most 16): delete one first");
		return 0;
	}
	s->puts++;
	ms_ok(s, NULL, "Putscript completed");
	return 0;
}

int ms_cmd_listscripts(struct ms_session *s, struct ms_parser *p)
{
	struct store_sieve_entry *list;
	size_t n;

	(void)p;
	if ((list = ms_list(s, &n)) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		ms_write_string(s, list[i].name, strlen(list[i].name));
		conn_puts(s->conn, list[i].active ? " ACTIVE\r\n" : "\r\n");
	}
	free(list);
	ms_ok(s, NULL, "Listscripts completed");
	return 0;
}

int ms_cmd_setactive(struct ms_session *s, struct ms_parser *p)
{
	const char *error = NULL;
	bool none = p->args[0].len == 0;
	int r;

	if (!none && !ms_name_valid(&p->args[0])) {
		ms_no(s, "NONEXISTENT", "There is no script by that name");
		return 0;
	}
	r = store_sieve_activate(s->store, s->account.id, none ? NULL : p->args[0].data, &error);
	if (r < 0)
		return ms_store_failed(s, "activate", error);
	if (r == 0)
		ms_no(s, "NONEXISTENT", "There is no script by that name");
	else
		ms_ok(s, NULL, none ? "No script is active now" : "Setactive completed");
	return 0;
}

int ms_cmd_getscript(struct ms_session *s, struct ms_parser *p)
{
	const char *error = NULL;
	char *text;
	size_t len;
	int r;

	if (!ms_name_valid(&p->args[0])) {
		ms_no(s, "NONEXISTENT", "There is no script by that name");
		return 0;
	}
	r = store_sieve_get(s->store, s->account.id, p->args[0].data, &text, &len, &error);
	if (r < 0)
		return ms_store_failed(s, "get", error);
	if (r == 0) {
		ms_no(s, "NONEXISTENT", "There is no script by that name");
		return 0;
	}
	/* Always a literal: a script is many lines. */
	conn_printf(s->conn, "{%zu}\r\n", len);
	conn_write(s->conn, text, len);
	conn_write(s->conn, "\r\n", 2);
	free(text);
	s->gets++;
	ms_ok(s, NULL, "Getscript completed");
	return 0;
}

int ms_cmd_deletescript(struct ms_session *s, struct ms_parser *p)
{
	const struct store_sieve_entry *e;
	struct store_sieve_entry *list;
	const char *error = NULL;
	size_t n;
	int r;

	if (!ms_name_valid(&p->args[0])) {
		ms_no(s, "NONEXISTENT", "There is no script by that name");
		return 0;
	}
	r = store_sieve_delete(s->store, s->account.id, p->args[0].data, &error);
	if (r < 0)
		return ms_store_failed(s, "delete", error);
	if (r == 1) {
		s->deletes++;
		ms_ok(s, NULL, "Deletescript completed");
		return 0;
	}
	if ((list = ms_list(s, &n)) == NULL)
		return 0;
	e = ms_find(list, n, p->args[0].data);
	if (e != NULL && e->active)
		ms_no(s, "ACTIVE", "This is the active script: deactivate it first");
	else
		ms_no(s, "NONEXISTENT", "There is no script by that name");
	free(list);
	return 0;
}

int ms_cmd_renamescript(struct ms_session *s, struct ms_parser *p)
{
	struct store_sieve_entry *list;
	const char *error = NULL;
	size_t n;
	int r;

	if (!ms_name_valid(&p->args[0])) {
		ms_no(s, "NONEXISTENT", "There is no script by that name");
		return 0;
	}
	if (!ms_name_valid(&p->args[1]))
		return ms_bad_name(s);
	r = store_sieve_rename(s->store, s->account.id, p->args[0].data, p->args[1].data, &error);
	if (r < 0)
		return ms_store_failed(s, "rename", error);
	if (r == 1) {
		ms_ok(s, NULL, "Renamescript completed");
		return 0;
	}
	if ((list = ms_list(s, &n)) == NULL)
		return 0;
	if (ms_find(list, n, p->args[0].data) == NULL)
		ms_no(s, "NONEXISTENT", "There is no script by that name");
	else if (ms_find(list, n, p->args[1].data) != NULL)
		ms_no(s, "ALREADYEXISTS", "A script by the new name exists");
	else
		ms_no(s, NULL, error);
	free(list);
	return 0;
}

int ms_cmd_checkscript(struct ms_session *s, struct ms_parser *p)
{
	if (ms_compile(s, &p->args[0]))
		ms_ok(s, NULL, "The script is valid");
	return 0;
}
