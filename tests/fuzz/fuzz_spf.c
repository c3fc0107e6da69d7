/* libFuzzer harness for SPF (inetd/spf.h): the input is a DNS zone and a
 * request, and spf_check runs against it; the input as one string also
 * goes through spf_macro_expand of each kind. Pure: DNS is answered from
 * the zone, deterministic, and bounded by spf.c's limits.
 *
 * Input lines ('\n'): the first is "C sender helo" where C picks the
 * client ('4' 192.0.2.1, '6' 2001:db8::1, 'm' ::ffff:192.0.2.1) and a
 * missing sender is the null one; then records "T name data":
 *   T TXT  A address  6 AAAA address  M "pref host" ("0 " null MX)
 *   P name (a PTR of the client; name unused)  X name (every lookup fails)
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_spf
 * Run:   tests/fuzz/fuzz_spf -max_total_time=300 ../../tests/fuzz/corpus/spf */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Records kept from one input: more than the limits let a check ask. */
#define ZONE_MAX 64

struct rr {
	char type;
	char name[DNS_HOST_MAX];
	const char *data;    /* into the input copy, NUL-terminated */
};

struct zone {
	struct rr rr[ZONE_MAX];
	size_t n;
	unsigned queries;
};

static int lookup(struct zone *z, const char *name, char type)
{
	bool any = false, found = false;

	z->queries++;
	for (size_t k = 0; k < z->n; k++) {
		if (z->rr[k].type == 'P' || strcasecmp(z->rr[k].name, name) != 0)
			continue;
		if (z->rr[k].type == 'X')
			return DNS_TEMPFAIL;
		any = true;
		found |= z->rr[k].type == type;
	}
	return found ? DNS_FOUND : any ? DNS_NODATA : DNS_NXDOMAIN;
}

static int z_txt(void *ctx, const char *name, struct dns_txt *txt, const char **error_r)
{
	struct zone *z = ctx;
	int st = lookup(z, name, 'T');
	size_t total = 0, off = 0;

	memset(txt, 0, sizeof(*txt));
	(void)error_r;
	if (st != DNS_FOUND)
		return st;
	for (size_t k = 0; k < z->n; k++)
		if (z->rr[k].type == 'T' && strcasecmp(z->rr[k].name, name) == 0)
			total += strlen(z->rr[k].data) + 1;
	txt->mem = malloc(total);
	if (txt->mem == NULL)
		return DNS_TEMPFAIL;
	for (size_t k = 0; k < z->n && txt->n < DNS_TXT_MAX; k++)
		if (z->rr[k].type == 'T' && strcasecmp(z->rr[k].name, name) == 0) {
			size_t l = strlen(z->rr[k].data);

			memcpy(txt->mem + off, z->rr[k].data, l + 1);
			txt->rec[txt->n] = txt->mem + off;
			txt->len[txt->n++] = l;
			off += l + 1;
		}
	return DNS_FOUND;
}

static int z_addrs(void *ctx, const char *host, int family, struct dns_addr *out, size_t max,
		   size_t *n_r, const char **error_r)
{
	struct zone *z = ctx;
	char t = family == AF_INET ? 'A' : '6';
	int st = lookup(z, host, t);

	*n_r = 0;
	(void)error_r;
	if (st != DNS_FOUND)
		return st;
	for (size_t k = 0; k < z->n && *n_r < max; k++) {
		struct dns_addr *a = &out[*n_r];
		void *dst;

		if (z->rr[k].type != t || strcasecmp(z->rr[k].name, host) != 0)
			continue;
		memset(a, 0, sizeof(*a));
		a->sa.ss_family = (sa_family_t)family;
		dst = family == AF_INET ? (void *)&((struct sockaddr_in *)&a->sa)->sin_addr
					: (void *)&((struct sockaddr_in6 *)&a->sa)->sin6_addr;
		if (inet_pton(family, z->rr[k].data, dst) == 1)
			(*n_r)++;
	}
	return DNS_FOUND;
}

static int z_mx(void *ctx, const char *domain, struct dns_mx *mx, size_t max, size_t *n_r,
		bool *null_mx_r, const char **error_r)
{
	struct zone *z = ctx;
	int st = lookup(z, domain, 'M');

	*n_r = 0;
	*null_mx_r = false;
	(void)error_r;
	if (st != DNS_FOUND)
		return st;
	for (size_t k = 0; k < z->n && *n_r < max; k++) {
		const char *sp;

		if (z->rr[k].type != 'M' || strcasecmp(z->rr[k].name, domain) != 0)
			continue;
		sp = strchr(z->rr[k].data, ' ');
		if (sp == NULL || sp[1] == '\0') {
			*null_mx_r = true;
			continue;
		}
		mx[*n_r].pref = (uint16_t)atoi(z->rr[k].data);
		snprintf(mx[*n_r].host, sizeof(mx[*n_r].host), "%s", sp + 1);
		(*n_r)++;
	}
	return DNS_FOUND;
}

