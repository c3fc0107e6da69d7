/* Unit tests of mail client set-up: the autodiscover request parser
 * (cgi/autodiscover.c), the XML writer's escaping (cgi/xmlout.c), the
 * service list from the configuration and the address check (cgi/setup.c),
 * and the XML body handling of the request layer (cgi/http.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiscover.h"
#include "http.h"
#include "setup.h"
#include "xmlout.h"

#define REQ(email, schema)                                                                   \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"http://schemas." \
	"microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\r\n  <Request>\r\n" \
	"    <EMailAddress>" email "</EMailAddress>\r\n    <AcceptableResponseSchema>" schema  \
	"</AcceptableResponseSchema>\r\n  </Request>\r\n</Autodiscover>\r\n"

static int parse(const char *xml, struct autodiscover_request *r, const char **error)
{
	*error = NULL;
	return autodiscover_parse(xml, strlen(xml), r, error);
}

static void test_outlook_request(void **state)
{
	(void)state;
	struct autodiscover_request r;
	const char *error;
	assert_int_equal(parse(REQ("bob@example.com", AUTODISCOVER_SCHEMA_OUTLOOK), &r, &error), 0);
	assert_string_equal(r.email, "bob@example.com");
	assert_string_equal(r.schema, AUTODISCOVER_SCHEMA_OUTLOOK);
	/* prefixes, a BOM, comments, PIs, attributes, references, CDATA,
	 * blanks around the value, elements we do not read */
	const char *x = "\xef\xbb\xbf<!-- c --><?pi x?>\n<a:Autodiscover xmlns:a='x' b=\"&amp;&#x41;\">"
			"<a:Request><Other><x/></Other><a:EMailAddress>\n o&apos;n&#64;ex<![CDATA[am<>]]>"
			"ple.com </a:EMailAddress><a:AcceptableResponseSchema/></a:Request></a:Autodiscover>"
			"<!-- after -->\n";
	assert_int_equal(parse(x, &r, &error), 0);
	assert_string_equal(r.email, "o'n@exam<>ple.com");
	assert_string_equal(r.schema, "");
	/* an EMailAddress elsewhere is not the request's */
	assert_int_equal(parse("<Autodiscover><EMailAddress>a@b</EMailAddress></Autodiscover>", &r,
			       &error), 0);
	assert_string_equal(r.email, "");
	/* a character reference beyond the BMP */
	assert_int_equal(parse(REQ("&#x1F600;@x", "s"), &r, &error), 0);
	assert_string_equal(r.email, "\xf0\x9f\x98\x80@x");
}

static void test_bad_requests(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"   ",
		"not xml",
		"<Autodiscover>",
		"<Autodiscover></autodiscover>",
		"<Other/>",
		"<Autodiscover/><Autodiscover/>",
		"<Autodiscover/>text",
		"text<Autodiscover/>",
		"<Autodiscover>&foo;</Autodiscover>",
		"<Autodiscover>&#0;</Autodiscover>",
		"<Autodiscover>&#xD800;</Autodiscover>",
		"<Autodiscover>&#99999999999;</Autodiscover>",
		"<Autodiscover>&amp</Autodiscover>",
		"<Autodiscover>a]]>b</Autodiscover>",
		"<Autodiscover><![CDATA[x</Autodiscover>",
		"<Autodiscover><!-- a -- b --></Autodiscover>",
		"<Autodiscover><!-- a </Autodiscover>",
		"<Autodiscover a=\"1\"b=\"2\"/>",
		"<Autodiscover a=1/>",
		"<Autodiscover a=\"<\"/>",
		"<Autodiscover a=\"x/>",
		"<!DOCTYPE a [<!ENTITY x \"y\">]><Autodiscover>&x;</Autodiscover>",
		"<Autodiscover><!ELEMENT x ANY></Autodiscover>",
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?><Autodiscover/>",
		"<?xml version=\"1.0\" encoding=\"utf-8x\"?><Autodiscover/>",
		"<Autodiscover/><?xml version=\"1.0\"?>",
		"<Autodiscover><?xml x?></Autodiscover>",
		"<Autodiscover></Autodiscover x>",
		"<1Autodiscover/>",
		"<Autodiscover><Request><EMailAddress>a<b/></EMailAddress></Request></Autodiscover>",
		("<Autodiscover><Request><EMailAddress>a</EMailAddress><EMailAddress>b</EMailAddress>"
		 "</Request></Autodiscover>"),
		"<Autodiscover>\x01</Autodiscover>",
		"<Autodiscover>\xc3\x28</Autodiscover>",
		"<Autodiscover>\xef\xbf\xbe</Autodiscover>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct autodiscover_request r;
		const char *error;
		if (parse(bad[i], &r, &error) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(error);
		assert_string_equal(r.email, "");
	}
	/* a NUL inside */
	struct autodiscover_request r;
	const char *error;
	assert_int_equal(autodiscover_parse("<Autodiscover>\0</Autodiscover>", 30, &r, &error), -1);
}

