/* The webmail application core: one request in, one response out. Both
 * front ends (webmail_cgi.c, webmaild.c) call only this. */
#ifndef PB_CGI_WEBMAIL_H
#define PB_CGI_WEBMAIL_H

#include <stdbool.h>

#include "config.h"
#include "http.h"
#include "store.h"

/* Request bodies: forms, and the compose page's attachments later. The
 * front ends refuse a larger Content-Length with 413 before reading. */
#define WEBMAIL_BODY_MAX ((size_t)25 * 1024 * 1024)

struct webmail;

/* `server`: a long-lived threaded server (templates are cached). The store
 * and config must outlive the webmail. Site template overrides are read from
 * the directory "templates" beside the configuration file, before
 * config->templates. Returns 0, or -1 with *error_r. */
int webmail_new(const struct config *config, struct store *store, bool server,
		struct webmail **wm_r, const char **error_r);
void webmail_free(struct webmail **wm);

/* The base path pages live under ("/webmail", no trailing slash). */
const char *webmail_base(const struct webmail *wm);

/* Paths the webmail answers at the site's root, outside its base: mail
 * client set-up (/.well-known/autoconfig/mail/config-v1.1.xml,
 * /mail/config-v1.1.xml, /autodiscover/autodiscover.xml in any case). A
 * front end hands such a request over with the full path and
 * req->at_root set. */
bool webmail_site_path(const char *path);

/* Answers one request (whose body, if any, was fed already). Never fails:
 * errors become error pages. Safe to call from several threads at once. */
void webmail_handle(struct webmail *wm, struct http_request *req, struct http_response *resp);

/* Writes one access-log line for a finished request (log_info). */
void webmail_access_log(const struct http_request *req, const struct http_response *resp,
			uint64_t bytes, double seconds);

#endif
