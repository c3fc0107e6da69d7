/* A small XML writer for the documents the webmail sends to mail clients
 * (Thunderbird autoconfig, Outlook autodiscover, Apple configuration
 * profiles). Element and attribute names are literals of ours; every value
 * goes through xml_escape, so what a request or the configuration holds can
 * never become markup. The output is well-formed by construction: open and
 * close are paired on a stack, checked by xml_finish. */
#ifndef PB_CGI_XMLOUT_H
#define PB_CGI_XMLOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Element nesting of our documents (a plist is 5 deep). */
#define XML_DEPTH_MAX 16

struct xml {
	struct buf *out;
	const char *open[XML_DEPTH_MAX];
	size_t depth;
	bool failed;        /* unbalanced or too deep: xml_finish says so */
};

/* Starts a document on `out` with the XML declaration, and `doctype` (a
 * literal "<!DOCTYPE ...>" line of ours) when not NULL. */
void xml_begin(struct xml *x, struct buf *out, const char *doctype);
/* <name attr="value" ...>: `attrs` is name, value pairs ending in NULL
 * (values escaped); then a new line, children indented. */
void xml_open(struct xml *x, const char *name, const char *const *attrs);
void xml_close(struct xml *x);
/* <name>text</name> on one line (text escaped; NULL = empty element). */
void xml_elem(struct xml *x, const char *name, const char *text);
/* The same with a number as the text. */
void xml_elem_uint(struct xml *x, const char *name, unsigned long value);
/* <name/>: an empty element (a plist's <true/>). */
void xml_empty(struct xml *x, const char *name);
/* 0 if every element was closed and nothing overflowed, else -1. */
int xml_finish(struct xml *x);

/* Writes `len` bytes as XML character data or an attribute value: & < > "
 * and ' as entities; invalid UTF-8 and characters XML 1.0 does not allow
 * (controls other than tab and LF, U+FFFE, U+FFFF) as U+FFFD; CR dropped
 * before LF, else made LF (a parser would do the same). */
void xml_escape(struct buf *out, const char *s, size_t len);

/* Reading: the code point of the UTF-8 sequence at s, its length in *n;
 * -1 (*n = 1) for bytes that are not valid UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF included). */
long xml_utf8_decode(const unsigned char *s, size_t len, size_t *n);
/* Whether XML 1.0 allows the character at all (production Char). */
bool xml_is_char(long cp);

#endif
