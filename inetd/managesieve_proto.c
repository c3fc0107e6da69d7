/* The ManageSieve argument parser (RFC 5804 section 4): a command name,
 * then strings (quoted, or literals {n+} and {n} ending a line) and
 * numbers, separated by one space. A pure function over lines: the session
 * reads the literals it announces. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "managesieve.h"
#include "password.h"

/* Digits in a literal's size: more is over every limit anyway. */
#define MS_LITERAL_DIGITS_MAX 10

static bool ms_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '{' && c != '}' && c != '(' &&
	       c != ')' && c != '\\' && c != '%' && c != '*';
}

/* Does the line end in something a client would send a literal after
 * ("{123}" or "{123+}")? */
static bool ms_ends_in_literal(const char *line, size_t len)
{
	size_t i = len;

	if (i == 0 || line[--i] != '}')
		return false;
	if (i > 0 && line[i - 1] == '+')
		i--;
	size_t end = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	return end > i && i > 0 && line[i - 1] == '{';
}

static enum ms_parse_status ms_fail(struct ms_parser *p, const char *line, size_t len,
				    const char *error)
{
	p->error = error;
	p->literal_pending = ms_ends_in_literal(line, len);
	return MS_PARSE_ERROR;
}

void ms_parser_init(struct ms_parser *p, bool command)
{
	memset(p, 0, sizeof(*p));
	p->command = command;
}

void ms_parser_clear(struct ms_parser *p)
{
	for (size_t i = 0; i < p->nargs; i++) {
		password_wipe(p->args[i].data, p->args[i].len);
		free(p->args[i].data);
	}
	ms_parser_init(p, p->command);
}

static struct ms_arg *ms_arg_add(struct ms_parser *p, enum ms_arg_type type, char *data,
				 size_t len, bool literal)
{
	struct ms_arg *a = &p->args[p->nargs++];

	a->type = type;
	a->data = data;
	a->len = len;
	a->literal = literal;
	return a;
}

/* A quoted string from line[*pos] (the opening quote). */
static enum ms_parse_status ms_quoted(struct ms_parser *p, const char *line, size_t len,
				      size_t *pos)
{
	char *out = malloc(MS_QUOTED_MAX + 1);
	size_t n = 0, i = *pos + 1;

	if (out == NULL)
		return ms_fail(p, line, len, "Out of memory");
	for (;; i++) {
		unsigned char c;

		if (i >= len) {
			free(out);
			return ms_fail(p, line, len, "Unterminated quoted string");
		}
		c = (unsigned char)line[i];
		if (c == '"')
			break;
		if (c == '\\') {
			if (i + 1 >= len || (line[i + 1] != '"' && line[i + 1] != '\\')) {
				free(out);
				return ms_fail(p, line, len, "Bad escape in quoted string");
			}
			c = (unsigned char)line[++i];
		} else if (c == '\0' || c == '\r' || c == '\n') {
			free(out);
			return ms_fail(p, line, len, "NUL, CR or LF in quoted string");
		}
		if (n == MS_QUOTED_MAX) {
			free(out);
			return ms_fail(p, line, len, "Quoted string too long");
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	ms_arg_add(p, MS_ARG_STRING, out, n, false);
	*pos = i + 1;
	return MS_PARSE_DONE;
}

/* A literal marker from line[*pos] ('{'): it must end the line. */
static enum ms_parse_status ms_literal(struct ms_parser *p, const char *line, size_t len,
				       size_t pos)
{
	size_t i = pos + 1, digits = 0;
	uint64_t n = 0;

	while (i < len && line[i] >= '0' && line[i] <= '9' && digits < MS_LITERAL_DIGITS_MAX + 1) {
		n = n * 10 + (uint64_t)(line[i] - '0');
		i++;
		digits++;
	}
	if (digits == 0 || digits > MS_LITERAL_DIGITS_MAX)
		return ms_fail(p, line, len, "Bad literal size");
	p->literal_sync = true;
	if (i < len && line[i] == '+') {
		p->literal_sync = false;
		i++;
	}
	if (i >= len || line[i] != '}' || i + 1 != len)
		return ms_fail(p, line, len, "A literal must end its line");
	p->literal_len = n;
	if (n > MS_LITERAL_MAX)
		return MS_PARSE_TOO_BIG;
	return MS_PARSE_LITERAL;
}

/* The command name: letters only, case-insensitive (kept upper-cased). */
static enum ms_parse_status ms_name(struct ms_parser *p, const char *line, size_t len,
				    size_t *pos)
{
	size_t i = 0;

	while (i < len && line[i] != ' ') {
		char c = line[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z' || i == MS_COMMAND_NAME_MAX)
			return ms_fail(p, line, len, "Unknown command");
		p->name[i++] = c;
	}
	if (i == 0)
		return ms_fail(p, line, len, "Empty command");
	p->name[i] = '\0';
	*pos = i;
	return MS_PARSE_DONE;
}

enum ms_parse_status ms_parse_line(struct ms_parser *p, const char *line, size_t len)
{
	enum ms_parse_status st;
	size_t pos = 0;
	bool need_sp = true;

	p->literal_pending = false;
	p->error = NULL;
	if (p->continuing) {
		p->continuing = false;
		if (len == 0)
			return MS_PARSE_DONE;
	} else if (p->command) {
		if ((st = ms_name(p, line, len, &pos)) != MS_PARSE_DONE)
			return st;
	} else {
		need_sp = false;
	}
	while (pos < len) {
		if (need_sp) {
			if (line[pos] != ' ' || pos + 1 >= len)
				return ms_fail(p, line, len, "Syntax error: one space between arguments");
			pos++;
		}
		need_sp = true;
		if (p->nargs == MS_ARGS_MAX)
			return ms_fail(p, line, len, "Too many arguments");
		if (line[pos] == '"') {
			if ((st = ms_quoted(p, line, len, &pos)) != MS_PARSE_DONE)
				return st;
		} else if (line[pos] == '{') {
			st = ms_literal(p, line, len, pos);
			if (st == MS_PARSE_LITERAL)
				p->continuing = true;
			return st;
		} else {
			size_t start = pos;

			while (pos < len && ms_atom_char((unsigned char)line[pos]))
				pos++;
			if (pos == start || pos - start > MS_QUOTED_MAX)
				return ms_fail(p, line, len, "Syntax error in arguments");
			char *a = malloc(pos - start + 1);

			if (a == NULL)
				return ms_fail(p, line, len, "Out of memory");
			memcpy(a, line + start, pos - start);
			a[pos - start] = '\0';
			ms_arg_add(p, MS_ARG_ATOM, a, pos - start, false);
		}
	}
	if (!p->command && p->nargs == 0)
		return ms_fail(p, line, len, "Empty response");
	return MS_PARSE_DONE;
}

void ms_parser_literal(struct ms_parser *p, char *data, size_t len)
{
	ms_arg_add(p, MS_ARG_STRING, data, len, true);
}

int ms_arg_number(const struct ms_arg *arg, uint32_t *n_r)
{
	uint64_t n = 0;

	if (arg->type != MS_ARG_ATOM || arg->len == 0 || arg->len > 10)
		return 0;
	for (size_t i = 0; i < arg->len; i++) {
		if (arg->data[i] < '0' || arg->data[i] > '9')
			return 0;
		n = n * 10 + (uint64_t)(arg->data[i] - '0');
	}
	if (n > UINT32_MAX)
		return 0;
	*n_r = (uint32_t)n;
	return 1;
}
