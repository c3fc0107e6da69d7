/* Character sets to UTF-8: aliases, glibc iconv with replacement, UTF-8 repair. */
#include "charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_buf.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Special targets of the alias table. */
#define TARGET_UTF8 "UTF-8"
#define TARGET_RAW ""

struct charset_alias {
	const char *label;  /* lowercase */
	const char *target; /* iconv name, TARGET_UTF8 or TARGET_RAW */
};

/* Labels seen in mail, mapped to what readers actually decode them as. */
static const struct charset_alias charset_aliases[] = {
	{ "utf-8", TARGET_UTF8 },
	{ "utf8", TARGET_UTF8 },
	{ "unicode-1-1-utf-8", TARGET_UTF8 },
	{ "", TARGET_RAW },
	{ "us-ascii", TARGET_RAW },
	{ "ascii", TARGET_RAW },
	{ "us", TARGET_RAW },
	{ "ansi_x3.4-1968", TARGET_RAW },
	{ "iso646-us", TARGET_RAW },
	{ "iso-ir-6", TARGET_RAW },
	{ "csascii", TARGET_RAW },
	{ "unknown-8bit", TARGET_RAW },
	{ "unknown", TARGET_RAW },
	{ "x-unknown", TARGET_RAW },
	{ "8bit", TARGET_RAW },
	{ "default", TARGET_RAW },
	{ "latin1", "CP1252" },
	{ "latin-1", "CP1252" },
	{ "l1", "CP1252" },
	{ "iso-8859-1", "CP1252" },
	{ "iso8859-1", "CP1252" },
	{ "iso_8859-1", "CP1252" },
	{ "iso-ir-100", "CP1252" },
	{ "cp819", "CP1252" },
	{ "ibm819", "CP1252" },
	{ "iso-8859-9", "CP1254" },
	{ "latin5", "CP1254" },
	{ "iso-8859-11", "CP874" },
	{ "tis-620", "CP874" },
	{ "windows-874", "CP874" },
	{ "shift_jis", "CP932" },
	{ "shift-jis", "CP932" },
	{ "sjis", "CP932" },
	{ "ms_kanji", "CP932" },
	{ "csshiftjis", "CP932" },
	{ "windows-31j", "CP932" },
	{ "cp932", "CP932" },
	{ "euc-jp", "EUC-JP" },
	{ "iso-2022-jp", "ISO-2022-JP-2" },
	{ "csiso2022jp", "ISO-2022-JP-2" },
	{ "gb2312", "GB18030" },
	{ "gb_2312-80", "GB18030" },
	{ "csgb2312", "GB18030" },
	{ "euc-cn", "GB18030" },
	{ "gbk", "GB18030" },
	{ "cp936", "GB18030" },
	{ "windows-936", "GB18030" },
	{ "chinese", "GB18030" },
	{ "gb18030", "GB18030" },
	{ "big5", "BIG5-HKSCS" },
	{ "big-5", "BIG5-HKSCS" },
	{ "cn-big5", "BIG5-HKSCS" },
	{ "csbig5", "BIG5-HKSCS" },
	{ "big5-hkscs", "BIG5-HKSCS" },
	{ "euc-kr", "CP949" },
	{ "ks_c_5601-1987", "CP949" },
	{ "ks_c_5601-1989", "CP949" },
	{ "ksc5601", "CP949" },
	{ "ksc_5601", "CP949" },
	{ "windows-949", "CP949" },
	{ "cp949", "CP949" },
	{ "utf-7", "UTF-7" },
	{ "unicode-1-1-utf-7", "UTF-7" },
	{ "koi8-r", "KOI8-R" },
	{ "koi8-u", "KOI8-U" },
	{ "koi8-ru", "KOI8-U" },
	{ "mac", "MACINTOSH" },
	{ "macintosh", "MACINTOSH" },
	{ "mac-roman", "MACINTOSH" },
};

/* Lowercases and trims `label` into buf; false if it cannot be a charset name
 * (too long, or a byte iconv_open could read as syntax such as "//"). */
