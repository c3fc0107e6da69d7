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
	T_STRING,
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
	unsigned line;
	bool expand;              /* variables: a key or name holds a "${...}" */
};

enum sieve_op {
	OP_IF, OP_STOP, OP_KEEP, OP_DISCARD, OP_FILEINTO, OP_REDIRECT,
	OP_SETFLAG, OP_ADDFLAG, OP_REMOVEFLAG, OP_VACATION, OP_SET, OP_REJECT, OP_EREJECT,
};

/* set's modifiers (RFC 5229 4.1) */
#define SIEVE_MOD_LOWER         0x01u
#define SIEVE_MOD_UPPER         0x02u
#define SIEVE_MOD_LOWERFIRST    0x04u
#define SIEVE_MOD_UPPERFIRST    0x08u
#define SIEVE_MOD_QUOTEWILDCARD 0x10u
#define SIEVE_MOD_LENGTH        0x20u

struct sieve_cmd {
	enum sieve_op op;
	unsigned line;
	char *arg;                /* fileinto's mailbox, redirect's address, set's value,
				   * reject's reason */
	bool copy, create, has_flags;
	struct sieve_list flags;  /* :flags, or the flag commands' list */
	struct sieve_test *test;  /* if/elsif; NULL for else */
	struct sieve_cmd *block;  /* if/elsif/else */
	struct sieve_cmd *orelse; /* the elsif/else that follows an if/elsif */
	struct sieve_vacation *vacation; /* vacation's arguments (arg: NULL) */
	size_t var;               /* set: the variable's index in the script's names */
	unsigned mods;            /* set: SIEVE_MOD_* */
	bool expand;              /* variables: a string argument holds a "${...}" */
	struct sieve_cmd *next;
};

struct sieve_script {
	struct sieve_cmd *cmds;
	void *mem; /* every allocation, chained */
	bool variables;   /* require "variables": strings expand at run time */
	char **var_names; /* the names set gives (identifiers, first spelling), nvars */
	size_t nvars;
};

/* Keywords (imap4flags) one flag set may hold: far above real use, it
 * keeps set operations and hasflag small; a run passing it fails. */
#define SIEVE_KEYWORDS_MAX 64

/* Octet comparisons one run may make (a :matches costs value x key): about
 * a tenth of a second of CPU. A run past it fails (the implicit keep). */
#define SIEVE_WORK_MAX 100000000

/* ------------------------------------------------------------ matching */

/* Match variables (RFC 5229 3.2): ${0} the whole value, ${1}..${9} what
 * the first nine wildcards took. */
#define SIEVE_MATCH_VARS 10

/* What a :matches took of the value: [start, end) per wildcard, 1-based
 * as the variables are; wildcards past the ninth are not recorded. */
struct sieve_capture {
	size_t start[SIEVE_MATCH_VARS], end[SIEVE_MATCH_VARS];
	size_t n; /* wildcards in the key, at most SIEVE_MATCH_VARS - 1 recorded */
};

/* Does `val` match `key` under the comparator and match type (not
 * MT_COUNT)? Time O(vlen * klen) for MT_MATCHES, O(vlen + klen) else.
 * With `cap` (MT_MATCHES only), a match fills it: each "*" takes as
 * little as it can, left to right (RFC 5229 3.2's examples). */
bool sieve_match(enum sieve_cmp cmp, enum sieve_mt mt, enum sieve_rel rel, const char *val,
		 size_t vlen, const char *key, size_t klen, struct sieve_capture *cap);

/* ------------------------------------------------------------ dates */

/* The longest date-part, std11's "Tue, 01 Dec 2026 18:05:09 +0100", and
 * room to spare */
#define SIEVE_DATE_PART_SIZE 48

/* date's or currentdate's value (sieve.h says how it is read): the
 * date-part in buf, *len_r octets; false when there is none (no such
 * field, or no date in it). *work_r grows by the header octets walked. */
bool sieve_date_value(const struct sieve_message *msg, int64_t now, const struct sieve_test *t,
		      char buf[SIEVE_DATE_PART_SIZE], size_t *len_r, uint64_t *work_r);

/* ------------------------------------------------------------ variables */

/* Limits of the variables extension (RFC 5229 6 asks for at least 128
 * variables, names of 32 characters, values of 4000 characters): a value
 * past SIEVE_VAR_VALUE_MAX octets is cut at a UTF-8 boundary (6: not an
 * error); a string past SIEVE_EXPAND_MAX octets after expansion fails the
 * run (two values side by side fit). Together they bound a run's memory
 * to 128 x 4 KiB of values and every expansion to 8 KiB. */
#define SIEVE_VARS_MAX 128
#define SIEVE_VAR_NAME_MAX 64
#define SIEVE_VAR_VALUE_MAX 4096
#define SIEVE_EXPAND_MAX 8192

