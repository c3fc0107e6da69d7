/* pillarbox.conf: one file of `key = value` lines shared by every program.
 *
 * Syntax: `#` starts a comment (at line start or after whitespace), blank lines
 * are ignored, keys are [a-z_][a-z0-9_]*, values are trimmed. `route DOMAIN = HOST:PORT`
 * is the one two-word key. An unknown key is a warning (logged, not fatal); a
 * bad value is an error reported as "FILE:LINE: what is wrong". */
#ifndef PB_CONFIG_H
#define PB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/pillarbox/pillarbox.conf"
#define CONFIG_MAX_ROUTES 256
#define CONFIG_MAX_LINE 4096 /* longer lines are an error, not truncated */
/* DNS blocklists in `dnsbl`: each is one query per client, within one time
 * budget; Postfix sites rarely use more than three. */
#define CONFIG_DNSBL_MAX 8
/* A blocklist zone's length: an IPv6 query name puts 64 characters before
 * it (RFC 5782 2.4) within DNS's 253. */
#define CONFIG_DNSBL_ZONE_MAX 189

struct config_route {
	char *domain;         /* lowercased */
	char *host;           /* host name or address literal, without brackets */
	uint16_t port;
};

/* What the MX does with the SPF, DKIM and DMARC results of mail from
 * clients that did not log in (inetd/mailauth.h). */
enum config_mail_auth {
	CONFIG_MAIL_AUTH_ENFORCE, /* record them; follow DMARC's reject and quarantine */
	CONFIG_MAIL_AUTH_RECORD,  /* record them (Authentication-Results) only */
	CONFIG_MAIL_AUTH_OFF,     /* no checks, no DNS lookups */
};

/* The MTA-STS policy (RFC 8461) published for every local domain
 * (store/mta_sts.h): its mode. */
enum config_mta_sts {
	CONFIG_MTA_STS_NONE,      /* "mode: none": withdraws a policy published before */
	CONFIG_MTA_STS_TESTING,   /* senders deliver anyway, and report (TLS-RPT) */
	CONFIG_MTA_STS_ENFORCE,   /* senders deliver over verified TLS only */
};

