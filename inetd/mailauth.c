/* The MX's sender checks and the Authentication-Results field (mailauth.h). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "authres_id.h"
#include "mailauth.h"

struct mailauth {
	struct dkim_verifier *dkim;   /* NULL: no signature to check */
	bool dkim_error;              /* the verifier could not start */
	char from[DNS_HOST_MAX];      /* the one From: domain, "" none */
	const char *from_why;         /* why there is none */
};

int mailauth_new(const char *header, size_t len, bool complete, struct mailauth **ma_r,
		 const char **error_r)
{
	struct mailauth *ma = calloc(1, sizeof(*ma));

	*ma_r = NULL;
	if (ma == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (!complete) {
		ma->from_why = "header too large to check";
		*ma_r = ma;
		return 0;
	}
	if (dmarc_from_domain(header, len, ma->from, &ma->from_why) != 1)
		ma->from[0] = '\0';
	const char *error = NULL;
	int r = dkim_verifier_new(header, len, &ma->dkim, &error);

	if (r < 0) {
		/* Out of memory or no GnuTLS: the signatures are not checked
		 * (temperror), the message is not refused for it. */
		ma->dkim = NULL;
		ma->dkim_error = true;
	}
	*ma_r = ma;
	return 0;
}

void mailauth_body(struct mailauth *ma, const char *data, size_t len)
{
	if (ma != NULL && ma->dkim != NULL)
		dkim_verifier_body(ma->dkim, data, len);
}

void mailauth_free(struct mailauth **ma)
{
	if (*ma == NULL)
		return;
	dkim_verifier_free(&(*ma)->dkim);
	free(*ma);
	*ma = NULL;
}

/* ------------------------------------------------------------ the field */

struct out {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* RFC 2045 token characters: printable ASCII but SP and tspecials. */
static bool token_char(unsigned char c)
{
	return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* A property value: a token as it is, else a quoted-string; "" or text
 * with control or non-ASCII bytes is left out (with its name). */
static void put_prop(struct out *o, const char *name, const char *value)
{
	bool token = value[0] != '\0';

	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p < 32 || *p >= 127)
			return;
		if (!token_char(*p))
			token = false;
	}
	if (value[0] == '\0')
		return;
	puts_(o, " ");
	puts_(o, name);
	puts_(o, "=");
	if (token) {
		puts_(o, value);
		return;
	}
	puts_(o, "\"");
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			puts_(o, "\\");
		put(o, p, 1);
	}
	puts_(o, "\"");
}

/* A comment "(text)": printable ASCII, parentheses and backslashes
 * dropped (nested comments are legal but a reader gains nothing). */
static void put_comment(struct out *o, const char *text)
{
	char c[120];
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && n < sizeof(c) - 1;
	     p++)
		if (*p >= 32 && *p < 127 && *p != '(' && *p != ')' && *p != '\\')
			c[n++] = (char)*p;
	c[n] = '\0';
	if (n == 0)
		return;
	puts_(o, " (");
	puts_(o, c);
	puts_(o, ")");
}

size_t mailauth_field_format(const char *authserv_id, const struct spf_outcome *spf,
			     const struct dkim_sig_result *dkim, size_t n_dkim,
			     const struct dmarc_outcome *dmarc, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size };

	if (size == 0)
		return 0;
	buf[0] = '\0';
	puts_(&o, "Authentication-Results: ");
	puts_(&o, authserv_id);
	puts_(&o, ";\r\n\tspf=");
	puts_(&o, spf_result_name(spf->result));
	put_comment(&o, spf->reason);
	put_prop(&o, spf->helo_identity ? "smtp.helo" : "smtp.mailfrom", spf->domain);
	if (n_dkim == 0) {
		puts_(&o, ";\r\n\tdkim=none");
	}
	for (size_t i = 0; i < n_dkim && i < MAILAUTH_FIELD_SIGS; i++) {
		puts_(&o, ";\r\n\tdkim=");
		puts_(&o, dkim_result_name(dkim[i].result));
		if (dkim[i].result != DKIM_PASS)
			put_comment(&o, dkim[i].reason);
		else if (dkim[i].testing)
			put_comment(&o, "test key");
		put_prop(&o, "header.d", dkim[i].domain);
		put_prop(&o, "header.s", dkim[i].selector);
		put_prop(&o, "header.b", dkim[i].b8);
	}
	puts_(&o, ";\r\n\tdmarc=");
	puts_(&o, dmarc_result_name(dmarc->result));
	if (dmarc->result == DMARC_PASS || dmarc->result == DMARC_FAIL) {
		char p[40];

		snprintf(p, sizeof(p), "p=%s", dmarc_policy_name(dmarc->requested));
		put_comment(&o, p);
	} else {
		put_comment(&o, dmarc->reason);
	}
	put_prop(&o, "header.from", dmarc->domain);
	puts_(&o, "\r\n");
	return o.overflow ? 0 : o.len;
}

