/* pillarbox.conf: reading, validating, defaults. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* secure_getenv */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "store.h" /* store_address_valid: the one address grammar */

/* Room for a path, a line number and a short explanation. */
#define CONFIG_ERROR_MAX (PATH_MAX + 256)
/* A key longer than the longest we know is certainly unknown; this only
 * bounds what the unknown-key warning quotes. */
#define CONFIG_KEY_SHOWN_MAX 64
/* RFC 1035: 253 characters in a domain name written as text. */
#define CONFIG_HOST_MAX 253
/* POSIX user names: useradd refuses longer ones by default. */
#define CONFIG_USER_MAX 32
/* IMAP RFC822.SIZE and APPENDLIMIT are 32-bit numbers (RFC 3501 "number"). */
#define CONFIG_MESSAGE_SIZE_LIMIT UINT64_C(4294967295)
/* A day: past that a "timeout" is no longer protecting anything. */
#define CONFIG_SECONDS_LIMIT 86400
/* libxcrypt's yescrypt accepts cost 1..11 (0 = its default). */
#define CONFIG_PASSWORD_COST_LIMIT 11
/* The atext characters that are not letters or digits (RFC 5322 3.2.3): a
 * recipient delimiter is one of them, so a local part stays a dot-atom on
 * both sides of it, and a letter never splits a name. */
#define CONFIG_DELIMITER_CHARS "!#$%&'*+-/=?^_`{|}~"

static char config_error_buf[CONFIG_ERROR_MAX];

/* The string types come first: `type <= CONFIG_URLPATH` means "a char *
 * field" (set with strdup, freed by config_free). */
enum config_type {
	CONFIG_STRING,    /* non-empty text without control characters */
	CONFIG_PATH,      /* absolute path; empty = NULL if optional */
	CONFIG_HOSTNAME,  /* a DNS name */
	CONFIG_USER,      /* a system user name */
	CONFIG_HOSTPORT,  /* host:port or [v6]:port; empty = NULL */
	CONFIG_ADDRESS,   /* local@domain as the store takes it; empty = NULL */
	CONFIG_DELIMITER, /* CONFIG_DELIMITER_CHARS, each at most once; empty = NULL */
	CONFIG_ZONES,     /* DNS zones separated by blanks, kept normalised; empty = NULL */
	CONFIG_URLPATH,   /* "/webmail": absolute URL path without trailing '/' */
	CONFIG_BOOL,
	CONFIG_SIZE,      /* bytes, optional K/M/G suffix (powers of 1024) */
	CONFIG_UINT,
	CONFIG_CHOICE,    /* an enum, by its name in the key's `choices` */
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	bool optional;        /* an empty value means "not set" (NULL) */
	uint64_t min, max;    /* numbers only */
	const char *const *choices; /* CONFIG_CHOICE: the enum's names in order, NULL-ended */
};

#define STR_KEY(n, t, opt) { #n, t, offsetof(struct config, n), opt, 0, 0, NULL }
#define NUM_KEY(n, t, lo, hi) { #n, t, offsetof(struct config, n), false, lo, hi, NULL }
#define CHOICE_KEY(n, names) { #n, CONFIG_CHOICE, offsetof(struct config, n), false, 0, 0, names }

/* the names of enum config_mail_auth and enum config_mta_sts, in order */
static const char *const mail_auth_names[] = { "enforce", "record", "off", NULL };
static const char *const mta_sts_names[] = { "none", "testing", "enforce", NULL };
/* written through an unsigned *: each name at its enum's value */
_Static_assert(sizeof(enum config_mail_auth) == sizeof(unsigned) &&
	       sizeof(enum config_mta_sts) == sizeof(unsigned), "a choice is an unsigned");
_Static_assert(sizeof(mail_auth_names) / sizeof(*mail_auth_names) == CONFIG_MAIL_AUTH_OFF + 2 &&
	       sizeof(mta_sts_names) / sizeof(*mta_sts_names) == CONFIG_MTA_STS_ENFORCE + 2,
	       "a name for each value");

