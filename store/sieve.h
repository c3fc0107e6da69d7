/* Sieve mail filtering (RFC 5228): a user's script is compiled once, then
 * run against one message at delivery. What it decides is a result: the
 * copies to store (mailbox, flags) and the addresses to redirect to. The
 * language code here knows nothing of the store: the caller gives it the
 * message's header block and envelope, and acts on the result.
 *
 * Extensions: fileinto, envelope, copy (RFC 3894), imap4flags (RFC 5232),
 * mailbox (RFC 5490: fileinto :create, mailboxexists), subaddress
 * (RFC 5233), relational (RFC 5231), comparator-i;ascii-numeric (RFC 4790),
 * vacation (RFC 5230: :days, :subject, :from, :addresses, :handle; not
 * :mime), body (RFC 5173: :raw, :content, :text), date (RFC 5260 4-5: the
 * date and currentdate tests; not its index extension), variables (RFC
 * 5229: set and its modifiers, the string test, ${0}..${9} from a
 * successful :matches; no namespaces; limits in sieve_int.h), reject and
 * ereject (RFC 5429: the result says so, the caller refuses the message
 * or sends the notice). Not: regex, include.
 *
 * reject and ereject cancel the implicit keep. A run that takes one of
 * them together with keep, fileinto (even :copy), redirect (even :copy),
 * vacation or a second reject/ereject, in either order, fails (RFC 5429
 * 2.2, as Pigeonhole does: a run error, so the message is kept in INBOX
 * and the log says why); discard and the flag commands go with them.
 *
 * With variables, "${...}" expands at run time in test keys, the header
 * names of header, address, exists and date, mailboxexists' names, set's
 * value, string's sources, fileinto's mailbox, flags, redirect's address
 * and vacation's reason, :subject, :from and :addresses, reject's and
 * ereject's reason; comparator
 * names, relational operators, envelope parts, date-parts, :zone,
 * :content types and :handle stay as written. A mailbox name or address
 * that is not valid once expanded fails the run (the implicit keep), as a
 * script with it written out does not compile. Without require
 * "variables" every string is literal. */
#ifndef PB_SIEVE_H
#define PB_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits: a script longer, deeper or bigger than these does not compile. */
#define SIEVE_SCRIPT_MAX (64 * 1024)  /* octets of script text */
#define SIEVE_DEPTH_MAX 32            /* nested blocks and tests */
#define SIEVE_STRING_MAX 4096         /* octets of one string */
#define SIEVE_LIST_MAX 256            /* strings in one string list */
#define SIEVE_REDIRECTS_MAX 4         /* redirect actions a run may take (distinct
				       * addresses: a repeat is no new action) */
#define SIEVE_ACTIONS_MAX 32          /* fileinto/keep/redirect a run may take (each
				       * one executed counts, the implicit keep not) */
#define SIEVE_ERROR_MAX 256

/* reject's and ereject's reason (RFC 5429): a note to a person, not a
 * letter; a longer one (written out or after expansion) is cut at a
 * character boundary past SIEVE_REJECT_MAX octets, not an error. */
#define SIEVE_REJECT_MAX 1024
/* The reason as one SMTP reply line: "550 5.7.1 " + this + CRLF is 512
 * octets, RFC 5321 4.5.3.1.5's longest reply line. */
#define SIEVE_REJECT_LINE_MAX (512 - 10 - 2)

/* What the body test (RFC 5173) looks at: the body's first SIEVE_BODY_MAX
 * octets and, in them, the first SIEVE_BODY_PARTS_MAX MIME parts (root
 * included); what lies past either is not seen, so it matches nothing. A
 * megabyte holds the text of any real letter (attachments are what make
 * mail big), and keeps a body test under a few milliseconds of decoding.
 * The caller is asked for SIEVE_MESSAGE_MAX octets: the body's megabyte
 * after a header block of up to 64 KiB (a longer header leaves less body). */
#define SIEVE_BODY_MAX (1024 * 1024)
#define SIEVE_MESSAGE_MAX (SIEVE_BODY_MAX + 64 * 1024)
#define SIEVE_BODY_PARTS_MAX 256

struct sieve_script;

/* Compiles `len` octets of UTF-8 text. NULL on failure, with `error` set to
 * "line N: what is wrong" (a syntax error, an unknown command or test, an
 * extension used without `require` or not supported, a limit passed). */
struct sieve_script *sieve_compile(const char *text, size_t len, char error[SIEVE_ERROR_MAX]);
void sieve_script_free(struct sieve_script *script);

/* Whether the script has a vacation action anywhere (it may not run for
 * every message): the webmail says so beside its own out-of-office form. */
bool sieve_script_has_vacation(const struct sieve_script *script);

/* The extensions `require` accepts, space-separated (ManageSieve's SIEVE
 * capability). */
const char *sieve_extensions(void);

/* What a script sees of one message. */
struct sieve_message {
	const char *header;        /* the raw header block (folded lines, CRLF or LF; may be
				    * cut short by the caller: fields past the cut are not seen) */
	size_t header_len;
	uint64_t size;             /* octets of the whole message, for the size test */
	const char *envelope_from; /* MAIL FROM's address, "" for the null sender */
	const char *envelope_to;   /* the address the message was delivered to for this user */
	const char *subaddress_separators; /* e.g. "+" (config recipient_delimiter); NULL/"" none */
	/* mailboxexists and fileinto :create ask this; NULL: every mailbox exists. */
	bool (*mailbox_exists)(void *ctx, const char *mailbox);
	/* The body test asks for the message itself, at most once a run and
	 * only when a script gets to one (most do not; reading it costs): its
	 * first octets, header block included, at most SIEVE_MESSAGE_MAX of
	 * them (fewer: what is not given is not seen). 0 with *data_r and
	 * *len_r valid until sieve_run returns; -1 when it cannot be read (the
	 * run fails: the implicit keep). NULL: a message without a body. */
	int (*message_load)(void *ctx, const char **data_r, size_t *len_r);
	void *ctx;
	/* The run's clock, what every currentdate test of the run sees:
	 * seconds since the epoch; 0: time(NULL) when the run starts. */
	int64_t now;
};

