/* Private to store/sieve*.c: the compiled script (a small tree allocated
 * from one list freed at once), the lexer and the matcher. */
#ifndef PB_SIEVE_INT_H
#define PB_SIEVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sieve.h"

/* ------------------------------------------------------------ lexer */

enum sieve_tok {
	TOK_EOF, TOK_IDENT, TOK_TAG, TOK_NUMBER, TOK_STRING,
	TOK_LBRACKET, TOK_RBRACKET, TOK_LPAREN, TOK_RPAREN, TOK_LBRACE, TOK_RBRACE,
	TOK_COMMA, TOK_SEMICOLON, TOK_ERROR,
};

struct sieve_token {
	enum sieve_tok type;
	unsigned line;
	uint64_t number;
	size_t len;                      /* of str */
	char str[SIEVE_STRING_MAX + 1];  /* identifier, tag (without ':') or string */
};

struct sieve_lexer {
	const char *p, *end;
	unsigned line;
	char *error; /* SIEVE_ERROR_MAX; set with TOK_ERROR */
};

/* Reads the next token into *t; TOK_ERROR with lx->error set on a bad one. */
void sieve_lex(struct sieve_lexer *lx, struct sieve_token *t);

/* ------------------------------------------------------------ tree */

enum sieve_cmp { CMP_CASEMAP, CMP_OCTET, CMP_NUMERIC };
enum sieve_mt { MT_IS, MT_CONTAINS, MT_MATCHES, MT_VALUE, MT_COUNT };
enum sieve_rel { REL_GT, REL_GE, REL_LT, REL_LE, REL_EQ, REL_NE };
enum sieve_part { PART_ALL, PART_LOCAL, PART_DOMAIN, PART_USER, PART_DETAIL };
/* body's BODY-TRANSFORM (RFC 5173 5) */
enum sieve_transform { BT_TEXT, BT_RAW, BT_CONTENT };
/* date's and currentdate's date-part (RFC 5260 4.2), in the order of
 * sieve_parse.c's names */
enum sieve_datepart {
	DP_YEAR, DP_MONTH, DP_DAY, DP_DATE, DP_JULIAN, DP_HOUR, DP_MINUTE, DP_SECOND,
	DP_TIME, DP_ISO8601, DP_STD11, DP_ZONE, DP_WEEKDAY,
};
/* the zone a date is seen in (RFC 5260 4.1) */
enum sieve_zone { ZONE_LOCAL, ZONE_GIVEN, ZONE_ORIGINAL };

struct sieve_list {
	char **v;
	size_t n;
};

enum sieve_test_kind {
	T_ADDRESS, T_ALLOF, T_ANYOF, T_ENVELOPE, T_EXISTS, T_FALSE, T_TRUE,
	T_HEADER, T_NOT, T_SIZE, T_HASFLAG, T_MAILBOXEXISTS, T_BODY, T_DATE, T_CURRENTDATE,
};

struct sieve_test {
	enum sieve_test_kind kind;
	enum sieve_cmp cmp;
	enum sieve_mt mt;
	enum sieve_rel rel;
	enum sieve_part part;
	enum sieve_transform transform;
	enum sieve_datepart datepart;
	enum sieve_zone zone;
	int zone_minutes;         /* ZONE_GIVEN's offset, minutes east */
	struct sieve_list names;  /* header names (date: one), envelope parts,
				   * mailboxes, body :content's types */
	struct sieve_list keys;
	bool over;                /* size :over, else :under */
	uint64_t size;
	struct sieve_test *sub;   /* not, allof, anyof */
	struct sieve_test *next;  /* the next test of an allof/anyof list */
};

enum sieve_op {
	OP_IF, OP_STOP, OP_KEEP, OP_DISCARD, OP_FILEINTO, OP_REDIRECT,
	OP_SETFLAG, OP_ADDFLAG, OP_REMOVEFLAG, OP_VACATION,
};

struct sieve_cmd {
	enum sieve_op op;
	unsigned line;
	char *arg;                /* fileinto's mailbox, redirect's address */
	bool copy, create, has_flags;
	struct sieve_list flags;  /* :flags, or the flag commands' list */
	struct sieve_test *test;  /* if/elsif; NULL for else */
	struct sieve_cmd *block;  /* if/elsif/else */
	struct sieve_cmd *orelse; /* the elsif/else that follows an if/elsif */
	struct sieve_vacation *vacation; /* vacation's arguments (arg: NULL) */
	struct sieve_cmd *next;
};

struct sieve_script {
	struct sieve_cmd *cmds;
	void *mem; /* every allocation, chained */
};

/* Keywords (imap4flags) one flag set may hold: far above real use, it
 * keeps set operations and hasflag small; a run passing it fails. */
#define SIEVE_KEYWORDS_MAX 64

/* Octet comparisons one run may make (a :matches costs value x key): about
 * a tenth of a second of CPU. A run past it fails (the implicit keep). */
#define SIEVE_WORK_MAX 100000000

/* ------------------------------------------------------------ matching */

/* Does `val` match `key` under the comparator and match type (not
 * MT_COUNT)? Time O(vlen * klen) for MT_MATCHES, O(vlen + klen) else. */
bool sieve_match(enum sieve_cmp cmp, enum sieve_mt mt, enum sieve_rel rel, const char *val,
		 size_t vlen, const char *key, size_t klen);

#endif