static const struct config_key config_keys[] = {
	STR_KEY(hostname, CONFIG_HOSTNAME, false),
	STR_KEY(user, CONFIG_USER, false),
	STR_KEY(store, CONFIG_PATH, false),
	STR_KEY(tls_cert, CONFIG_PATH, true),
	STR_KEY(tls_key, CONFIG_PATH, true),
	STR_KEY(tls_cert_dir, CONFIG_PATH, true),
	STR_KEY(tls_priority, CONFIG_STRING, false),
	NUM_KEY(allow_plaintext_auth, CONFIG_BOOL, 0, 1),
	NUM_KEY(max_message_size, CONFIG_SIZE, 1, CONFIG_MESSAGE_SIZE_LIMIT),
	STR_KEY(relayhost, CONFIG_HOSTPORT, true),
	STR_KEY(resolver, CONFIG_HOSTPORT, true),
	STR_KEY(webmail_base, CONFIG_URLPATH, false),
	STR_KEY(templates, CONFIG_PATH, false),
	STR_KEY(relay_program, CONFIG_PATH, true),
	STR_KEY(postmaster, CONFIG_ADDRESS, true),
	STR_KEY(recipient_delimiter, CONFIG_DELIMITER, true),
	STR_KEY(srs_domain, CONFIG_HOSTNAME, true),
	NUM_KEY(watchdog_seconds, CONFIG_UINT, 0, CONFIG_SECONDS_LIMIT),
	NUM_KEY(password_cost, CONFIG_UINT, 0, CONFIG_PASSWORD_COST_LIMIT),
	NUM_KEY(idle_timeout, CONFIG_UINT, 1, CONFIG_SECONDS_LIMIT),
	NUM_KEY(login_timeout, CONFIG_UINT, 1, CONFIG_SECONDS_LIMIT),
	NUM_KEY(expunge_history_days, CONFIG_UINT, 0, 36500),
	STR_KEY(public_hostname, CONFIG_HOSTNAME, true),
	NUM_KEY(imap_port, CONFIG_UINT, 0, 65535),
	NUM_KEY(imaps_port, CONFIG_UINT, 0, 65535),
	NUM_KEY(pop3_port, CONFIG_UINT, 0, 65535),
	NUM_KEY(pop3s_port, CONFIG_UINT, 0, 65535),
	NUM_KEY(submission_port, CONFIG_UINT, 0, 65535),
	NUM_KEY(smtps_port, CONFIG_UINT, 0, 65535),
	NUM_KEY(managesieve_port, CONFIG_UINT, 0, 65535),
	CHOICE_KEY(mail_auth, mail_auth_names),
	CHOICE_KEY(mta_sts, mta_sts_names),
	STR_KEY(dnsbl, CONFIG_ZONES, true),
	STR_KEY(spamd, CONFIG_HOSTPORT, true),
	NUM_KEY(spam_reject_score, CONFIG_UINT, 0, 1000),
	NUM_KEY(spam_max_size, CONFIG_SIZE, 1024, 64 * 1024 * 1024),
	NUM_KEY(spam_learn, CONFIG_BOOL, 0, 1),
	STR_KEY(spam_learn_program, CONFIG_PATH, false),
	NUM_KEY(send_limit, CONFIG_UINT, 0, 10000000),
};
#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* Keys that one program alone uses, parsed and validated by that program
 * from the same file (inetd/relay_config.c, the smtpd options): known here
 * so that no other program warns about them. */
static const char *const config_foreign_keys[] = {
	"smtp_port", "queue_lifetime", "relay_timeout", "relay_connect_timeout",
	"relay_tls_policy", "route_tls_policy", "relayhost_tls_policy",
	"relayhost_auth_file", "relay_ca_file",
};