static void test_limits(void **state)
{
	(void)state;
	struct autodiscover_request r;
	const char *error;
	char *x = malloc(AUTODISCOVER_BODY_MAX + 2);
	assert_non_null(x);
	/* nesting: the limit, and one past it */
	for (int depth = AUTODISCOVER_DEPTH_MAX; depth <= AUTODISCOVER_DEPTH_MAX + 1; depth++) {
		size_t o = (size_t)sprintf(x, "<Autodiscover>");
		for (int i = 1; i < depth; i++)
			o += (size_t)sprintf(x + o, "<a>");
		for (int i = 1; i < depth; i++)
			o += (size_t)sprintf(x + o, "</a>");
		sprintf(x + o, "</Autodiscover>");
		assert_int_equal(parse(x, &r, &error), depth <= AUTODISCOVER_DEPTH_MAX ? 0 : -1);
	}
	/* element count */
	size_t o = (size_t)sprintf(x, "<Autodiscover>");
	for (int i = 0; i < AUTODISCOVER_ELEMENTS_MAX; i++)
		o += (size_t)sprintf(x + o, "<a/>");
	sprintf(x + o, "</Autodiscover>");
	assert_int_equal(parse(x, &r, &error), -1);
	/* a value of the longest length, and one byte more */
	for (size_t n = AUTODISCOVER_VALUE_MAX; n <= AUTODISCOVER_VALUE_MAX + 1; n++) {
		o = (size_t)sprintf(x, "<Autodiscover><Request><EMailAddress>");
		memset(x + o, 'a', n);
		sprintf(x + o + n, "</EMailAddress></Request></Autodiscover>");
		assert_int_equal(parse(x, &r, &error), n <= AUTODISCOVER_VALUE_MAX ? 0 : -1);
	}
	/* the whole body */
	memset(x, ' ', AUTODISCOVER_BODY_MAX + 1);
	memcpy(x, "<Autodiscover/>", 15);
	assert_int_equal(autodiscover_parse(x, AUTODISCOVER_BODY_MAX, &r, &error), 0);
	assert_int_equal(autodiscover_parse(x, AUTODISCOVER_BODY_MAX + 1, &r, &error), -1);
	free(x);
}

