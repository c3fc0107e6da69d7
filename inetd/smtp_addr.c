/* SMTP envelope addresses and ESMTP parameters (see smtp_addr.h). */
#include <config.h>

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "smtp_addr.h"

/* The parse cursor: p moves towards end; nothing is read at or past end. */
struct cursor {
	const unsigned char *p, *end;
};

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* RFC 5322 §3.2.3 atext. */
static bool is_atext(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A non-ASCII UTF-8 character at the cursor: its length, or 0. */
static size_t utf8_at(const struct cursor *c)
{
	if (c->p >= c->end || *c->p < 0x80)
		return 0;
	return charset_utf8_char_len(c->p, (size_t)(c->end - c->p));
}

/* Appends to a bounded output; false when it does not fit. */
struct out {
	char *buf;
	size_t len, size;
};

static bool out_put(struct out *o, const void *data, size_t len)
{
	if (len >= o->size - o->len)
		return false;
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	o->buf[o->len] = '\0';
	return true;
}

/* Dot-string: Atom *("." Atom), atoms of atext or UTF-8. Copies it to out
 * and sets *utf8 when non-ASCII. */
static bool parse_dot_string(struct cursor *c, struct out *o, bool *utf8)
{
	bool atom_empty = true;

	while (c->p < c->end) {
		size_t n;

		if (is_atext(*c->p)) {
			n = 1;
		} else if ((n = utf8_at(c)) > 0) {
			*utf8 = true;
		} else if (*c->p == '.' && !atom_empty) {
			n = 1;
			atom_empty = true;
			if (!out_put(o, c->p, n))
				return false;
			c->p += n;
			continue;
		} else {
			break;
		}
		if (!out_put(o, c->p, n))
			return false;
		c->p += n;
		atom_empty = false;
	}
	return !atom_empty;
}

/* true if s is a valid dot-string (so it needs no quotes). */
static bool is_dot_string(const char *s, size_t len)
{
	struct cursor c = { (const unsigned char *)s, (const unsigned char *)s + len };
	char scratch[SMTP_LOCALPART_MAX * 2 + 2];
	struct out o = { scratch, 0, sizeof(scratch) };
	bool utf8 = false;

	if (len == 0 || len > SMTP_LOCALPART_MAX)
		return false;
	return parse_dot_string(&c, &o, &utf8) && c.p == c.end;
}

/* Quoted-string: DQUOTE *(qtextSMTP / quoted-pairSMTP / UTF-8) DQUOTE.
 * The unescaped content goes to out. */
static bool parse_quoted_string(struct cursor *c, struct out *o, bool *utf8)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end) {
		unsigned char ch = *c->p;
		size_t n;

		if (ch == '"') {
			c->p++;
			return true;
		}
		if (ch == '\\') {
			/* quoted-pairSMTP = %d92 %d32-126 */
			if (c->end - c->p < 2 || c->p[1] < 32 || c->p[1] > 126)
				return false;
			if (!out_put(o, c->p + 1, 1))
				return false;
			c->p += 2;
			continue;
		}
		if (ch >= 32 && ch <= 126) {
			n = 1;
		} else if ((n = utf8_at(c)) > 0) {
			*utf8 = true;
		} else {
			return false;
		}
		if (!out_put(o, c->p, n))
			return false;
		c->p += n;
	}
	return false;
}

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str],
 * with U-labels (RFC 6531). Copied lowercased (ASCII letters) to out. */
static bool parse_domain(struct cursor *c, struct out *o, bool *utf8)
{
	size_t label = 0, total = 0;
	unsigned char prev = '.';

	while (c->p < c->end) {
		unsigned char ch = *c->p;
		size_t n;

		if (ch == '.') {
			if (label == 0 || prev == '-')
				return false;
			label = 0;
		} else if (is_alpha(ch) || is_digit(ch)) {
			ch = lower(ch);
			label++;
		} else if (ch == '-') {
			if (label == 0)
				return false;
			label++;
		} else if ((n = utf8_at(c)) > 0) {
			*utf8 = true;
			if (!out_put(o, c->p, n))
				return false;
			c->p += n;
			label += n;
			total += n;
			prev = 'u';
			if (label > SMTP_DOMAIN_LABEL_MAX || total > SMTP_DOMAIN_MAX)
				return false;
			continue;
		} else {
			break;
		}
		if (label > SMTP_DOMAIN_LABEL_MAX || ++total > SMTP_DOMAIN_MAX)
			return false;
		if (!out_put(o, &ch, 1))
			return false;
		c->p++;
		prev = ch;
	}
	return label > 0 && prev != '-';
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 ) "]"; general literals
 * (RFC 5321 §4.1.3 Standardized-tag) are refused: nothing uses them. */
