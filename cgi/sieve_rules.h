/* The webmail's filter rules and the Sieve text they are kept as (the
 * store keeps scripts, sieve.h runs them). Pure functions: no store, no
 * I/O; the page (page_filters.c) loads and saves the text.
 *
 * A set is an ordered list of rules; a rule has a name, an enabled flag,
 * "all" or "any" of its conditions and its actions, and may stop the
 * rules after it. The generated script has one shape, which
 * sieve_rules_parse() reads back; any other text is "not ours":
 *
 *   # Pillarbox filters
 *   require ["body", "copy", "fileinto", "imap4flags"];   (the extensions
 *                                                         used; no line when none is)
 *   # rule: Reports                                      (a blank line before each)
 *   if allof (header :contains "Subject" "report", size :over 100K) {
 *   	addflag "\\Seen";
 *   	fileinto "Work";
 *   	stop;
 *   }
 *
 * A disabled rule is written "if allof (false, TEST) {": it still compiles
 * (so it keeps its conditions and actions) and never matches.
 * Conditions, with the field's header names as written ("Subject", "From",
 * ["To", "Cc"], or the user's own header name):
 *   contains / does not contain   [not] header :contains FIELD "v"
 *   is / is not (Subject, header) [not] header :is FIELD "v"
 *   is / is not (From, To or Cc)  [not] address :all :is FIELD "v"
 *   starts with                   header :matches FIELD "v*"  (address :all
 *                                  for From, To or Cc), * ? \ in v escaped
 *   Size over / under             size :over 100K, size :under 2M
 * (the default comparator, i;ascii-casemap: case does not matter).
 * The message text (RFC 5173's body :text: each text part, decoded, never
 * the header) takes contains, does not contain and starts with only ("is"
 * would compare a whole part, its line breaks too, with one line of text):
 *   [not] body :text :contains "v", body :text :matches "v*"
 * Actions: mark as read (addflag "\\Seen"), flag (addflag "\\Flagged"),
 * move (fileinto), copy (fileinto :copy), forward (redirect, with :copy to
 * keep a copy), delete (discard), reject with a message (reject "text",
 * require "reject": RFC 5429; the sender is told, see store/sieve.h; alone
 * in its rule, which stops: a later rule's copy would make the run fail).
 * Flags set by a rule apply to the copies
 * filed after them, by this rule and the ones after it, and to the inbox
 * copy (imap4flags' internal variable): sieve_rule_normalize() puts them
 * before the other actions. Folders are named as the store names them,
 * "/" between levels. */
#ifndef PB_CGI_SIEVE_RULES_H
#define PB_CGI_SIEVE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIEVE_RULES_MAX 50          /* rules in a set */
#define SIEVE_RULE_NAME_MAX 100     /* characters (UTF-8) of a rule's name */
#define SIEVE_RULE_CONDS_MAX 5      /* conditions of a rule (at least one) */
#define SIEVE_RULE_ACTIONS_MAX 4    /* actions of a rule (at least one) */
#define SIEVE_RULE_VALUE_MAX 500    /* octets of a condition's text */
#define SIEVE_RULE_HEADER_MAX 76    /* octets of a header name (RFC 5322's line length) */
#define SIEVE_RULE_TARGET_MAX 255   /* octets of a folder name or an address */
#define SIEVE_RULE_SIZE_MAX 1000000 /* the number of a size condition (K or M) */
#define SIEVE_RULES_ERROR_MAX 160

/* The first line of every script this module writes. */
#define SIEVE_RULES_MAGIC "# Pillarbox filters"

enum sieve_field { SF_FROM, SF_TOCC, SF_SUBJECT, SF_HEADER, SF_BODY, SF_SIZE, SF_COUNT };
enum sieve_op { SO_CONTAINS, SO_NOT_CONTAINS, SO_IS, SO_IS_NOT, SO_STARTS, SO_OVER,
		SO_UNDER, SO_COUNT };
