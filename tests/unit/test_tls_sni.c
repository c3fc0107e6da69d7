/* SNI names as file names (inetd/tls_sni.c): what a hostile ClientHello
 * may carry is refused, a host name is lowercased, the limits just below,
 * at and above, the wildcard name and the paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tls_sni.h"

static char out[TLS_SNI_NAME_MAX + 1];

static void name_ok(const char *name, const char *expect)
{
	memset(out, 'X', sizeof(out));
	if (tls_sni_name_normalize(name, strlen(name), out) != 0)
		fail_msg("refused: \"%s\"", name);
	assert_string_equal(out, expect);
}

static void name_bad_len(const void *name, size_t len)
{
	memset(out, 'X', sizeof(out));
	if (tls_sni_name_normalize(name, len, out) != -1)
		fail_msg("accepted: \"%.*s\" (%zu bytes)", (int)len, (const char *)name, len);
	assert_string_equal(out, "");
}

static void name_bad(const char *name)
{
	name_bad_len(name, strlen(name));
}

static void test_names(void **state)
{
	(void)state;
	name_ok("mail.example.com", "mail.example.com");
	name_ok("MAIL.Example.COM", "mail.example.com");
	name_ok("localhost", "localhost");
	name_ok("a-b.x1.example", "a-b.x1.example");
	name_ok("xn--bcher-kva.example", "xn--bcher-kva.example");
	name_ok("1.2.3.4", "1.2.3.4"); /* digits are label characters; no file is special */
}

static void test_hostile(void **state)
{
	(void)state;
	name_bad("");
	name_bad("..");
	name_bad(".");
	name_bad("../x");
	name_bad("x/../y");
	name_bad("a..b");
	name_bad(".example.com");
	name_bad("example.com.");       /* RFC 6066 3: no trailing dot */
	name_bad("/etc/passwd");
	name_bad("a/b");
	name_bad("a\\b");
	name_bad("_wildcard.example.com"); /* only we make that name */
	name_bad("*.example.com");
	name_bad("-a.example");
	name_bad("a-.example");
	name_bad("a.-b");
	name_bad("a.b-");
	name_bad("a b");
	name_bad("mail\x7f" "example");
	name_bad("m\xc3\xa4il.example");  /* UTF-8: IDNs come as xn-- */
	name_bad("%2e%2e");
	name_bad_len("a\0b", 3);          /* a NUL inside */
	name_bad_len("ab\0", 3);
}

static void test_limits(void **state)
{
	char name[TLS_SNI_NAME_MAX + 3];

	(void)state;
	/* a label of 63 letters: fine; 64: refused */
	memset(name, 'a', 64);
	name[63] = '\0';
	name_ok(name, name);
	name[63] = 'a';
	name[64] = '\0';
	name_bad(name);
	/* 253 characters in all: fine; 254: refused (labels of 1) */
	for (size_t i = 0; i < sizeof(name); i++)
		name[i] = i % 2 == 0 ? 'b' : '.';
	name[TLS_SNI_NAME_MAX] = '\0';
	name_ok(name, name);
	name[TLS_SNI_NAME_MAX] = '.';
	name[TLS_SNI_NAME_MAX + 1] = 'b';
	name[TLS_SNI_NAME_MAX + 2] = '\0';
	name_bad(name);
	name_bad_len(name, TLS_SNI_NAME_MAX + 1);
}

static void test_wildcard(void **state)
{
	char w[TLS_SNI_DIR_NAME_SIZE];
	char name[TLS_SNI_NAME_MAX + 1];

	(void)state;
	assert_int_equal(tls_sni_wildcard_name("mail.example.com", w), 0);
	assert_string_equal(w, "_wildcard.example.com");
	assert_int_equal(tls_sni_wildcard_name("a.b", w), 0);
	assert_string_equal(w, "_wildcard.b");
	assert_int_equal(tls_sni_wildcard_name("localhost", w), -1);
	assert_string_equal(w, "");
	/* the longest name: the prefix still fits */
	for (size_t i = 0; i < TLS_SNI_NAME_MAX; i++)
		name[i] = i % 2 == 0 ? 'c' : '.';
	name[TLS_SNI_NAME_MAX] = '\0';
	assert_int_equal(tls_sni_wildcard_name(name, w), 0);
	assert_int_equal(strlen(w), strlen(TLS_SNI_WILDCARD_PREFIX) + TLS_SNI_NAME_MAX - 2);
}

static void test_paths(void **state)
{
	char cert[64], key[64];

	(void)state;
	assert_int_equal(tls_sni_paths("/etc/letsencrypt/live", "mail.example.com", cert, key,
				       sizeof(cert)), 0);
	assert_string_equal(cert, "/etc/letsencrypt/live/mail.example.com/fullchain.pem");
	assert_string_equal(key, "/etc/letsencrypt/live/mail.example.com/privkey.pem");
	/* the chain's is the longer name: 63 characters fit in 64 bytes, 64 do not */
	assert_int_equal(tls_sni_paths("/d", "0123456789012345678901234567890123456789012345",
				       cert, key, sizeof(cert)), 0);
	assert_int_equal(strlen(cert), sizeof(cert) - 1);
	assert_int_equal(tls_sni_paths("/d", "01234567890123456789012345678901234567890123456",
				       cert, key, sizeof(cert)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
