/* libFuzzer harness for Outlook's autodiscover request parser
 * (cgi/autodiscover.c) and the XML writer's escaping (cgi/xmlout.c).
 * The input is a request body. Whatever it holds, the parser must answer
 * within its bounds; a value it returns, written back into a request with
 * xml_escape, must parse again to the same value (the escaping is sound and
 * the parser reads what the writer writes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autodiscover.h"
#include "setup.h"
#include "xmlout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const char *v)
{
	size_t len = strlen(v);
	if (len > AUTODISCOVER_VALUE_MAX)
		abort();
	if (len > 0 && (v[0] == ' ' || v[0] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\n'))
		abort();   /* values come trimmed */
	for (size_t i = 0, n; i < len; i += n) {
		long cp = xml_utf8_decode((const unsigned char *)v + i, len - i, &n);
		if (cp < 0 || !xml_is_char(cp))
			abort();
	}
}

/* The escaped text holds no markup: no < > " ', and every & starts one of
 * the entities xml_escape writes. */
static void check_escaped(const char *s, size_t len)
{
	static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '<' || s[i] == '>' || s[i] == '"' || s[i] == '\'' || s[i] == '\r')
			abort();
		if (s[i] == '&') {
			bool ok = false;
			for (size_t k = 0; k < 5; k++)
				ok |= strncmp(s + i, entities[k], strlen(entities[k])) == 0;
			if (!ok)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct autodiscover_request req, again;
	const char *error;
	if (size > AUTODISCOVER_BODY_MAX + 64)
		return 0;
	int r = autodiscover_parse((const char *)data, size, &req, &error);
	if (r < 0) {
		if (error == NULL || req.email[0] != '\0' || req.schema[0] != '\0')
			abort();
		return 0;
	}
	check_value(req.email);
	check_value(req.schema);
	char domain[256];
	setup_address_domain(req.email, domain, sizeof(domain));

	/* round trip through the writer */
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a:Autodiscover xmlns:a=\"x\">"
		     "<a:Request><a:EMailAddress>");
	size_t start = b.len;
	xml_escape(&b, req.email, strlen(req.email));
	check_escaped(b.data + start, b.len - start);
	buf_puts(&b, "</a:EMailAddress><a:AcceptableResponseSchema><![CDATA[x]]>");
	buf_puts(&b, "</a:AcceptableResponseSchema></a:Request></a:Autodiscover>\n");
	if (b.failed)
		abort();
	if (strchr(req.email, '\r') == NULL) {
		if (autodiscover_parse(b.data, b.len, &again, &error) < 0 ||
		    strcmp(again.email, req.email) != 0 || strcmp(again.schema, "x") != 0)
			abort();
	}
	buf_free(&b);
	return 0;
}
