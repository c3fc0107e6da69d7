/* Internationalized domain names (RFC 5890-5893, IDNA2008): the conversion
 * of a domain to its A-labels ("müller-bau.de" -> "xn--mller-bau-q9a.de"),
 * which is how the store keys every domain, and back for display.
 *
 * libidn2 does the work, loaded with dlopen() the first time a domain needs
 * it: a handler meeting only ASCII domains never maps it (see idn.c). */
#ifndef PB_IDN_H
#define PB_IDN_H

#include <stdbool.h>
#include <stddef.h>

/* Whether `domain` (len bytes) needs libidn2: a non-ASCII byte. An ASCII
 * name, A-labels included, is the DNS name as it is (lowercased): whether
 * an "xn--" label decodes is its registry's business, and mail from the
 * Internet to an IDN names it so, without loading anything. */
bool idn_domain_needs(const char *domain, size_t len);

/* `domain` (NUL-terminated UTF-8, U-labels, A-labels or both) in A-labels,
 * lowercased, into dst (size bytes): IDNA2008 lookup with UTS #46
 * non-transitional mapping of NFC input, so "MÜLLER-bau.de" and its NFD
 * form give "xn--mller-bau-q9a.de". Returns 1, 0 when it is no valid IDN
 * (*error_r says why: a static string), -1 when libidn2 cannot be loaded
 * (*error_r names the package; logged once). */
int idn_domain_to_ascii(const char *domain, char *dst, size_t size, const char **error_r);

/* For display: `domain` with its A-labels decoded (U-labels, UTF-8) into
 * dst. 1 when it differs from `domain`, 0 when it has none, cannot be
 * decoded, does not fit, or libidn2 is not there (dst is then "").
 * ASCII-only domains without "xn--" return 0 without loading anything. */
int idn_domain_to_unicode(const char *domain, char *dst, size_t size);

/* Whether libidn2 is loaded in this process (tests: an ASCII-only process
 * must never load it). */
bool idn_loaded(void);

/* Tests only: the library to load instead of libidn2.so.0, before the
 * first use in the process ("" or a missing file: the not-installed case). */
void idn_library_set(const char *soname);

#endif
