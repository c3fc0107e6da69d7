/* Outlook's autodiscover request (the "POX" form, [MS-OXDSCLI] 2.2.3):
 *
 *   <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
 *     <Request>
 *       <EMailAddress>bob@example.com</EMailAddress>
 *       <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
 *     </Request>
 *   </Autodiscover>
 *
 * read by a small strict parser of well-formed XML 1.0 without a DOCTYPE
 * (so no entity can be declared or expanded: only the five predefined ones
 * and character references), in one pass over a bounded body, without
 * recursion. Anything else is refused with a reason. */
#ifndef PB_CGI_AUTODISCOVER_H
#define PB_CGI_AUTODISCOVER_H

#include <stddef.h>

/* The body: Outlook sends ~350 bytes. */
#define AUTODISCOVER_BODY_MAX 16384
/* Element nesting and count, and the length of one name. */
#define AUTODISCOVER_DEPTH_MAX 16
#define AUTODISCOVER_ELEMENTS_MAX 256
#define AUTODISCOVER_NAME_MAX 128
/* The two values we read (an address is at most 254 bytes). */
#define AUTODISCOVER_VALUE_MAX 512

#define AUTODISCOVER_SCHEMA_OUTLOOK \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

struct autodiscover_request {
	char email[AUTODISCOVER_VALUE_MAX + 1];  /* "" if absent; blanks trimmed */
	char schema[AUTODISCOVER_VALUE_MAX + 1]; /* AcceptableResponseSchema, or "" */
};

/* Parses `len` bytes. Returns 0 with the values (absent ones ""), or -1
 * with a reason in *error_r for a body that is not such a document. */
int autodiscover_parse(const char *xml, size_t len, struct autodiscover_request *req,
		       const char **error_r);

#endif