/* A "${...}" reference (RFC 5229 3). */
enum sieve_ref_kind { REF_NAME, REF_NUMBER, REF_NAMESPACE };
struct sieve_ref {
	enum sieve_ref_kind kind;
	const char *name;   /* REF_NAME: the identifier (not NUL-terminated) */
	size_t name_len;
	uint64_t number;    /* REF_NUMBER: its value, UINT64_MAX when too large */
};

/* The reference at s (len octets from "$"): its length, 0 when there is
 * none ("${" not followed by a valid reference and "}" stays literal). */
size_t sieve_ref_parse(const char *s, size_t len, struct sieve_ref *ref);

/* RFC 5229 4: identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_"), at most
 * SIEVE_VAR_NAME_MAX octets. */
bool sieve_var_name_ok(const char *s);

/* Whether `s` holds a reference that expands. */
bool sieve_has_ref(const char *s);

/* A run's variables: the script's (indexed as script->var_names) and the
 * match variables, all empty at the start. */
struct sieve_var {
	char *v;
	size_t len;
};
struct sieve_vars {
	const struct sieve_script *script;
	struct sieve_var *vals;                 /* script->nvars */
	struct sieve_var match[SIEVE_MATCH_VARS];
};

int sieve_vars_init(struct sieve_vars *v, const struct sieve_script *script);
void sieve_vars_free(struct sieve_vars *v);

/* Expands every reference of `s` (one pass: values are not expanded
 * again) into a new NUL-terminated string. 0 with *out_r (the caller frees
 * it) and *len_r; -1 past SIEVE_EXPAND_MAX octets, -2 out of memory.
 * *work_r grows by the octets read, written and compared to names. */
int sieve_vars_expand(const struct sieve_vars *v, const char *s, char **out_r, size_t *len_r,
		      uint64_t *work_r);

/* Each string of `in` expanded into *out (free it with sieve_list_free);
 * as sieve_vars_expand. */
int sieve_vars_expand_list(const struct sieve_vars *v, const struct sieve_list *in,
			   struct sieve_list *out, uint64_t *work_r);
void sieve_list_free(struct sieve_list *l);

/* redirect's or vacation's address `s` expanded and checked as the
 * compiler checks a written one (sieve_address_check): 0 with *spec_r its
 * addr-spec (the caller frees it), 1 when it is no valid address, or as
 * sieve_vars_expand. */
int sieve_vars_address(const struct sieve_vars *v, const char *s, char **spec_r,
		       uint64_t *work_r);

/* vacation's arguments `a` with every string expanded and checked as the
 * compiler checks written ones, into *out (free it with
 * sieve_vars_vacation_free, whatever the outcome): 0, 1 when one is not
 * valid (*what_r says which and why), or as sieve_vars_expand. */
int sieve_vars_vacation(const struct sieve_vars *v, const struct sieve_vacation *a,
			struct sieve_vacation *out, const char **what_r, uint64_t *work_r);
void sieve_vars_vacation_free(struct sieve_vacation *x);

/* set: applies `mods` (RFC 5229 4.1's precedence) to `val` (len octets,
 * the caller's, changed in place by the case modifiers) and stores the
 * result in variable `idx`, cut to SIEVE_VAR_VALUE_MAX. 0, -1 out of
 * memory. *work_r grows by the octets handled. */
int sieve_vars_set(struct sieve_vars *v, size_t idx, unsigned mods, char *val, size_t len,
		   uint64_t *work_r);

/* After a successful :matches of `val` with `cap`: ${0}..${9} (wildcards
 * the key did not have are empty). 0, -1 out of memory. */
int sieve_vars_set_matches(struct sieve_vars *v, const char *val, size_t len,
			   const struct sieve_capture *cap, uint64_t *work_r);

/* ------------------------------------------------------------ reject */

/* reject's reason (len octets) as the result keeps it (sieve.h): a new
 * string (the caller frees it) without CR (a CRLF or CR is an LF), other
 * controls, C1 controls and bytes that are no UTF-8, cut at a character
 * boundary past SIEVE_REJECT_MAX octets. NULL out of memory. */
char *sieve_reject_reason(const char *s, size_t len);

/* ------------------------------------------------------------ names */

/* RFC 5228 5.1: "address" only on fields that hold addresses. */
bool sieve_address_field(const char *name);

/* fileinto's and mailboxexists' names: UTF-8 text, not empty; "INBOX" in
 * any case is made "INBOX". false for an invalid one. */
bool sieve_mailbox_ok(char *name);

/* redirect's and vacation's addresses: one mailbox with a domain (RFC 5228
 * 4.2). 1 with *spec_r its addr-spec (the caller frees it), 0 invalid, -1
 * out of memory. */
int sieve_address_check(const char *s, char **spec_r);

#endif