static bool literal_valid(const unsigned char *s, size_t len)
{
	char buf[64];
	unsigned char addr[16];

	if (len < 2 || s[0] != '[' || s[len - 1] != ']' || len - 2 >= sizeof(buf))
		return false;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1;
	/* inet_pton takes exactly a dotted quad of decimals for AF_INET. */
	return inet_pton(AF_INET, buf, addr) == 1;
}

static bool parse_literal(struct cursor *c, struct out *o)
{
	const unsigned char *start = c->p, *close;

	close = memchr(c->p, ']', (size_t)(c->end - c->p));
	if (close == NULL || !literal_valid(start, (size_t)(close - start) + 1))
		return false;
	c->p = close + 1;
	/* Canonical: the tag in its registered case, the rest as given. */
	if (strncasecmp((const char *)start + 1, "IPv6:", 5) == 0)
		return out_put(o, "[IPv6:", 6) &&
		       out_put(o, start + 6, (size_t)(c->p - start) - 6);
	return out_put(o, start, (size_t)(c->p - start));
}

/* A-d-l = At-domain *( "," At-domain ) ":"; parsed and dropped. */
static bool parse_adl(struct cursor *c)
{
	char scratch[SMTP_DOMAIN_MAX + 2];

	for (;;) {
		struct out o = { scratch, 0, sizeof(scratch) };
		bool utf8 = false;

		if (c->p >= c->end || *c->p != '@')
			return false;
		c->p++;
		if (c->p < c->end && *c->p == '[' ? !parse_literal(c, &o) : !parse_domain(c, &o, &utf8))
			return false;
		if (c->p >= c->end)
			return false;
		if (*c->p == ':') {
			c->p++;
			return true;
		}
		if (*c->p != ',')
			return false;
		c->p++;
	}
}

/* Path = "<" [ A-d-l ":" ] Mailbox ">", or "<>" when `reverse`. */
static bool parse_path(struct cursor *c, bool reverse, bool rcpt, struct smtp_path *path)
{
	char local[SMTP_LOCALPART_MAX * 4 + 8], domain[SMTP_DOMAIN_MAX + 2];
	struct out lo = { local, 0, sizeof(local) }, dom = { domain, 0, sizeof(domain) };
	struct out addr = { path->address, 0, sizeof(path->address) };
	bool utf8 = false, ok;

	memset(path, 0, sizeof(*path));
	if (c->p >= c->end || *c->p != '<')
		return false;
	c->p++;
	if (reverse && c->p < c->end && *c->p == '>') {
		c->p++;
		path->null = true;
		return true;
	}
	if (c->p < c->end && *c->p == '@') {
		if (!parse_adl(c))
			return false;
		path->source_route = true;
	}
	local[0] = '\0';
	if (c->p < c->end && *c->p == '"')
		ok = parse_quoted_string(c, &lo, &utf8);
	else
		ok = parse_dot_string(c, &lo, &utf8);
	if (!ok)
		return false;
	if (rcpt && !path->source_route && c->p < c->end && *c->p == '>' &&
	    strcasecmp(local, "postmaster") == 0) {
		c->p++;
		path->postmaster = true;
		strcpy(path->address, "postmaster");
		path->local_len = strlen(path->address);
		return true;
	}
	if (c->p >= c->end || *c->p != '@')
		return false;
	c->p++;
	if (c->p < c->end && *c->p == '[') {
		if (!parse_literal(c, &dom))
			return false;
		path->literal = true;
	} else if (!parse_domain(c, &dom, &utf8)) {
		return false;
	}
	if (c->p >= c->end || *c->p != '>')
		return false;
	c->p++;

	/* The canonical local part: bare when it is a dot-string. */
	if (is_dot_string(local, lo.len)) {
		ok = out_put(&addr, local, lo.len);
	} else {
		path->quoted = true;
		ok = out_put(&addr, "\"", 1);
		for (size_t i = 0; ok && i < lo.len; i++) {
			if (local[i] == '"' || local[i] == '\\')
				ok = out_put(&addr, "\\", 1);
			if (ok)
				ok = out_put(&addr, local + i, 1);
		}
		ok = ok && out_put(&addr, "\"", 1);
	}
	path->local_len = addr.len;
	if (!ok || path->local_len > SMTP_LOCALPART_MAX)
		return false;
	if (!out_put(&addr, "@", 1) || !out_put(&addr, domain, dom.len))
		return false;
	path->utf8 = utf8;
	return true;
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value] */
struct param {
	const char *key;
	size_t key_len;
	const char *value;         /* NULL when absent */
	size_t value_len;
};