static bool charset_label_normalize(const char *label, size_t len, char buf[CHARSET_NAME_MAX + 1])
{
	while (len > 0 && (label[0] == ' ' || label[0] == '\t' || label[0] == '"')) {
		label++;
		len--;
	}
	while (len > 0 && (label[len - 1] == ' ' || label[len - 1] == '\t' || label[len - 1] == '"'))
		len--;
	if (len > CHARSET_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)label[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			   c == '.' || c == ':' || c == '+'))
			return false;
		buf[i] = (char)c;
	}
	buf[len] = '\0';
	return true;
}

static const char *charset_alias_find(const char *name)
{
	for (size_t i = 0; i < sizeof(charset_aliases) / sizeof(charset_aliases[0]); i++) {
		if (strcmp(charset_aliases[i].label, name) == 0)
			return charset_aliases[i].target;
	}
	/* "x-sjis", "x-gbk", "x-euc-jp": the same labels with an x- prefix. */
	if (strncmp(name, "x-", 2) == 0)
		return charset_alias_find(name + 2);
	/* "cp1252", "windows-1250".., and "iso-8859-N" go to iconv as they are. */
	return NULL;
}

/* Resolves a label to an iconv target name (written into buf when it is not
 * an alias). NULL if it cannot be a charset name at all. */
static const char *charset_resolve(const char *label, size_t len, char buf[CHARSET_NAME_MAX + 1])
{
	if (!charset_label_normalize(label, len, buf))
		return NULL;
	const char *target = charset_alias_find(buf);
	return target != NULL ? target : buf;
}

