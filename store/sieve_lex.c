/* Sieve tokens (RFC 5228 2.4, 8.1): identifiers, tags, numbers with a
 * K/M/G quantifier, quoted strings, "text:" multi-line strings, comments.
 * Lines may end in CRLF or LF alone. A string past SIEVE_STRING_MAX and a
 * NUL byte anywhere are errors. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sieve_int.h"

__attribute__((format(printf, 3, 4)))
static void lex_error(struct sieve_lexer *lx, struct sieve_token *t, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(lx->error, SIEVE_ERROR_MAX, "line %u: ", t->line);
	va_start(ap, fmt);
	vsnprintf(lx->error + n, SIEVE_ERROR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	t->type = TOK_ERROR;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Appends one octet to the token's string; false past the limit. */
static bool put(struct sieve_lexer *lx, struct sieve_token *t, char c)
{
	if (t->len >= SIEVE_STRING_MAX) {
		lex_error(lx, t, "string longer than %d octets", SIEVE_STRING_MAX);
		return false;
	}
	t->str[t->len++] = c;
	return true;
}

static void lex_quoted(struct sieve_lexer *lx, struct sieve_token *t)
{
	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		char c = *lx->p++;
		/* RFC 5228 2.4.2: "\" before any other octet is dropped */
		if (c == '\\' && lx->p < lx->end)
			c = *lx->p++;
		if (c == '\n')
			lx->line++;
		if (!put(lx, t, c))
			return;
	}
	if (lx->p >= lx->end) {
		lex_error(lx, t, "unterminated string");
		return;
	}
	lx->p++;
	t->type = TOK_STRING;
}

/* After "text:": blanks, then a comment or a line break, then lines up to
 * one holding "." alone; a line starting ".." loses its first dot. */
static void lex_text(struct sieve_lexer *lx, struct sieve_token *t)
{
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
		lx->p++;
	if (lx->p < lx->end && *lx->p == '#') {
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	} else if (lx->p < lx->end && *lx->p == '\r')
		lx->p++;
	if (lx->p >= lx->end || *lx->p != '\n') {
		lex_error(lx, t, "\"text:\" must end its line");
		return;
	}
	lx->p++;
	lx->line++;
	for (;;) {
		const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
		if (nl == NULL) {
			lex_error(lx, t, "unterminated \"text:\" string");
			return;
		}
		const char *s = lx->p, *e = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
		lx->p = nl + 1;
		lx->line++;
		if (e - s == 1 && *s == '.')
			break;
		if (*s == '.' && s + 1 < e && s[1] == '.')
			s++;
		for (; s <= nl; s++)
			if (!put(lx, t, *s))
				return;
	}
	t->type = TOK_STRING;
}

static void lex_number(struct sieve_lexer *lx, struct sieve_token *t)
{
	uint64_t n = 0;
	while (lx->p < lx->end && is_digit(*lx->p)) {
		unsigned d = (unsigned)(*lx->p++ - '0');
		if (n > (UINT64_MAX - d) / 10) {
			lex_error(lx, t, "number too large");
			return;
		}
		n = n * 10 + d;
	}
	unsigned shift = 0;
	if (lx->p < lx->end) {
		switch (*lx->p) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		}
	}
	if (shift != 0) {
		lx->p++;
		if (n > UINT64_MAX >> shift) {
			lex_error(lx, t, "number too large");
			return;
		}
		n <<= shift;
	}
	if (lx->p < lx->end && (is_alpha(*lx->p) || is_digit(*lx->p))) {
		lex_error(lx, t, "bad number");
		return;
	}
	t->type = TOK_NUMBER;
	t->number = n;
}

/* Skips blanks, line breaks and comments; false on an unterminated one. */
static bool skip_space(struct sieve_lexer *lx, struct sieve_token *t)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
		} else if (c == '\n') {
			lx->p++;
			lx->line++;
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (c == '/' && lx->end - lx->p >= 2 && lx->p[1] == '*') {
			unsigned start = lx->line;
			lx->p += 2;
			while (lx->end - lx->p >= 2 && !(lx->p[0] == '*' && lx->p[1] == '/'))
				lx->line += *lx->p++ == '\n';
			if (lx->end - lx->p < 2) {
				t->line = start;
				lex_error(lx, t, "unterminated comment");
				return false;
			}
			lx->p += 2;
		} else {
			break;
		}
	}
	return true;
}

void sieve_lex(struct sieve_lexer *lx, struct sieve_token *t)
{
	static const char punct[] = "[](){},;";
	static const enum sieve_tok ptok[] = {
		TOK_LBRACKET, TOK_RBRACKET, TOK_LPAREN, TOK_RPAREN,
		TOK_LBRACE, TOK_RBRACE, TOK_COMMA, TOK_SEMICOLON,
	};

	t->len = 0;
	t->str[0] = '\0';
	if (!skip_space(lx, t))
		return;
	t->line = lx->line;
	if (lx->p >= lx->end) {
		t->type = TOK_EOF;
		return;
	}
	char c = *lx->p;
	const char *pc = c != '\0' ? strchr(punct, c) : NULL;
	if (pc != NULL) {
		lx->p++;
		t->type = ptok[pc - punct];
	} else if (c == '"') {
		lex_quoted(lx, t);
	} else if (is_digit(c)) {
		lex_number(lx, t);
	} else if (is_alpha(c) || (c == ':' && lx->end - lx->p >= 2 && is_alpha(lx->p[1]))) {
		t->type = c == ':' ? TOK_TAG : TOK_IDENT;
		if (c == ':')
			lx->p++;
		/* identifiers are short; SIEVE_STRING_MAX bounds them anyway */
		while (lx->p < lx->end && (is_alpha(*lx->p) || is_digit(*lx->p)))
			if (!put(lx, t, *lx->p++))
				return;
		if (t->type == TOK_IDENT && t->len == 4 && memcmp(t->str, "text", 4) == 0 &&
		    lx->p < lx->end && *lx->p == ':') {
			lx->p++;
			t->len = 0;
			lex_text(lx, t);
		}
	} else {
		lex_error(lx, t, "unexpected character 0x%02x", (unsigned char)c);
		return;
	}
	if (t->type != TOK_ERROR)
		t->str[t->len] = '\0';
}