static bool config_key_foreign(const char *key)
{
	for (size_t i = 0; i < sizeof(config_foreign_keys) / sizeof(config_foreign_keys[0]); i++)
		if (strcmp(config_foreign_keys[i], key) == 0)
			return true;
	return false;
}

/* Edits between a and b (insert, delete, replace, swap two neighbours),
 * or more than CONFIG_SUGGEST_MAX when past it: enough to tell a typo. */
#define CONFIG_SUGGEST_MAX 2
#define CONFIG_SUGGEST_LEN 40
static size_t config_key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[CONFIG_SUGGEST_LEN + 1][CONFIG_SUGGEST_LEN + 1];
	if (la > CONFIG_SUGGEST_LEN || lb > CONFIG_SUGGEST_LEN ||
	    (la > lb ? la - lb : lb - la) > CONFIG_SUGGEST_MAX)
		return CONFIG_SUGGEST_MAX + 1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The known key an unknown one was most likely meant to be ("hostnme":
 * "hostname"), or NULL when none is close. A short key must be closer. */
static const char *config_key_suggest(const char *key)
{
	const char *best = NULL;
	size_t best_d = strlen(key) < 6 ? 1 : CONFIG_SUGGEST_MAX;
	for (size_t i = 0; i < CONFIG_NKEYS + sizeof(config_foreign_keys) / sizeof(config_foreign_keys[0]);
	     i++) {
		const char *name = i < CONFIG_NKEYS ? config_keys[i].name :
			config_foreign_keys[i - CONFIG_NKEYS];
		size_t d = config_key_distance(key, name);
		if (d <= best_d && (best == NULL || d < best_d)) {
			best = name;
			best_d = d;
		}
	}
	return best;
}

const char *config_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path != NULL)
		return explicit_path;
	env = secure_getenv("PILLARBOX_CONF");
	if (env != NULL && *env != '\0')
		return env;
	return CONFIG_DEFAULT_PATH;
}

void config_free(struct config **configp)
{
	struct config *config = *configp;

	if (config == NULL)
		return;
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].type <= CONFIG_URLPATH)
			free(*(char **)((char *)config + config_keys[i].offset));
	}
	for (size_t i = 0; i < config->nroutes; i++) {
		free(config->routes[i].domain);
		free(config->routes[i].host);
	}
	free(config->path);
	free(config);
	*configp = NULL;
}

static char *config_default_hostname(void)
{
	char name[CONFIG_HOST_MAX + 2];

	if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
		return strdup("localhost");
	name[sizeof(name) - 1] = '\0';
	return strdup(name);
}

struct config *config_defaults(void)
{
	struct config *config = calloc(1, sizeof(*config));

	if (config == NULL)
		return NULL;
	config->hostname = config_default_hostname();
	config->user = strdup("pillarbox");
	config->store = strdup("/var/lib/pillarbox");
	config->tls_priority = strdup("SECURE192:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	config->allow_plaintext_auth = false;
	config->max_message_size = 52428800;
	config->webmail_base = strdup("/webmail");
	config->templates = strdup(PKGDATADIR "/templates");
	config->relay_program = strdup(PKGLIBEXECDIR "/relay");
	config->spam_learn_program = strdup(PKGLIBEXECDIR "/spamlearn");
	/* "+": what Dovecot, Gmail, Outlook and Fastmail users expect. */
	config->recipient_delimiter = strdup("+");
	config->watchdog_seconds = 120;
	config->password_cost = 0;
	config->idle_timeout = 1800;
	config->login_timeout = 180;
	config->expunge_history_days = 30;
	config->imap_port = 143;
	config->imaps_port = 993;
	config->pop3_port = 110;
	config->pop3s_port = 995;
	config->submission_port = 587;
	config->smtps_port = 465;
	config->managesieve_port = 4190;
	config->mail_auth = CONFIG_MAIL_AUTH_ENFORCE;
	config->mta_sts = CONFIG_MTA_STS_TESTING;
	/* SpamAssassin's spamc sends at most 500 KB; spam is small. */
	config->spam_max_size = 1024 * 1024;
	if (config->hostname == NULL || config->user == NULL || config->store == NULL ||
	    config->tls_priority == NULL || config->webmail_base == NULL ||
	    config->templates == NULL || config->relay_program == NULL ||
	    config->spam_learn_program == NULL ||
	    config->recipient_delimiter == NULL)
		config_free(&config);
	return config;
}

const struct config_route *config_route_find(const struct config *config, const char *domain)
{
	for (size_t i = 0; i < config->nroutes; i++) {
		if (strcasecmp(config->routes[i].domain, domain) == 0)
			return &config->routes[i];
	}
	return NULL;
}

/* A DNS name: labels of [A-Za-z0-9-] separated by single dots, a trailing dot
 * tolerated, at most CONFIG_HOST_MAX characters. */
bool config_dns_name_valid(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > CONFIG_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63) /* RFC 1035 label limit */
				return false;
		} else {
			return false;
		}
	}
	return true;
}