/* ------------------------------------------------------------ forged fields */

size_t mailauth_strip_forged(char *h, size_t len, bool complete, const char *authserv_id)
{
	static const char name[] = "authentication-results";
	const size_t nl = sizeof(name) - 1;
	size_t r = 0, w = 0;

	while (r < len) {
		size_t end = authres_field_end(h, len, r), colon = r + nl;

		/* The last field of a block cut short may go on past it: left
		 * whole rather than half removed. */
		if (end == len && !complete) {
			memmove(h + w, h + r, end - r);
			w += end - r;
			break;
		}

		while (colon < end && (h[colon] == ' ' || h[colon] == '\t'))
			colon++;
		if (end - r > nl && strncasecmp(h + r, name, nl) == 0 && colon < end &&
		    h[colon] == ':' &&
		    authres_names_id(h + colon + 1, end - colon - 1, authserv_id, NULL)) {
			r = end;
			continue;
		}
		memmove(h + w, h + r, end - r);
		w += end - r;
		r = end;
	}
	return w;
}

/* ------------------------------------------------------------ DNS with a budget */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool spent(const struct mailauth_dns *md, const char **error_r)
{
	if (md->res == NULL) {
		*error_r = "no resolver";
		return true;
	}
	if (now_ms() < md->deadline_ms)
		return false;
	*error_r = "the time for sender checks is spent";
	return true;
}

static int budget_txt(void *ctx, const char *name, struct dns_txt *txt, const char **error_r)
{
	struct mailauth_dns *md = ctx;

	memset(txt, 0, sizeof(*txt));
	return spent(md, error_r) ? DNS_TEMPFAIL : dns_txt(md->res, name, txt, error_r);
}

static int budget_addrs(void *ctx, const char *host, int family, struct dns_addr *out,
			size_t max, size_t *n_r, const char **error_r)
{
	struct mailauth_dns *md = ctx;

	*n_r = 0;
	return spent(md, error_r) ? DNS_TEMPFAIL
				  : dns_addrs_family(md->res, host, family, out, max, n_r, error_r);
}

static int budget_mx(void *ctx, const char *domain, struct dns_mx *mx, size_t max, size_t *n_r,
		     bool *null_mx_r, const char **error_r)
{
	struct mailauth_dns *md = ctx;

	*n_r = 0;
	*null_mx_r = false;
	return spent(md, error_r) ? DNS_TEMPFAIL
				  : dns_mx(md->res, domain, mx, max, n_r, null_mx_r, error_r);
}

static int budget_ptr(void *ctx, const struct sockaddr *sa, char (*names)[DNS_HOST_MAX],
		      size_t max, size_t *n_r, const char **error_r)
{
	struct mailauth_dns *md = ctx;

	*n_r = 0;
	return spent(md, error_r) ? DNS_TEMPFAIL : dns_ptr(md->res, sa, names, max, n_r, error_r);
}

void mailauth_dns_init(struct mailauth_dns *md, struct dns_resolver *res, unsigned seconds)
{
	md->res = res;
	md->deadline_ms = now_ms() + (int64_t)seconds * 1000;
	md->lookup.txt = budget_txt;
	md->lookup.addrs = budget_addrs;
	md->lookup.mx = budget_mx;
	md->lookup.ptr = budget_ptr;
	md->lookup.ctx = md;
}

/* ------------------------------------------------------------ the checks */