enum sieve_action_kind { SA_MOVE, SA_COPY, SA_READ, SA_FLAG, SA_FORWARD, SA_FORWARD_KEEP,
			 SA_DELETE, SA_REJECT, SA_COUNT };

struct sieve_cond {
	enum sieve_field field;
	enum sieve_op op;                    /* SO_OVER/SO_UNDER for SF_SIZE only; not
					      * SO_IS/SO_IS_NOT for SF_BODY */
	char header[SIEVE_RULE_HEADER_MAX + 1]; /* SF_HEADER: printable ASCII but ':' */
	char value[SIEVE_RULE_VALUE_MAX + 1];   /* text fields: one line of UTF-8, not empty */
	uint32_t size;                       /* SF_SIZE: 1..SIEVE_RULE_SIZE_MAX ... */
	char unit;                           /* ... 'K' or 'M' */
};

struct sieve_action {
	enum sieve_action_kind kind;
	char target[SIEVE_RULE_TARGET_MAX + 1]; /* folder (move, copy), address (forward) or
						 * the message for the sender (reject) */
};

struct sieve_rule {
	char name[SIEVE_RULE_NAME_MAX * 4 + 1]; /* one line of UTF-8, not empty */
	bool enabled;
	bool any;                            /* "any" of the conditions, else "all" */
	struct sieve_cond conds[SIEVE_RULE_CONDS_MAX];
	size_t nconds;
	struct sieve_action actions[SIEVE_RULE_ACTIONS_MAX];
	size_t nactions;
	bool stop;                           /* no further rules when this one matched */
};

struct sieve_rule_set {
	struct sieve_rule rules[SIEVE_RULES_MAX];
	size_t n;
};

/* Short words for the form's fields and the page's summaries
 * ("from", "contains", "move", ...: sieve_rules.c's tables), and back:
 * -1 for an unknown word. */
const char *sieve_field_word(enum sieve_field f);
const char *sieve_op_word(enum sieve_op op);
const char *sieve_action_word(enum sieve_action_kind k);
int sieve_field_from_word(const char *s);
int sieve_op_from_word(const char *s);
int sieve_action_from_word(const char *s);

/* Puts a rule in the form it is kept in: a header name that is one of
 * the fields ("subject", "from" in any case) becomes that field, the
 * mark-as-read and flag actions come first (in their order), a rule that
 * rejects stops. */
void sieve_rule_normalize(struct sieve_rule *r);

/* Checks a rule: 0, or -1 with a sentence for the user in error (which
 * condition or action, and why). What it refuses: an empty or over-long
 * name, text with a control character (CR, LF, tab ...) or invalid UTF-8,
 * 0 or too many conditions or actions, an operator that does not fit the
 * field (is or is not on the message text too), a bad header name or one
 * that is a field, a size out of range, an empty folder, an address that
 * is not one addr-spec, "delete" or "reject" beside another action, a
 * reject without its message, a rule not normalized. */
int sieve_rule_check(const struct sieve_rule *r, char error[SIEVE_RULES_ERROR_MAX]);

/* Writes the set as a script (the shape above): *text_r malloc'd,
 * NUL-terminated, *len_r octets. 0, or -1 with error: a rule refused by
 * sieve_rule_check (its number in the message), a script longer than
 * SIEVE_SCRIPT_MAX, out of memory. */
int sieve_rules_to_sieve(const struct sieve_rule_set *set, char **text_r, size_t *len_r,
			 char error[SIEVE_RULES_ERROR_MAX]);

/* Reads a script back: 1 and *set_r filled when the text is exactly what
 * sieve_rules_to_sieve() writes for some set (so saving it again changes
 * nothing); 0 when it is not ours (written by hand or by another tool);
 * -1 out of memory. */
int sieve_rules_parse(const char *text, size_t len, struct sieve_rule_set *set_r);

/* One line describing a rule for the list: "If the subject contains
 * “report” and the size is over 100K: mark as read, move to Work; stop."
 * Written into out (truncated with "…" past size). */
void sieve_rule_summary(const struct sieve_rule *r, char *out, size_t size);

#endif