int config_hostport_parse(const char *value, char **host_r, uint16_t *port_r,
			  const char **error_r)
{
	const char *host, *colon, *end;
	size_t hostlen;
	unsigned long port;
	char *endp;

	if (value[0] == '[') {
		char addr[INET6_ADDRSTRLEN + 1];
		unsigned char bin[16];

		end = strchr(value, ']');
		if (end == NULL || end[1] != ':') {
			*error_r = "expected [IPv6-address]:port";
			return -1;
		}
		host = value + 1;
		hostlen = (size_t)(end - host);
		colon = end + 1;
		if (hostlen == 0 || hostlen >= sizeof(addr)) {
			*error_r = "bad IPv6 address";
			return -1;
		}
		memcpy(addr, host, hostlen);
		addr[hostlen] = '\0';
		if (inet_pton(AF_INET6, addr, bin) != 1) {
			*error_r = "bad IPv6 address";
			return -1;
		}
	} else {
		colon = strchr(value, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL) {
			*error_r = "expected host:port (IPv6 addresses in brackets)";
			return -1;
		}
		host = value;
		hostlen = (size_t)(colon - value);
		if (!config_dns_name_valid(host, hostlen)) {
			*error_r = "bad host name";
			return -1;
		}
	}
	if (colon[1] < '0' || colon[1] > '9') {
		*error_r = "bad port";
		return -1;
	}
	errno = 0;
	port = strtoul(colon + 1, &endp, 10);
	if (errno != 0 || *endp != '\0' || port == 0 || port > 65535) {
		*error_r = "bad port (1-65535)";
		return -1;
	}
	if (host_r != NULL) {
		*host_r = strndup(host, hostlen);
		if (*host_r == NULL) {
			*error_r = "out of memory";
			return -1;
		}
	}
	*port_r = (uint16_t)port;
	return 0;
}

static int config_number_parse(const char *value, bool suffixes, uint64_t *n_r)
{
	uint64_t n = 0, mult = 1;
	const char *p = value;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (suffixes && *p != '\0' && p[1] == '\0') {
		switch (*p) {
		case 'k': case 'K': mult = UINT64_C(1) << 10; p++; break;
		case 'm': case 'M': mult = UINT64_C(1) << 20; p++; break;
		case 'g': case 'G': mult = UINT64_C(1) << 30; p++; break;
		default: break;
		}
	}
	if (*p != '\0')
		return -1;
	if (n > UINT64_MAX / mult)
		return -1;
	*n_r = n * mult;
	return 0;
}

int config_size_parse(const char *value, uint64_t *size_r)
{
	return config_number_parse(value, true, size_r);
}

static int config_bool_parse(const char *value, bool *b_r)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*b_r = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*b_r = false;
			return 0;
		}
	}
	return -1;
}

static bool config_user_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > CONFIG_USER_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static bool config_urlpath_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || s[0] != '/' || (len > 1 && s[len - 1] == '/'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("/-._~", c) != NULL))
			return false;
	}
	return strstr(s, "//") == NULL;
}

