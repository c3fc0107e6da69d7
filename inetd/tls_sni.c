/* SNI names as file names (tls_sni.h). The name comes from the network
 * before any authentication: it is checked byte by byte and rebuilt, never
 * passed on as received (SECURITY.md 1, 6). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tls_sni.h"

static bool tls_sni_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int tls_sni_name_normalize(const void *name, size_t len, char *out)
{
	const unsigned char *p = name;
	size_t label = 0;

	out[0] = '\0';
	if (len == 0 || len > TLS_SNI_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == '.') {
			/* no empty label, none ending in '-' */
			if (label == 0 || out[i - 1] == '-')
				goto bad;
			label = 0;
		} else if (!tls_sni_label_char(c) || (label == 0 && c == '-') ||
			   ++label > TLS_SNI_LABEL_MAX) {
			goto bad;
		}
		out[i] = (char)c;
	}
	if (label == 0 || out[len - 1] == '-')
		goto bad;
	out[len] = '\0';
	return 0;
bad:
	out[0] = '\0';
	return -1;
}

int tls_sni_wildcard_name(const char *name, char *out)
{
	const char *parent = strchr(name, '.');

	out[0] = '\0';
	if (parent == NULL || strlen(parent + 1) > TLS_SNI_NAME_MAX)
		return -1;
	snprintf(out, TLS_SNI_DIR_NAME_SIZE, "%s%s", TLS_SNI_WILDCARD_PREFIX, parent + 1);
	return 0;
}

int tls_sni_paths(const char *dir, const char *dir_name, char *cert, char *key, size_t size)
{
	int n = snprintf(cert, size, "%s/%s/" TLS_SNI_CERT_FILE, dir, dir_name);
	int m = snprintf(key, size, "%s/%s/" TLS_SNI_KEY_FILE, dir, dir_name);

	if (n < 0 || m < 0 || (size_t)n >= size || (size_t)m >= size)
		return -1;
	return 0;
}
