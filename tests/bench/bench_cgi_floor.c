/* bench_cgi_floor: the least a CGI program can do, answer a fixed page.
 * tests/bench/bench_webmail.py times it under the same Apache as
 * webmail.cgi: what a process per request costs before any work, the
 * floor under the "CGI within 3x of webmaild" target. */
#include <unistd.h>

int main(void)
{
	/* no Content-Length, as webmail.cgi's pages */
	static const char page[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n";

	return write(1, page, sizeof(page) - 1) == (ssize_t)(sizeof(page) - 1) ? 0 : 1;
}