static bool config_delimiter_valid(const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++)
		if (strchr(CONFIG_DELIMITER_CHARS, s[i]) == NULL || memchr(s, s[i], i) != NULL)
			return false;
	return true;
}

/* `dnsbl`'s zones, separated by blanks, checked and written into *out_r
 * (malloc'd) as the readers take them: one space between, lowercase, no
 * final dot. NULL or a reason. */
static const char *config_zones_parse(const char *value, char **out_r)
{
	char *out = malloc(strlen(value) + 1);
	size_t n = 0, len = 0;
	const char *p = value;

	if (out == NULL)
		return "out of memory";
	while (*p != '\0') {
		size_t zlen = strcspn(p, " \t");
		const char *reason = NULL;

		if (zlen == 0) {
			p++;
			continue;
		}
		if (!config_dns_name_valid(p, zlen))
			reason = "bad DNS zone";
		else if (p[zlen - 1] == '.' && --zlen == 0)
			reason = "bad DNS zone";
		else if (zlen > CONFIG_DNSBL_ZONE_MAX)
			reason = "DNS zone too long for a blocklist (189 characters at most)";
		else if (++n > CONFIG_DNSBL_MAX)
			reason = "too many DNS zones (8 at most)";
		if (reason != NULL) {
			free(out);
			return reason;
		}
		if (len > 0)
			out[len++] = ' ';
		for (size_t i = 0; i < zlen; i++)
			out[len++] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
		p += strcspn(p, " \t");
	}
	out[len] = '\0';
	*out_r = out;
	return NULL;
}

/* Sets one known key from its (trimmed) value; NULL or a reason. */
static const char *config_key_set(struct config *config, const struct config_key *key,
				  const char *value)
{
	void *field = (char *)config + key->offset;
	const char *reason;
	uint64_t n;
	bool b;

	if (key->type <= CONFIG_URLPATH) {
		char **str = field;
		char *copy = NULL;

		if (*value == '\0') {
			if (!key->optional)
				return "empty value";
		} else {
			switch (key->type) {
			case CONFIG_PATH:
				if (value[0] != '/')
					return "expected an absolute path";
				break;
			case CONFIG_HOSTNAME:
				if (!config_dns_name_valid(value, strlen(value)))
					return "bad host name";
				break;
			case CONFIG_USER:
				if (!config_user_valid(value))
					return "bad user name";
				break;
			case CONFIG_HOSTPORT:
				if (config_hostport_parse(value, NULL, &(uint16_t){ 0 }, &reason) < 0)
					return reason;
				break;
			case CONFIG_ADDRESS:
				if (!store_address_valid(value))
					return "expected an address like admin@example.com";
				break;
			case CONFIG_DELIMITER:
				if (!config_delimiter_valid(value))
					return "expected characters of " CONFIG_DELIMITER_CHARS
					       ", each once";
				break;
			case CONFIG_URLPATH:
				if (!config_urlpath_valid(value))
					return "expected a URL path like /webmail (no trailing slash)";
				break;
			default:
				break;
			}
			if (key->type == CONFIG_ZONES) {
				reason = config_zones_parse(value, &copy);
				if (reason != NULL)
					return reason;
			} else {
				copy = strdup(value);
				if (copy == NULL)
					return "out of memory";
			}
		}
		free(*str);
		*str = copy;
		return NULL;
	}
	switch (key->type) {
	case CONFIG_BOOL:
		if (config_bool_parse(value, &b) < 0)
			return "expected yes, no, true, false, 1 or 0";
		*(bool *)field = b;
		return NULL;
	case CONFIG_SIZE:
		if (config_number_parse(value, true, &n) < 0)
			return "expected a size in bytes, optionally with K, M or G";
		if (n < key->min || n > key->max) {
			static char range[80];

			snprintf(range, sizeof(range), "size out of range (%llu to %llu bytes)",
				 (unsigned long long)key->min, (unsigned long long)key->max);
			return range;
		}
		*(uint64_t *)field = n;
		return NULL;
	case CONFIG_UINT:
		if (config_number_parse(value, false, &n) < 0)
			return "expected a number";
		if (n < key->min || n > key->max) {
			/* Say which numbers would do. */
			static char range[64];

			snprintf(range, sizeof(range), "number out of range (%llu to %llu)",
				 (unsigned long long)key->min, (unsigned long long)key->max);
			return range;
		}
		*(unsigned *)field = (unsigned)n;
		return NULL;
	case CONFIG_CHOICE: {
		/* "expected a, b or c" */
		static char expected[96];
		size_t o = (size_t)snprintf(expected, sizeof(expected), "expected");
		for (unsigned i = 0; key->choices[i] != NULL; i++) {
			if (strcmp(value, key->choices[i]) == 0) {
				*(unsigned *)field = i;
				return NULL;
			}
			if (o < sizeof(expected))
				o += (size_t)snprintf(expected + o, sizeof(expected) - o, "%s%s",
						      i == 0 ? " " : key->choices[i + 1] == NULL
								 ? " or " : ", ",
						      key->choices[i]);
		}
		return expected;
	}
	default:
		return "internal error: bad key type";
	}
}

