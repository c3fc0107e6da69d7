/* libFuzzer harness for the Authentication-Results reader (cgi/authres.c).
 * The input is a header block read for the authserv-id
 * "mail.example.com". What it gives must hold what authres.h promises
 * (values bounded, printable ASCII), and a field it takes as ours must be
 * one that smtpd removes as forged (mailauth_strip_forged): the webmail
 * never trusts a field that the MX would have let through as another
 * host's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "mailauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID "mail.example.com"

static void check_value(const char *v)
{
	size_t n = strnlen(v, AUTHRES_VALUE_MAX + 1);
	if (n > AUTHRES_VALUE_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			abort();
	}
}

static void check_result(enum authres_result r)
{
	if (r < AUTHRES_ABSENT || r > AUTHRES_OTHER)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authres ar;
	if (size > 64 * 1024)
		return 0;
	/* exactly `size` bytes: a read past them is ASan's to see */
	char *h = malloc(size > 0 ? size : 1);
	if (h == NULL)
		return 0;
	memcpy(h, data, size);
	int r = authres_parse(h, size, ID, &ar);
	if (r != 0 && r != 1)
		abort();
	check_result(ar.dmarc);
	check_result(ar.spf);
	check_result(ar.dkim);
	check_value(ar.header_from);
	check_value(ar.header_d);
	check_value(ar.spf_domain);
	if (ar.dkim_pass && ar.dkim == AUTHRES_ABSENT)
		abort();
	if (r == 0 && (ar.dmarc != AUTHRES_ABSENT || ar.spf != AUTHRES_ABSENT ||
		       ar.dkim != AUTHRES_ABSENT || ar.header_from[0] != '\0'))
		abort();
	(void)authres_warning(&ar);
	/* ours here: smtpd finds a field naming us in the same bytes (up to
	 * the blank line, where the header block ends for smtpd) */
	if (r == 1) {
		size_t len = size;
		for (size_t i = 0; i < size; i++) {
			if ((i == 0 || h[i - 1] == '\n') &&
			    (h[i] == '\n' || (h[i] == '\r' && i + 1 < size && h[i + 1] == '\n'))) {
				len = i;
				break;
			}
		}
		if (mailauth_strip_forged(h, len, true, ID) == len)
			abort();
	}
	free(h);
	return 0;
}