size_t charset_utf8_char_len(const void *at, size_t n)
{
	const unsigned char *p = at;
	if (n == 0)
		return 0;
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	unsigned lo = 0x80, hi = 0xBF;
	if (c < 0xF0) {
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
		return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (c < 0xF5) {
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* nothing above U+10FFFF */
		return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
			(p[3] & 0xC0) == 0x80 ? 4 : 0;
	}
	return 0;
}

size_t charset_utf8_text_char_len(const void *at, size_t n)
{
	const unsigned char *p = at;
	size_t len = charset_utf8_char_len(at, n);
	return len == 2 && p[0] == 0xC2 && p[1] < 0xA0 ? 0 : len;
}

bool charset_utf8_valid(const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t i = 0;
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = charset_utf8_char_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

bool charset_ascii(const void *in, size_t len)
{
	const unsigned char *p = in;
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 0x80)
			return false;
	return true;
}

void charset_one_line(char *dst, size_t size, const char *src, size_t max)
{
	size_t o = 0;
	bool space = false;
	for (; src != NULL && *src != '\0' && o + 1 < size && o < max; src++) {
		unsigned char c = (unsigned char)*src;
		if (c <= ' ' || c == 0x7f) {
			space = o > 0;
			continue;
		}
		if (space) {
			if (o + 2 >= size || o + 1 >= max)
				break; /* no room for the space and a character */
			dst[o++] = ' ';
			space = false;
		}
		dst[o++] = (char)c;
	}
	/* cut short: not inside a UTF-8 character */
	if (src != NULL && *src != '\0' && o > 0 && (unsigned char)dst[o - 1] >= 0x80) {
		size_t lead = o - 1;
		while (lead > 0 && ((unsigned char)dst[lead] & 0xC0) == 0x80)
			lead--;
		if ((unsigned char)dst[lead] >= 0xC0 && charset_utf8_char_len(dst + lead, o - lead) == 0)
			o = lead;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

void charset_utf8_repair(struct mbuf *out, const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t i = 0, run = 0; /* run: start of the pending valid stretch */
	if (len == 0)
		return; /* `in` may be NULL */
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = charset_utf8_char_len(p + i, len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		mbuf_append(out, p + run, i - run);
		mbuf_append(out, REPLACEMENT, 3);
		run = ++i;
	}
	mbuf_append(out, p + run, len - run);
}

/* Unknown charset: keep ASCII, U+FFFD for every other byte. */
static void charset_append_unknown(struct mbuf *out, const unsigned char *p, size_t len)
{
	size_t run = 0;
	if (len == 0)
		return; /* `p` may be NULL */
	for (size_t i = 0; i < len; i++) {
		if (p[i] >= 0x80) {
			mbuf_append(out, p + run, i - run);
			mbuf_append(out, REPLACEMENT, 3);
			run = i + 1;
		}
	}
	mbuf_append(out, p + run, len - run);
}

/* Converts through iconv, U+FFFD for each byte iconv rejects. false if iconv
 * does not know `target`. */
static bool charset_append_iconv(struct mbuf *out, const char *target, const void *in, size_t len)
{
	iconv_t cd = iconv_open("UTF-8", target);
	if (cd == (iconv_t)-1)
		return false;
	char *ip = (char *)in;
	size_t ileft = len;
	size_t chunk = len + 64; /* grown on E2BIG */
	bool flushing = len == 0;
	while (!out->failed) {
		if (!mbuf_reserve(out, chunk))
			break;
		char *op = out->data + out->len;
		size_t oleft = out->size - out->len - 1;
		size_t room = oleft;
		/* The final call with no input writes what a stateful charset
		 * (ISO-2022-JP, UTF-7) still holds. */
		size_t r = flushing ? iconv(cd, NULL, NULL, &op, &oleft)
			: iconv(cd, &ip, &ileft, &op, &oleft);
		int err = errno;
		out->len += room - oleft;
		if (r != (size_t)-1) {
			if (flushing)
				break;
			flushing = true;
			continue;
		}
		if (err == E2BIG) {
			chunk = out->size;
			continue;
		}
		if (flushing)
			break;
		mbuf_append(out, REPLACEMENT, 3);
		if (err == EILSEQ) {
			ip++;
			ileft--;
		} else {
			ileft = 0; /* EINVAL: an incomplete sequence ends the input */
		}
		flushing = ileft == 0;
	}
	iconv_close(cd);
	return true;
}

int charset_append_utf8(struct mbuf *out, const char *charset, size_t charset_len,
			const void *in, size_t len)
{
	char buf[CHARSET_NAME_MAX + 1];
	const char *target = charset_resolve(charset, charset_len, buf);
	if (target == NULL) {
		charset_append_unknown(out, in, len);
		return 0;
	}
	if (strcmp(target, TARGET_UTF8) == 0) {
		charset_utf8_repair(out, in, len);
		return 1;
	}
	if (strcmp(target, TARGET_RAW) == 0) {
		charset_append_raw(out, in, len);
		return 1;
	}
	if (len == 0)
		return 1;
	if (!charset_append_iconv(out, target, in, len)) {
		charset_append_unknown(out, in, len);
		return 0;
	}
	return 1;
}

int charset_to_utf8(const char *charset, const void *in, size_t len, char **out_r,
		    size_t *out_len_r)
{
	struct mbuf out = { 0 };
	int r = charset_append_utf8(&out, charset, strlen(charset), in, len);
	*out_r = mbuf_steal(&out, out_len_r);
	return *out_r == NULL ? -1 : r;
}

bool charset_is_known(const char *charset)
{
	char buf[CHARSET_NAME_MAX + 1];
	const char *target = charset_resolve(charset, strlen(charset), buf);
	if (target == NULL)
		return false;
	if (strcmp(target, TARGET_UTF8) == 0 || strcmp(target, TARGET_RAW) == 0)
		return true;
	iconv_t cd = iconv_open("UTF-8", target);
	if (cd == (iconv_t)-1)
		return false;
	iconv_close(cd);
	return true;
}

void charset_append_raw(struct mbuf *out, const void *in, size_t len)
{
	if (charset_utf8_valid(in, len)) {
		mbuf_append(out, in, len);
		return;
	}
	if (!charset_append_iconv(out, "CP1252", in, len))
		charset_append_unknown(out, in, len);
}

bool charset_utf8_text(const char *s, size_t len, bool multiline)
{
	if (!charset_utf8_valid(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == 0x7f || (ch < 0x20 && !(multiline && (ch == '\t' || ch == '\r' ||
								 ch == '\n'))))
			return false;
		/* C1 controls: U+0080..U+009F are 0xC2 0x80..0x9F in UTF-8 */
		if (ch == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0)
			return false;
	}
	return true;
}
