/* The authserv-id of an Authentication-Results field (authres_id.h). */
#include <config.h>

#include <string.h>
#include <strings.h>

#include "authres_id.h"

size_t authres_field_end(const char *h, size_t len, size_t p)
{
	for (;;) {
		const char *nl = memchr(h + p, '\n', len - p);

		if (nl == NULL)
			return len;
		p = (size_t)(nl - h) + 1;
		if (p >= len || (h[p] != ' ' && h[p] != '\t'))
			return p;
	}
}

size_t authres_skip_cfws(const char *v, size_t n, size_t i)
{
	size_t depth = 0;

	while (i < n) {
		char c = v[i];

		if (depth > 0) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(') {
			depth = 1;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			break;
		}
		i++;
	}
	return i;
}

bool authres_names_id(const char *v, size_t n, const char *id, size_t *after_r)
{
	size_t i = authres_skip_cfws(v, n, 0), start = i, idl = strlen(id);

	while (i < n && v[i] != ';' && v[i] != ' ' && v[i] != '\t' && v[i] != '\r' &&
	       v[i] != '\n' && v[i] != '(')
		i++;
	if (after_r != NULL)
		*after_r = i;
	if (i - start >= 2 && v[start] == '"' && v[i - 1] == '"') {
		start++;
		i--;
	}
	return idl > 0 && i - start == idl && strncasecmp(v + start, id, idl) == 0;
}