static int z_ptr(void *ctx, const struct sockaddr *sa, char (*names)[DNS_HOST_MAX], size_t max,
		 size_t *n_r, const char **error_r)
{
	struct zone *z = ctx;

	*n_r = 0;
	(void)sa;
	(void)error_r;
	z->queries++;
	for (size_t k = 0; k < z->n && *n_r < max; k++)
		if (z->rr[k].type == 'P')
			snprintf(names[(*n_r)++], DNS_HOST_MAX, "%s", z->rr[k].data);
	return *n_r > 0 ? DNS_FOUND : DNS_NXDOMAIN;
}

static void printable(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n >= size)
		abort();
	for (size_t k = 0; k < n; k++)
		if (s[k] < 0x20 || s[k] > 0x7e || s[k] == '(' || s[k] == ')' || s[k] == '\\')
			abort();
}

static void macros(const char *in, size_t len)
{
	static const enum spf_macro_kind kinds[] = { SPF_MACRO_DOMAIN, SPF_MACRO_STRING,
						     SPF_MACRO_EXPLAIN };
	struct spf_macro_vars v = {
		.s = "a.b-c+d@example.com", .l = "a.b-c+d", .o = "example.com", .d = "example.com",
		.i = "192.0.2.1", .v = "in-addr", .h = "[x] y", .c = "192.0.2.1", .r = "r.test",
		.t = "1",
	};
	static char out[SPF_EXPAND_MAX];
	const char *why;

	for (size_t k = 0; k < 3; k++) {
		int r = spf_macro_expand(in, len, kinds[k], &v, out, sizeof(out), &why);

		if (r == 0 && (strlen(out) >= sizeof(out) ||
			       (kinds[k] == SPF_MACRO_DOMAIN && strlen(out) > 253)))
			abort();
		if (r == -1 && why == NULL)
			abort();
		/* The syntax check alone agrees with the expansion. */
		if ((spf_macro_expand(in, len, kinds[k], NULL, NULL, 0, &why) == -1) != (r == -1))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zone z;
	char *buf, *line, *next, *sender = "", *helo = "";
	struct sockaddr_storage ss;
	struct spf_outcome out;
	struct dns_lookup dns = { z_txt, z_addrs, z_mx, z_ptr, &z };
	struct spf_request req = { (struct sockaddr *)&ss, "", "", "mx.test", 1 };
	enum spf_result r;

	if (size > 65536)
		return 0;
	macros((const char *)data, size);
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&z, 0, sizeof(z));
	memset(&ss, 0, sizeof(ss));
	line = buf;
	next = strchr(line, '\n');
	if (next != NULL)
		*next++ = '\0';
	/* The request line: client, sender, HELO. */
	if (line[0] == '6') {
		ss.ss_family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::1", &((struct sockaddr_in6 *)&ss)->sin6_addr);
	} else if (line[0] == 'm') {
		ss.ss_family = AF_INET6;
		inet_pton(AF_INET6, "::ffff:192.0.2.1", &((struct sockaddr_in6 *)&ss)->sin6_addr);
	} else {
		ss.ss_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.1", &((struct sockaddr_in *)&ss)->sin_addr);
	}
	if (line[0] != '\0' && line[1] == ' ') {
		char *sp;

		sender = line + 2;
		sp = strchr(sender, ' ');
		if (sp != NULL) {
			*sp = '\0';
			helo = sp + 1;
		}
	}
	req.sender = sender;
	req.helo = helo;
	/* The zone. */
	for (line = next; line != NULL && z.n < ZONE_MAX; line = next) {
		char *sp;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strchr("TA6MPX", line[0]) == NULL || line[0] == '\0' || line[1] != ' ')
			continue;
		sp = strchr(line + 2, ' ');
		z.rr[z.n].type = line[0];
		if (sp != NULL)
			*sp = '\0';
		snprintf(z.rr[z.n].name, sizeof(z.rr[z.n].name), "%s", line + 2);
		z.rr[z.n].data = sp != NULL ? sp + 1 : "";
		z.n++;
	}
	r = spf_check(&dns, &req, &out);
	if (r != out.result || r < SPF_NONE || r > SPF_PERMERROR)
		abort();
	if (strcmp(spf_result_name(r), "permerror") == 0 && r != SPF_PERMERROR)
		abort();
	printable(out.reason, sizeof(out.reason));
	printable(out.explanation, sizeof(out.explanation));
	if (out.explanation[0] != '\0' && r != SPF_FAIL)
		abort();
	if (strnlen(out.domain, sizeof(out.domain)) >= sizeof(out.domain))
		abort();
	/* At most: 10 terms, each an MX lookup and 10 hosts' addresses, the
	 * PTR names' once, records, the exp= text. */
	if (z.queries > 200)
		abort();
	free(buf);
	return 0;
}