/* System flags of a copy (imap4flags); other flags are keywords. */
#define SIEVE_FLAG_SEEN     0x01u
#define SIEVE_FLAG_ANSWERED 0x02u
#define SIEVE_FLAG_FLAGGED  0x04u
#define SIEVE_FLAG_DELETED  0x08u
#define SIEVE_FLAG_DRAFT    0x10u

struct sieve_copy {
	char *mailbox;        /* UTF-8, "/" between levels as the store names them; "INBOX" for keep */
	bool create;          /* fileinto :create: make the mailbox if it is missing (set
			       * only when msg->mailbox_exists said it is missing) */
	unsigned flags;       /* SIEVE_FLAG_* */
	char **keywords;      /* other flags (atoms), nkeywords of them */
	size_t nkeywords;
};

/* A vacation action (RFC 5230): the caller decides whether and when the
 * sender gets the reply (the RFC's rules, its own limits). */
struct sieve_vacation {
	uint64_t days;        /* :days as written; 0: not given */
	char *subject;        /* :subject, one line of UTF-8, or NULL */
	char *from;           /* :from's addr-spec, or NULL */
	char **addresses;     /* :addresses' addr-specs, naddresses of them */
	size_t naddresses;
	char *reason;         /* the reply's text, UTF-8 */
};

struct sieve_result {
	struct sieve_copy *copies;  /* one per mailbox (a second fileinto to the same mailbox
				     * is one copy, RFC 5228 4.2, with the flags of both); the
				     * implicit keep is a copy to "INBOX" with the flags the
				     * script's internal variable holds at its end */
	size_t ncopies;
	char **redirects;           /* addresses (addr-spec), no duplicates */
	size_t nredirects;
	struct sieve_vacation *vacation; /* the vacation action, or NULL (it does
					  * not cancel the implicit keep) */
	/* reject or ereject (RFC 5429): the reason, UTF-8 of at most
	 * SIEVE_REJECT_MAX octets whose only controls are LF and tab (the
	 * others are taken out), or NULL. A result with it has no copies,
	 * redirects nor vacation. */
	char *reject;
	bool ereject;
	/* A run that failed (a limit passed at run time, out of memory):
	 * the result is the implicit keep alone, to "INBOX" without flags
	 * (RFC 5228 2.10.6; out of memory even for that: no copies, and the
	 * caller keeps in INBOX all the same), and `error` says why, for the
	 * log. */
	bool failed;
	char error[SIEVE_ERROR_MAX];
};

/* Runs `script` against `msg`. Header fields are matched by name in any
 * case; "header" sees each field's value unfolded, RFC 2047-decoded to
 * UTF-8 and trimmed; "address" parses the field (address.h) and skips group
 * markers; ":all" is "local@domain" as the parts were written, unquoted.
 * ":matches" "?" is one octet for i;octet, one UTF-8 character for
 * i;ascii-casemap. Only header_len octets are read, up to the first blank
 * line. "body" (RFC 5173) never sees that header block: :raw is the body
 * as it came, one string; :content and :text (the same as :content "text",
 * as RFC 5173 5.3 allows: attachments and HTML markup included) give one
 * string per MIME part of a matching type, transfer-decoded, a text part
 * converted to UTF-8 from its charset; a matching multipart gives its
 * prologue and epilogue (two strings, as they came), a matching
 * message/rfc822 its encapsulated header block (one string, as it came),
 * and the search goes on inside both. "date" (RFC 5260 4) reads the
 * first field of its name alone (a Received: field: its text after the
 * last ";"), parsed as datetime_parse() does (datetime.h: RFC 5322 and
 * the obsolete forms); no such field, or one that is no date, is no value
 * (the test is false; :count counts 0). "currentdate" reads msg->now.
 * Without :zone or :originalzone a date is seen in the process's local
 * time zone (localtime_r(): TZ, else /etc/localtime) at that instant, in
 * whole minutes. The run takes time linear in the
 * script and, per test, in the octets it looks at (header or body) times
 * key octets for :matches, plus key octets for the other match types; a
 * run past its budget of octet comparisons (sieve_int.h) fails. Always
 * fills *result (a discard is a result with no copies and no redirects).
 * Returns 0, or -1 when the run failed (result->failed: the implicit
 * keep). */
int sieve_run(const struct sieve_script *script, const struct sieve_message *msg,
	      struct sieve_result *result);
void sieve_result_free(struct sieve_result *result);

/* A reject reason as one line of an SMTP reply (SECURITY.md 8): its line
 * breaks, tabs and runs of spaces one space, each non-ASCII character a
 * "?" (a reply is ASCII without SMTPUTF8), trimmed, cut at
 * SIEVE_REJECT_LINE_MAX octets; an empty reason says "Message rejected".
 * `out` has room for SIEVE_REJECT_LINE_MAX + 1 octets. Returns out. */
char *sieve_reject_line(const char *reason, char out[SIEVE_REJECT_LINE_MAX + 1]);

#endif