struct config {
	char *path;                 /* the file this came from */
	char *hostname;             /* default: gethostname() */
	char *user;                 /* default "pillarbox" */
	char *store;                /* default "/var/lib/pillarbox" */
	char *tls_cert, *tls_key;   /* default: NULL (no TLS offered) */
	char *tls_cert_dir;         /* NAME/fullchain.pem, NAME/privkey.pem by SNI; default NULL */
	char *tls_priority;         /* default "SECURE192:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" */
	bool allow_plaintext_auth;  /* default false (loopback is always allowed) */
	uint64_t max_message_size;  /* default 52428800 */
	char *relayhost;            /* NULL = deliver by MX; "host:port" */
	char *resolver;             /* NULL = resolv.conf; "host:port" */
	char *webmail_base;         /* default "/webmail" */
	char *templates;            /* default PKGDATADIR "/templates" */
	/* Recipients (store_resolve, alias.c): */
	char *postmaster;           /* where postmaster@ and abuse@ of a local domain go
				     * when it has no such alias, user or catch-all of its
				     * own, and bare <Postmaster> without a local host
				     * domain; default NULL = nowhere (refused) */
	char *recipient_delimiter;  /* characters that start a subaddress (bob+tag);
				     * default "+"; NULL (set empty) = none */
	char *srs_domain;           /* the domain of the SRS addresses forwarded mail
				     * is sent from (srs.h); default NULL = hostname */
	char *relay_program;        /* started at once for queued mail (smtpd, webmail);
				     * default PKGLIBEXECDIR "/relay"; NULL (set empty) =
				     * never: the relay timer delivers the queue */
	unsigned watchdog_seconds;  /* default 120: a store process stuck this long exits (75) */
	unsigned password_cost;     /* default 0 = libxcrypt's default cost for yescrypt */
	unsigned idle_timeout;      /* protocol idle timeout in seconds, default 1800 */
	unsigned login_timeout;     /* seconds a POP3/IMAP client has to log in, default 180 */
	unsigned expunge_history_days; /* default 30: older expunges are forgotten (QRESYNC) */
	/* What mail clients are told (webmail set-up page, autoconfig): the
	 * name they connect to and the ports; a port of 0 = not offered. */
	char *public_hostname;      /* default NULL = hostname */
	unsigned imap_port;         /* default 143 (STARTTLS) */
	unsigned imaps_port;        /* default 993 (implicit TLS) */
	unsigned pop3_port;         /* default 110 (STARTTLS) */
	unsigned pop3s_port;        /* default 995 (implicit TLS) */
	unsigned submission_port;   /* default 587 (STARTTLS) */
	unsigned smtps_port;        /* default 465 (implicit TLS) */
	unsigned managesieve_port;  /* default 4190 (STARTTLS): filters */
	enum config_mail_auth mail_auth; /* default enforce */
	enum config_mta_sts mta_sts;     /* default testing */
	char *dnsbl;                /* DNS blocklists the MX refuses clients of
				     * (inetd/dnsbl.h): zones separated by one space,
				     * lowercase, no final dot; default NULL = none */
	/* The MX's spam check (inetd/spamc.h), for the same mail as mail_auth. */
	char *spamd;                /* "host:port" of spamd or rspamd; NULL = no check */
	unsigned spam_reject_score; /* refused at or past this score; 0 = never */
	uint64_t spam_max_size;     /* larger messages are not checked; default 1M */
	bool spam_learn;            /* mail moved into Junk teaches spamd it is spam,
				     * out of it that it is not (SpamAssassin's TELL:
				     * spamd --allow-tell); default off */
	char *spam_learn_program;   /* the learner it starts; default
				     * PKGLIBEXECDIR "/spamlearn" */
	unsigned send_limit;        /* recipients a logged-in user may send to in
				     * 24 hours (smtpd, webmail); 0 = no limit */
	size_t nroutes;
	struct config_route routes[CONFIG_MAX_ROUTES];
};

/* Which file to read: `explicit_path` (from --config) if not NULL, else
 * $PILLARBOX_CONF (read with secure_getenv, so ignored in setuid programs),
 * else CONFIG_DEFAULT_PATH. Never fails. */
const char *config_path(const char *explicit_path);

/* Reads and validates the file. Returns 0 and a config in *config_r, or -1
 * with a message "FILE:LINE: what is wrong" (or "FILE: strerror") in
 * *error_r, valid until the next call. A missing file is an error. Unknown
 * keys are reported through log_warning(). */
int config_load(const char *path, struct config **config_r, const char **error_r);

/* Defaults only, for tests and for programs given no file. */
struct config *config_defaults(void);

/* A DNS name: labels of [A-Za-z0-9-] (at most 63 each) separated by single
 * dots, a trailing dot tolerated, at most 253 characters. */
bool config_dns_name_valid(const char *s, size_t len);

/* Parses "host:port" or "[IPv6]:port" (as in relayhost, resolver, route,
 * spamd). Returns 0 with *host_r (malloc'd, without brackets; not returned
 * when host_r is NULL) and *port_r, or -1 with a reason in *error_r. */
int config_hostport_parse(const char *value, char **host_r, uint16_t *port_r,
			  const char **error_r);

/* Parses a size as in max_message_size: decimal bytes, or with a K, M or G
 * suffix (powers of 1024). Returns 0, or -1 on bad syntax or overflow. */
int config_size_parse(const char *value, uint64_t *size_r);

/* The route for `domain` (case-insensitive), or NULL. */
const struct config_route *config_route_find(const struct config *config, const char *domain);

void config_free(struct config **config);

#endif
