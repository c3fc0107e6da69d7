/* The IMAP command tokenizer (RFC 3501 section 9, RFC 7888 literals,
 * RFC 3516 literal8): a pure function over bytes that never blocks and never
 * reads the network. The session feeds it one line at a time (the line
 * without its CRLF, as conn_read_line() hands it out) and, when a line ends
 * in a literal announcement, the literal's bytes; it answers "done", "a
 * literal follows" or "error".
 *
 * It knows the grammar's tokens, not the commands: atoms (with a bracketed
 * section kept whole, so "BODY[HEADER.FIELDS (A B)]<0.10>" is one atom),
 * quoted strings (unescaped), literals {n} {n+} {n-} ~{n}, and parenthesised
 * lists nested up to a depth limit. Every dimension has a limit, checked
 * before anything is stored: bytes of a command, tokens, list depth.
 *
 * Memory: the parser owns one buffer for token contents and one array of
 * tokens; both grow up to the limits and are reused by the next command. */
#ifndef PB_IMAP_PARSER_H
#define PB_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;             /* ~{n}: may hold any byte (BINARY) */
	bool streamed;             /* a literal the caller consumed itself: str is "" */
	uint32_t len;              /* bytes of a string, elements of a list */
	const char *str;           /* strings: NUL-terminated (literals may hold NULs) */
	const struct imap_arg *child; /* lists: the first element, or NULL */
	const struct imap_arg *next;  /* the next element of the same list, or NULL */
	/* private */
	uint32_t off, ichild, inext;
};

struct imap_parser_limits {
	size_t command_max;   /* bytes of token contents in one command */
	unsigned depth_max;   /* nesting of parenthesised lists */
	unsigned tokens_max;  /* tokens (lists included) in one command */
};

enum imap_parse_status {
	IMAP_PARSE_ERROR = -1,   /* syntax error or a limit: imap_parser_error() */
	IMAP_PARSE_DONE = 0,     /* the command is complete */
	IMAP_PARSE_LITERAL = 1,  /* the line announced a literal: see imap_parser_literal_info() */
};

struct imap_parser;

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser **parser);

/* Forgets everything: the next line starts a new command. */
void imap_parser_reset(struct imap_parser *parser);

/* Parses one line (without its line end). After IMAP_PARSE_LITERAL the
 * caller gives the literal's bytes (imap_parser_literal_data) or says it
 * consumed them itself (imap_parser_literal_streamed), then the next line. */
enum imap_parse_status imap_parser_line(struct imap_parser *parser, const char *line, size_t len);

/* The literal announced at the end of the last line. */
struct imap_literal_info {
	uint64_t size;
	bool sync;        /* {n}: the client waits for "+" */
	bool binary;      /* ~{n} */
	unsigned depth;   /* list depth it appears at (0 = top level) */
	unsigned index;   /* its position among the top-level tokens (0 = tag) */
};
void imap_parser_literal_info(const struct imap_parser *parser, struct imap_literal_info *info_r);

/* Gives literal bytes; returns 1 once the literal is complete, 0 if more are
 * needed, -1 if the command grew past command_max (the parser is then in
 * error). */
int imap_parser_literal_data(struct imap_parser *parser, const void *data, size_t len);
/* The caller read the literal itself (APPEND streams it into the store). */
void imap_parser_literal_streamed(struct imap_parser *parser);

/* What went wrong, for a BAD reply (fixed text, never client data). */
const char *imap_parser_error(const struct imap_parser *parser);

/* The top-level tokens parsed so far (the tag first), linked through
 * `next`; valid until the next call that feeds the parser. NULL if none.
 * After IMAP_PARSE_DONE this is the whole command. */
const struct imap_arg *imap_parser_args(struct imap_parser *parser);

/* Scans a line that failed to parse for a literal announcement at its end:
 * 1 with *size_r and *sync_r if there is one (the client will send that many
 * bytes, at once when !sync), 0 if not. */
int imap_line_literal_suffix(const char *line, size_t len, uint64_t *size_r, bool *sync_r);

/* ------------------------------------------------------------- helpers */

/* true if the argument is an atom or string (astring). */
bool imap_arg_is_string(const struct imap_arg *arg);
/* true if the argument is the atom `word` (case-insensitive). */
bool imap_arg_atom_is(const struct imap_arg *arg, const char *word);
/* Number of elements in a list starting at `arg` (following `next`). */
unsigned imap_arg_count(const struct imap_arg *arg);

/* A strictly decimal number (no sign, no leading '+', at most `max`):
 * 1 with *value_r, 0 if not. */
int imap_parse_number(const char *s, size_t len, uint64_t max, uint64_t *value_r);

/* Sequence sets (RFC 3501 sequence-set; RFC 9051: ranges may be reversed).
 * '*' is kept as 0 and resolved against the mailbox by the caller. */
struct imap_range {
	uint32_t lo, hi; /* lo <= hi once resolved; 0 = '*' before */
};
struct imap_seqset {
	struct imap_range *ranges;
	size_t count;
};
/* Parses "1,3:5,7:*": 1 with *set_r (malloc'd ranges), 0 on a syntax
 * error, -1 out of memory. */
int imap_seqset_parse(const char *s, size_t len, struct imap_seqset *set_r);
void imap_seqset_free(struct imap_seqset *set);
/* Resolves '*' to `star`, orders each range, sorts the ranges and merges
 * those that overlap or touch: O(n log n) whatever the order given. */
void imap_seqset_normalize(struct imap_seqset *set, uint32_t star);
/* Whether a parsed set uses '*' (known-uids may not, RFC 7162). */
bool imap_seqset_has_star(const struct imap_seqset *set);
/* Whether a normalized set holds n (a binary search). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);

#endif