static void test_escape(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	const char in[] = "a&b<c>\"d'\r\ne\rf\x01g\xff\xed\xa0\x80h\xef\xbf\xbfi\xc3\xa9\tj";
	xml_escape(&b, in, sizeof(in) - 1);
	assert_false(b.failed);
	assert_string_equal(b.data, "a&amp;b&lt;c&gt;&quot;d&apos;\ne\nf\xef\xbf\xbdg\xef\xbf\xbd"
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdh\xef\xbf\xbdi\xc3\xa9\tj");
	buf_free(&b);

	/* the writer: attributes escaped, elements balanced */
	struct xml x;
	buf_init(&b, 0);
	xml_begin(&x, &b, NULL);
	xml_open(&x, "r", (const char *const[]){ "id", "\"<&>\"", NULL });
	xml_elem(&x, "v", "<script>");
	xml_elem_uint(&x, "n", 993);
	xml_empty(&x, "true");
	xml_close(&x);
	assert_int_equal(xml_finish(&x), 0);
	assert_string_equal(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			    "<r id=\"&quot;&lt;&amp;&gt;&quot;\">\n\t<v>&lt;script&gt;</v>\n"
			    "\t<n>993</n>\n\t<true/>\n</r>\n");
	xml_open(&x, "unclosed", NULL);
	assert_int_equal(xml_finish(&x), -1);
	buf_free(&b);
}

static void test_services(void **state)
{
	(void)state;
	struct config *config = config_defaults();
	assert_non_null(config);
	struct setup_service s[SETUP_SERVICES_MAX];
	/* defaults without TLS: the STARTTLS ports, plain */
	size_t n = setup_services(config, s);
	assert_int_equal(n, 3);
	assert_int_equal(s[0].proto, SETUP_IMAP);
	assert_int_equal(s[0].port, 143);
	assert_int_equal(s[0].security, SETUP_PLAIN);
	assert_int_equal(s[2].port, 587);
	/* with TLS: implicit TLS first, each protocol */
	config->tls_cert = strdup("/c");
	config->tls_key = strdup("/k");
	n = setup_services(config, s);
	assert_int_equal(n, 6);
	static const unsigned ports[] = { 993, 143, 995, 110, 465, 587 };
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s[i].port, ports[i]);
		assert_int_equal(s[i].security, i % 2 == 0 ? SETUP_SSL : SETUP_STARTTLS);
	}
	/* 0 = not offered */
	config->pop3_port = 0;
	config->pop3s_port = 0;
	config->smtps_port = 0;
	n = setup_services(config, s);
	assert_int_equal(n, 3);
	assert_int_equal(setup_preferred(s, n, SETUP_SMTP)->port, 587);
	assert_null(setup_preferred(s, n, SETUP_POP3));
	/* the public name */
	assert_string_equal(setup_hostname(config), config->hostname);
	config->public_hostname = strdup("mx.example.net");
	assert_string_equal(setup_hostname(config), "mx.example.net");
	config_free(&config);
}

static void test_address(void **state)
{
	(void)state;
	char d[256];
	assert_true(setup_address_domain("Bob.O'Neil+x@Example.COM", d, sizeof(d)));
	assert_string_equal(d, "example.com");
	static const char *const bad[] = {
		"", "bob", "@example.com", "bob@", "bob@exa mple.com", "bo b@example.com",
		"<b>@example.com", "bob@example..com", "bob@.example.com", "bob@example.com.",
		"bob@exa_mple.com", "b\xc3\xa9@example.com", "bob@[127.0.0.1]",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (setup_address_domain(bad[i], d, sizeof(d)))
			fail_msg("accepted: %s", bad[i]);
	}
	assert_false(setup_address_domain("bob@example.com", d, 11));   /* no room */
}

static void test_http_xml_body(void **state)
{
	(void)state;
	const char *body = REQ("bob@example.com", "s");
	/* kept raw, fed in pieces */
	struct http_request *req = http_request_new();
	assert_non_null(req);
	req->content_type = "text/xml; charset=utf-8";
	req->content_length = (int64_t)strlen(body);
	assert_int_equal(http_body_begin(req, 1 << 20), 0);
	for (size_t i = 0, len = strlen(body); i < len; i += 7) {
		size_t n = len - i < 7 ? len - i : 7;
		assert_int_equal(http_body_feed(req, body + i, n), 0);
	}
	assert_int_equal(http_body_end(req), 0);
	assert_int_equal(req->error_status, 0);
	assert_non_null(req->xml);
	assert_int_equal(req->xml_len, strlen(body));
	assert_string_equal(req->xml, body);
	assert_int_equal(req->body.count, 0);
	http_request_free(&req);
	/* too large, announced or not */
	req = http_request_new();
	req->content_type = "application/xml";
	req->content_length = HTTP_XML_BODY_MAX + 1;
	assert_int_equal(http_body_begin(req, 1 << 20), -1);
	assert_int_equal(req->error_status, 413);
	http_request_free(&req);
	req = http_request_new();
	req->content_type = "Text/XML";
	assert_int_equal(http_body_begin(req, 1 << 20), 0);
	char chunk[4096];
	memset(chunk, ' ', sizeof(chunk));
	int r = 0;
	for (int i = 0; i < 5 && r == 0; i++)
		r = http_body_feed(req, chunk, sizeof(chunk));
	assert_int_equal(r, -1);
	http_body_end(req);
	assert_int_equal(req->error_status, 413);
	assert_null(req->xml);
	http_request_free(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outlook_request),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_http_xml_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