static const char *config_route_add(struct config *config, const char *domain,
				    const char *value)
{
	struct config_route *route;
	const char *reason;
	char *host;
	uint16_t port;

	if (!config_dns_name_valid(domain, strlen(domain)))
		return "bad route domain";
	if (config_route_find(config, domain) != NULL)
		return "duplicate route for this domain";
	if (config->nroutes >= CONFIG_MAX_ROUTES)
		return "too many routes";
	if (config_hostport_parse(value, &host, &port, &reason) < 0)
		return reason;
	route = &config->routes[config->nroutes];
	route->domain = strdup(domain);
	if (route->domain == NULL) {
		free(host);
		return "out of memory";
	}
	for (char *p = route->domain; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	route->host = host;
	route->port = port;
	config->nroutes++;
	return NULL;
}

static bool config_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses one line (NUL-terminated, without its newline). Returns NULL or a
 * reason; `seen` marks keys already set, to catch duplicates. */
static const char *config_line_parse(struct config *config, char *line, bool *seen,
				     const char *path, unsigned lineno, const char **key_r)
{
	char *p = line, *key, *key_end, *domain = NULL, *value, *end;
	char shown[CONFIG_KEY_SHOWN_MAX * 4 + 4];
	size_t i;

	while (config_is_space(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return NULL;
	key = p;
	while ((*p >= 'a' && *p <= 'z') || *p == '_' || (p > key && *p >= '0' && *p <= '9'))
		p++;
	key_end = p;
	if (key_end == key || (*p != '\0' && *p != '=' && !config_is_space(*p)))
		return "bad key (keys are lower-case letters, digits and '_')";
	while (config_is_space(*p))
		p++;
	if ((size_t)(key_end - key) == 5 && memcmp(key, "route", 5) == 0 && *p != '=') {
		domain = p;
		while (*p != '\0' && *p != '=' && !config_is_space(*p))
			p++;
		if (*p != '\0' && *p != '=') {
			*p++ = '\0';
			while (config_is_space(*p))
				p++;
		}
	}
	if (*p != '=')
		return "missing '=' (expected key = value)";
	*p++ = '\0';
	*key_end = '\0';
	while (config_is_space(*p))
		p++;
	value = p;
	/* A comment starts at a '#' at the start of the value or after a blank. */
	for (end = value; *end != '\0'; end++) {
		if (*end == '#' && (end == value || config_is_space(end[-1]))) {
			*end = '\0';
			break;
		}
	}
	end = value + strlen(value);
	while (end > value && config_is_space(end[-1]))
		*--end = '\0';

	*key_r = key;
	if (strcmp(key, "route") == 0) {
		if (domain == NULL)
			return "route needs a domain: route DOMAIN = HOST:PORT";
		return config_route_add(config, domain, value);
	}
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].name, key) == 0)
			break;
	}
	if (i == CONFIG_NKEYS && config_key_foreign(key))
		return NULL;
	if (i == CONFIG_NKEYS) {
		const char *meant = config_key_suggest(key);
		log_warning("%s:%u: unknown key \"%s\" ignored%s%s%s", path, lineno,
			    log_safe(shown, sizeof(shown), key, strnlen(key, CONFIG_KEY_SHOWN_MAX)),
			    meant != NULL ? ": did you mean \"" : "", meant != NULL ? meant : "",
			    meant != NULL ? "\"?" : "");
		return NULL;
	}
	if (seen[i])
		return "duplicate key";
	seen[i] = true;
	return config_key_set(config, &config_keys[i], value);
}