void mailauth_finish(struct mailauth **map, const struct dns_lookup *dns,
		     const struct mailauth_client *client, bool enforce, unsigned rnd,
		     struct mailauth_verdict *v)
{
	struct mailauth *ma = *map;
	struct spf_outcome spf;
	struct dkim_sig_result dkim[DKIM_VERIFY_SIGS_MAX];
	struct dmarc_dkim dd[DKIM_VERIFY_SIGS_MAX];
	struct dmarc_outcome dmarc;
	size_t n_dkim = 0;

	memset(v, 0, sizeof(*v));
	memset(&spf, 0, sizeof(spf));
	memset(&dmarc, 0, sizeof(dmarc));
	v->action = MAILAUTH_DELIVER;
	if (client->ip != NULL) {
		struct spf_request req = {
			.ip = client->ip,
			.helo = client->helo,
			.sender = client->sender,
			.receiver = client->authserv_id,
		};

		spf_check(dns, &req, &spf);
	} else {
		spf.result = SPF_NONE;
		snprintf(spf.reason, sizeof(spf.reason), "client address unknown");
	}
	if (ma->dkim != NULL) {
		n_dkim = dkim_verifier_finish(&ma->dkim, dns, (int64_t)time(NULL), dkim,
					      DKIM_VERIFY_SIGS_MAX);
	} else if (ma->dkim_error) {
		memset(&dkim[0], 0, sizeof(dkim[0]));
		dkim[0].result = DKIM_TEMPERROR;
		snprintf(dkim[0].reason, sizeof(dkim[0].reason), "signatures could not be checked");
		n_dkim = 1;
	}
	if (ma->from[0] != '\0') {
		for (size_t i = 0; i < n_dkim; i++) {
			dd[i].result = dkim[i].result;
			dd[i].domain = dkim[i].domain;
		}
		struct dmarc_input in = {
			.from_domain = ma->from,
			.spf = spf.result,
			.spf_domain = spf.domain,
			.spf_helo = spf.helo_identity,
			.dkim = dd,
			.n_dkim = n_dkim,
		};

		dmarc_evaluate(dns, &in, rnd, &dmarc);
	} else {
		dmarc.result = DMARC_NONE;
		snprintf(dmarc.reason, sizeof(dmarc.reason), "%s",
			 ma->from_why != NULL ? ma->from_why : "no From: domain");
	}
	if (enforce && dmarc.result == DMARC_FAIL) {
		if (dmarc.policy == DMARC_POLICY_REJECT) {
			v->action = MAILAUTH_REJECT;
			/* RFC 7489 7.3 */
			snprintf(v->reply, sizeof(v->reply),
				 "550 5.7.1 Message refused: it fails the DMARC policy of %s "
				 "(not sent by a server %s names, not signed by it)",
				 dmarc.domain, dmarc.domain);
		} else if (dmarc.policy == DMARC_POLICY_QUARANTINE) {
			v->action = MAILAUTH_JUNK;
		}
	}
	v->field_len = mailauth_field_format(client->authserv_id, &spf, dkim, n_dkim, &dmarc,
					     v->field, sizeof(v->field));
	/* Too long with every signature: the first one alone. */
	if (v->field_len == 0 && n_dkim > 1)
		v->field_len = mailauth_field_format(client->authserv_id, &spf, dkim, 1, &dmarc,
						     v->field, sizeof(v->field));
	{
		struct out o = { .buf = v->summary, .size = sizeof(v->summary) };
		char part[160];

		snprintf(part, sizeof(part), "spf=%s", spf_result_name(spf.result));
		puts_(&o, part);
		if (n_dkim == 0)
			puts_(&o, " dkim=none");
		for (size_t i = 0; i < n_dkim; i++) {
			snprintf(part, sizeof(part), " dkim=%s/%s", dkim_result_name(dkim[i].result),
				 dkim[i].domain[0] != '\0' ? dkim[i].domain : "?");
			puts_(&o, part);
		}
		snprintf(part, sizeof(part), " dmarc=%s", dmarc_result_name(dmarc.result));
		puts_(&o, part);
		if (dmarc.result == DMARC_FAIL) {
			snprintf(part, sizeof(part), "/%s", dmarc_policy_name(dmarc.policy));
			puts_(&o, part);
		}
		if (dmarc.domain[0] != '\0') {
			snprintf(part, sizeof(part), " from_domain=%s", dmarc.domain);
			puts_(&o, part);
		}
	}
	mailauth_free(map);
}
