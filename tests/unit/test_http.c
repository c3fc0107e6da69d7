/* Unit tests of the request helpers shared by both front ends (cgi/http.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http.h"

/* If-None-Match (RFC 9110 13.1.2): a list, weak comparison, "*". */
static void test_etag_match(void **state)
{
	(void)state;
	const char *etag = "\"4b6a-6b09efeb\"";
	assert_true(http_etag_match("\"4b6a-6b09efeb\"", etag));
	assert_true(http_etag_match("W/\"4b6a-6b09efeb\"", etag));
	assert_true(http_etag_match("\"x\", \"4b6a-6b09efeb\"", etag));
	assert_true(http_etag_match("\"x\",W/\"4b6a-6b09efeb\" ,\"y\"", etag));
	assert_true(http_etag_match("*", etag));
	assert_false(http_etag_match(NULL, etag));
	assert_false(http_etag_match("", etag));
	assert_false(http_etag_match("\"4b6a-6b09efec\"", etag));
	assert_false(http_etag_match("\"4b6a-6b09efeb", etag));
	assert_false(http_etag_match("4b6a-6b09efeb", etag));
	assert_false(http_etag_match("\"4b6a\", \"6b09efeb\"", etag));
	assert_false(http_etag_match("w/\"4b6a-6b09efeb\"", etag));
	assert_false(http_etag_match("\"x\" junk \"4b6a-6b09efeb\"", etag));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etag_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