static int config_error(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int config_error(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(config_error_buf, sizeof(config_error_buf), fmt, ap);
	va_end(ap);
	*error_r = config_error_buf;
	return -1;
}

/* Reads one line into buf (CONFIG_MAX_LINE + 1 bytes). Returns 1 for a line,
 * 0 at the end of the file, -1 with a reason. */
static int config_line_read(FILE *f, char *buf, const char **reason_r)
{
	size_t len = 0;
	int c;

	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (len >= CONFIG_MAX_LINE) {
			*reason_r = "line too long";
			return -1;
		}
		if (c == '\0') {
			*reason_r = "NUL byte in line";
			return -1;
		}
		buf[len++] = (char)c;
	}
	if (ferror(f)) {
		*reason_r = strerror(errno);
		return -1;
	}
	if (c == EOF && len == 0)
		return 0;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)buf[i] < 0x20 && buf[i] != '\t') || buf[i] == 0x7f) {
			*reason_r = "control character in line";
			return -1;
		}
	}
	return 1;
}

int config_load(const char *path, struct config **config_r, const char **error_r)
{
	bool seen[CONFIG_NKEYS] = { false };
	struct config *config;
	char *line;
	const char *reason = NULL, *key = NULL;
	unsigned lineno = 0;
	FILE *f;
	int ret;

	*config_r = NULL;
	f = fopen(path, "re");
	if (f == NULL && errno == ENOENT)
		return config_error(error_r, "%s: %s (name another with --config FILE or "
				    "PILLARBOX_CONF)", path, strerror(errno));
	if (f == NULL)
		return config_error(error_r, "%s: %s", path, strerror(errno));
	config = config_defaults();
	line = malloc(CONFIG_MAX_LINE + 1);
	if (config == NULL || line == NULL || (config->path = strdup(path)) == NULL) {
		fclose(f);
		free(line);
		config_free(&config);
		return config_error(error_r, "%s: out of memory", path);
	}
	for (;;) {
		ret = config_line_read(f, line, &reason);
		if (ret == 0)
			break;
		lineno++;
		key = NULL;
		if (ret < 0)
			break;
		reason = config_line_parse(config, line, seen, path, lineno, &key);
		if (reason != NULL) {
			ret = -1;
			break;
		}
	}
	fclose(f);
	if (ret < 0) {
		if (key != NULL)
			config_error(error_r, "%s:%u: %s: %s", path, lineno, key, reason);
		else
			config_error(error_r, "%s:%u: %s", path, lineno, reason);
		free(line);
		config_free(&config);
		return -1;
	}
	free(line);
	if ((config->tls_cert == NULL) != (config->tls_key == NULL)) {
		config_free(&config);
		return config_error(error_r, "%s: tls_cert and tls_key must be set together", path);
	}
	/* The default certificate answers clients that send no name. */
	if (config->tls_cert_dir != NULL && config->tls_cert == NULL) {
		config_free(&config);
		return config_error(error_r, "%s: tls_cert_dir needs tls_cert and tls_key (the "
				    "default certificate)", path);
	}
	*config_r = config;
	return 0;
}