/* Splits the parameters after a path: SP-separated (several spaces and
 * trailing spaces tolerated). Returns the count, or -1 on bad syntax or
 * too many. */
static int split_params(struct cursor *c, struct param *params)
{
	int n = 0;

	for (;;) {
		const unsigned char *start;

		while (c->p < c->end && *c->p == ' ')
			c->p++;
		if (c->p >= c->end)
			return n;
		if (n == SMTP_PARAMS_MAX)
			return -1;
		start = c->p;
		if (!is_alpha(*c->p) && !is_digit(*c->p))
			return -1;
		while (c->p < c->end && (is_alpha(*c->p) || is_digit(*c->p) || *c->p == '-'))
			c->p++;
		params[n].key = (const char *)start;
		params[n].key_len = (size_t)(c->p - start);
		params[n].value = NULL;
		params[n].value_len = 0;
		if (c->p < c->end && *c->p == '=') {
			c->p++;
			start = c->p;
			while (c->p < c->end && *c->p != ' ') {
				size_t len;

				if (*c->p >= 33 && *c->p <= 126 && *c->p != '=')
					len = 1;
				else if ((len = utf8_at(c)) == 0)
					return -1;
				c->p += len;
			}
			if (c->p == start)
				return -1;
			params[n].value = (const char *)start;
			params[n].value_len = (size_t)(c->p - start);
		}
		if (c->p < c->end && *c->p != ' ')
			return -1;
		n++;
	}
}

static bool key_is(const struct param *p, const char *name)
{
	return p->key_len == strlen(name) && strncasecmp(p->key, name, p->key_len) == 0;
}

static bool value_is(const struct param *p, const char *value)
{
	return p->value != NULL && p->value_len == strlen(value) &&
	       strncasecmp(p->value, value, p->value_len) == 0;
}

static bool hex_upper(unsigned char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'F');
}

/* RFC 3461 4: xtext is "!".."~" but "+" and "=", a byte as "+" and two
 * upper-case hex digits, which must decode to printable US-ASCII (4.2,
 * 4.4: what ENVID and an ORCPT address consist of); `utf8` (ORCPT's utf-8
 * type, RFC 6533 3) lets UTF-8 through too (split_params checked it is
 * well formed). */
static bool xtext_valid(const char *v, size_t len, bool utf8)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '+') {
			if (len - i < 3 || !hex_upper((unsigned char)v[i + 1]) ||
			    !hex_upper((unsigned char)v[i + 2]) || v[i + 1] > '7' ||
			    (v[i + 1] < '2') || (v[i + 1] == '7' && v[i + 2] == 'F'))
				return false; /* not 0x20..0x7E */
			i += 2;
		} else if (ch >= 0x80 ? !utf8 : ch < 33 || ch > 126 || ch == '=') {
			return false;
		}
	}
	return true;
}

/* NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE, DELAY, each once:
 * the STORE_DSN_NOTIFY_* bits, 0 if malformed. */
static uint8_t notify_parse(const char *v, size_t len)
{
	static const struct { const char *word; uint8_t bit; } words[] = {
		{ "NEVER", STORE_DSN_NOTIFY_NEVER }, { "SUCCESS", STORE_DSN_NOTIFY_SUCCESS },
		{ "FAILURE", STORE_DSN_NOTIFY_FAILURE }, { "DELAY", STORE_DSN_NOTIFY_DELAY },
	};
	uint8_t bits = 0;
	size_t i = 0;

	while (i < len) {
		size_t end = i;
		uint8_t bit = 0;

		while (end < len && v[end] != ',')
			end++;
		for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
			if (end - i == strlen(words[w].word) &&
			    strncasecmp(v + i, words[w].word, end - i) == 0)
				bit = words[w].bit;
		if (bit == 0 || (bits & bit))
			return 0;
		bits |= bit;
		if (end < len && end + 1 == len)
			return 0; /* a trailing comma */
		i = end + 1;
	}
	if ((bits & STORE_DSN_NOTIFY_NEVER) && bits != STORE_DSN_NOTIFY_NEVER)
		return 0;
	return bits;
}

/* ORCPT=addr-type ";" xtext: the type an atom of letters, digits and
 * hyphens ("rfc822", "utf-8"), at most STORE_DSN_ORCPT_MAX in all. */
static bool orcpt_valid(const char *v, size_t len)
{
	size_t t = 0;

	if (len > STORE_DSN_ORCPT_MAX)
		return false;
	while (t < len && (is_alpha((unsigned char)v[t]) || is_digit((unsigned char)v[t]) ||
			   v[t] == '-'))
		t++;
	if (t == 0 || t >= len || v[t] != ';' || t + 1 == len)
		return false;
	return xtext_valid(v + t + 1, len - t - 1, t == 5 && strncasecmp(v, "utf-8", 5) == 0);
}

/* "FROM:" / "TO:" then optional spaces. */
static bool parse_verb_arg(struct cursor *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || strncasecmp((const char *)c->p, word, n) != 0)
		return false;
	c->p += n;
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	return true;
}

int smtp_mail_parse(const char *args, size_t len, struct smtp_mail_args *r, const char **reply_r)
{
	struct cursor c = { (const unsigned char *)args, (const unsigned char *)args + len };
	struct param params[SMTP_PARAMS_MAX];
	bool auth_given = false;
	int n;

	memset(r, 0, sizeof(*r));
	if (!parse_verb_arg(&c, "FROM:")) {
		*reply_r = "501 5.5.4 Syntax: MAIL FROM:<address>";
		return 0;
	}
	if (!parse_path(&c, true, false, &r->path) || (c.p < c.end && *c.p != ' ')) {
		*reply_r = "501 5.1.7 Bad sender address syntax";
		return 0;
	}
	if ((n = split_params(&c, params)) < 0) {
		*reply_r = "501 5.5.4 Bad MAIL parameter syntax";
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const struct param *p = &params[i];

		if (key_is(p, "SIZE")) {
			uint64_t v = 0;

			if (r->size_given || p->value == NULL || p->value_len > 20) {
				*reply_r = "501 5.5.4 Bad SIZE parameter";
				return 0;
			}
			for (size_t j = 0; j < p->value_len; j++) {
				unsigned d = (unsigned char)p->value[j] - '0';

				if (d > 9) {
					*reply_r = "501 5.5.4 Bad SIZE parameter";
					return 0;
				}
				v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
			}
			r->size_given = true;
			r->size = v;
		} else if (key_is(p, "BODY")) {
			if (r->body_given || !(value_is(p, "7BIT") || value_is(p, "8BITMIME"))) {
				*reply_r = "501 5.5.4 Bad BODY parameter: 7BIT or 8BITMIME";
				return 0;
			}
			r->body_given = true;
			r->body_8bit = value_is(p, "8BITMIME");
		} else if (key_is(p, "SMTPUTF8")) {
			if (r->smtputf8 || p->value != NULL) {
				*reply_r = "501 5.5.4 Bad SMTPUTF8 parameter";
				return 0;
			}
			r->smtputf8 = true;
		} else if (key_is(p, "AUTH")) {
			/* RFC 4954 §5: an identity asserted by a relaying
			 * server; we trust our own login only, so it is
			 * accepted and ignored. */
			if (auth_given || p->value == NULL) {
				*reply_r = "501 5.5.4 Bad AUTH parameter";
				return 0;
			}
			auth_given = true;
		} else if (key_is(p, "RET")) {
			if (r->ret != STORE_DSN_RET_DEFAULT ||
			    !(value_is(p, "FULL") || value_is(p, "HDRS"))) {
				*reply_r = "501 5.5.4 Bad RET parameter: FULL or HDRS";
				return 0;
			}
			r->ret = value_is(p, "FULL") ? STORE_DSN_RET_FULL : STORE_DSN_RET_HDRS;
		} else if (key_is(p, "ENVID")) {
			if (r->envid[0] != '\0' || p->value == NULL ||
			    p->value_len > STORE_DSN_ENVID_MAX ||
			    !xtext_valid(p->value, p->value_len, false)) {
				*reply_r = "501 5.5.4 Bad ENVID parameter";
				return 0;
			}
			memcpy(r->envid, p->value, p->value_len);
			r->envid[p->value_len] = '\0';
		} else {
			*reply_r = "555 5.5.4 Unsupported MAIL parameter";
			return 0;
		}
	}
	return 1;
}

int smtp_rcpt_parse(const char *args, size_t len, struct smtp_path *path,
		    struct smtp_rcpt_dsn *dsn, const char **reply_r)
{
	struct cursor c = { (const unsigned char *)args, (const unsigned char *)args + len };
	struct param params[SMTP_PARAMS_MAX];
	int n;

	if (!parse_verb_arg(&c, "TO:")) {
		*reply_r = "501 5.5.4 Syntax: RCPT TO:<address>";
		return 0;
	}
	if (!parse_path(&c, false, true, path) || (c.p < c.end && *c.p != ' ')) {
		*reply_r = "501 5.1.3 Bad recipient address syntax";
		return 0;
	}
	memset(dsn, 0, sizeof(*dsn));
	if ((n = split_params(&c, params)) < 0) {
		*reply_r = "501 5.5.4 Bad RCPT parameter syntax";
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const struct param *p = &params[i];

		if (key_is(p, "NOTIFY")) {
			if (dsn->notify != 0 || p->value == NULL ||
			    (dsn->notify = notify_parse(p->value, p->value_len)) == 0) {
				*reply_r = "501 5.5.4 Bad NOTIFY parameter: NEVER, or SUCCESS, "
					   "FAILURE, DELAY";
				return 0;
			}
		} else if (key_is(p, "ORCPT")) {
			if (dsn->orcpt[0] != '\0' || p->value == NULL ||
			    !orcpt_valid(p->value, p->value_len)) {
				*reply_r = "501 5.5.4 Bad ORCPT parameter";
				return 0;
			}
			memcpy(dsn->orcpt, p->value, p->value_len);
			dsn->orcpt[p->value_len] = '\0';
		} else {
			*reply_r = "555 5.5.4 Unsupported RCPT parameter";
			return 0;
		}
	}
	return 1;
}

int smtp_bdat_parse(const char *args, size_t len, uint64_t *size_r, bool *last_r)
{
	size_t i = 0;
	uint64_t v = 0;

	for (; i < len && args[i] >= '0' && args[i] <= '9'; i++) {
		unsigned d = (unsigned)(args[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	if (i == 0)
		return 0;
	if (i == len)
		*last_r = false;
	else if (len - i == 5 && strncasecmp(args + i, " LAST", 5) == 0)
		*last_r = true;
	else
		return 0;
	*size_r = v;
	return 1;
}

bool smtp_helo_valid(const char *s, size_t len)
{
	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return false;
	if (s[0] == '[')
		return literal_valid((const unsigned char *)s, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!is_alpha(ch) && !is_digit(ch) && ch != '-' && ch != '_' && ch != '.')
			return false;
		if (ch == '.' && (i == 0 || s[i - 1] == '.'))
			return false;
	}
	return true;
}
