/* The relay's own configuration keys (relay_config.h). */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "relay_config.h"

static char relay_config_error[4096 + 256];

static const char *const policy_names[] = { "none", "may", "encrypt", "verify" };

int relay_tls_policy_parse(const char *s, enum relay_tls_policy *policy_r)
{
	for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++) {
		if (strcmp(s, policy_names[i]) == 0) {
			*policy_r = (enum relay_tls_policy)i;
			return 0;
		}
	}
	return -1;
}

const char *relay_tls_policy_name(enum relay_tls_policy policy)
{
	return (unsigned)policy < 4 ? policy_names[policy] : "?";
}

int relay_seconds_parse(const char *s, uint64_t max, unsigned *seconds_r)
{
	uint64_t n = 0, mult = 1;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0') {
		switch (*s) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -1;
		}
		if (s[1] != '\0')
			return -1;
	}
	if (n > max / mult)
		return -1;
	*seconds_r = (unsigned)(n * mult);
	return 0;
}

static const char *set_seconds(const char *value, uint64_t min, uint64_t max, unsigned *field)
{
	unsigned n;

	if (relay_seconds_parse(value, max, &n) < 0 || n < min)
		return "expected seconds (optionally with s, m, h or d) in range";
	*field = n;
	return NULL;
}

static const char *set_path(const char *value, char **field)
{
	if (value[0] != '/')
		return "expected an absolute path";
	free(*field);
	*field = strdup(value);
	return *field == NULL ? "out of memory" : NULL;
}

static const char *route_tls_add(struct relay_config *rc, char *value)
{
	char *sp = strpbrk(value, " \t");
	enum relay_tls_policy policy;
	char *domain;

	if (sp == NULL)
		return "expected: route_tls_policy = DOMAIN POLICY";
	*sp++ = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	if (relay_tls_policy_parse(sp, &policy) < 0)
		return "policy must be none, may, encrypt or verify";
	if (rc->nroute_tls >= CONFIG_MAX_ROUTES)
		return "too many route_tls_policy lines";
	for (size_t i = 0; i < rc->nroute_tls; i++)
		if (strcasecmp(rc->route_tls[i].domain, value) == 0)
			return "duplicate domain";
	domain = strdup(value);
	if (domain == NULL)
		return "out of memory";
	for (char *p = domain; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	rc->route_tls[rc->nroute_tls].domain = domain;
	rc->route_tls[rc->nroute_tls].policy = policy;
	rc->nroute_tls++;
	return NULL;
}

/* One line of the file (already validated by config_load): the relay's
 * keys are set, every other line is left to config.c. */
static const char *line_apply(struct relay_config *rc, char *line, const char **key_r)
{
	char *p = line, *key, *value, *end;
	unsigned n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return NULL;
	key = p;
	while ((*p >= 'a' && *p <= 'z') || *p == '_')
		p++;
	end = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return NULL; /* "route DOMAIN = ...": config.c's */
	*end = '\0';
	value = p + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	for (end = value; *end != '\0'; end++) {
		if (*end == '#' && (end == value || end[-1] == ' ' || end[-1] == '\t')) {
			*end = '\0';
			break;
		}
	}
	end = value + strlen(value);
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	*key_r = key;

	if (strcmp(key, "smtp_port") == 0) {
		if (value[strspn(value, "0123456789")] != '\0' ||
		    relay_seconds_parse(value, 65535, &n) < 0 || n == 0)
			return "expected a port number (1-65535)";
		rc->smtp_port = (uint16_t)n;
	} else if (strcmp(key, "queue_lifetime") == 0) {
		return set_seconds(value, 1, RELAY_LIFETIME_LIMIT, &rc->queue_lifetime);
	} else if (strcmp(key, "relay_timeout") == 0) {
		return set_seconds(value, 1, RELAY_TIMEOUT_LIMIT, &rc->timeout);
	} else if (strcmp(key, "relay_connect_timeout") == 0) {
		return set_seconds(value, 1, RELAY_TIMEOUT_LIMIT, &rc->connect_timeout);
	} else if (strcmp(key, "relay_tls_policy") == 0) {
		if (relay_tls_policy_parse(value, &rc->tls_policy) < 0)
			return "expected none, may, encrypt or verify";
	} else if (strcmp(key, "relayhost_tls_policy") == 0) {
		if (relay_tls_policy_parse(value, &rc->relayhost_tls_policy) < 0)
			return "expected none, may, encrypt or verify";
		rc->relayhost_tls_policy_set = true;
	} else if (strcmp(key, "route_tls_policy") == 0) {
		return route_tls_add(rc, value);
	} else if (strcmp(key, "relayhost_auth_file") == 0) {
		return value[0] == '\0' ? NULL : set_path(value, &rc->auth_file);
	} else if (strcmp(key, "relay_ca_file") == 0) {
		return value[0] == '\0' ? NULL : set_path(value, &rc->ca_file);
	}
	return NULL;
}

int relay_config_load(const struct config *config, struct relay_config *rc, const char **error_r)
{
	char line[CONFIG_MAX_LINE + 2];
	unsigned lineno = 0;
	FILE *f;

	memset(rc, 0, sizeof(*rc));
	rc->config = config;
	rc->smtp_port = RELAY_DEFAULT_SMTP_PORT;
	rc->queue_lifetime = RELAY_DEFAULT_LIFETIME;
	rc->timeout = RELAY_DEFAULT_TIMEOUT;
	rc->connect_timeout = RELAY_DEFAULT_CONNECT_TIMEOUT;
	rc->tls_policy = RELAY_TLS_MAY;
	if (config->path == NULL)
		return 0; /* defaults only (tests) */
	f = fopen(config->path, "re");
	if (f == NULL) {
		snprintf(relay_config_error, sizeof(relay_config_error), "%s: %s", config->path,
			 strerror(errno));
		*error_r = relay_config_error;
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *key = "", *reason;
		size_t len = strlen(line);

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		reason = line_apply(rc, line, &key);
		if (reason != NULL) {
			snprintf(relay_config_error, sizeof(relay_config_error), "%s:%u: %s: %s",
				 config->path, lineno, key, reason);
			*error_r = relay_config_error;
			fclose(f);
			relay_config_free(rc);
			return -1;
		}
	}
	fclose(f);
	if (!rc->relayhost_tls_policy_set)
		rc->relayhost_tls_policy = rc->auth_file != NULL ? RELAY_TLS_ENCRYPT : RELAY_TLS_MAY;
	return 0;
}

int relay_config_auth_load(struct relay_config *rc, const char **error_r)
{
	char buf[sizeof(rc->auth_user) + PASSWORD_MAX + 8];
	struct stat st;
	size_t len = 0;
	char *nl;
	FILE *f;

	if (rc->auth_file == NULL)
		return 0;
	f = fopen(rc->auth_file, "re");
	if (f == NULL || fstat(fileno(f), &st) < 0) {
		snprintf(relay_config_error, sizeof(relay_config_error), "%s: %s", rc->auth_file,
			 strerror(errno));
		if (f != NULL)
			fclose(f);
		*error_r = relay_config_error;
		return -1;
	}
	if ((st.st_mode & S_IROTH) != 0) {
		fclose(f);
		snprintf(relay_config_error, sizeof(relay_config_error),
			 "%s: readable by everyone (chmod o-rwx)", rc->auth_file);
		*error_r = relay_config_error;
		return -1;
	}
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	nl = strchr(buf, '\n');
	if (nl == NULL || nl == buf || (size_t)(nl - buf) >= sizeof(rc->auth_user)) {
		password_wipe(buf, sizeof(buf));
		snprintf(relay_config_error, sizeof(relay_config_error),
			 "%s: expected two lines: the user name, then the password", rc->auth_file);
		*error_r = relay_config_error;
		return -1;
	}
	*nl = '\0';
	memcpy(rc->auth_user, buf, (size_t)(nl - buf) + 1);
	char *pw = nl + 1, *end = strchr(pw, '\n');

	if (end != NULL)
		*end = '\0';
	if (end != NULL && end > pw && end[-1] == '\r')
		end[-1] = '\0';
	if (*pw == '\0' || strlen(pw) > PASSWORD_MAX) {
		password_wipe(buf, sizeof(buf));
		snprintf(relay_config_error, sizeof(relay_config_error),
			 "%s: the password (second line) is empty or too long", rc->auth_file);
		*error_r = relay_config_error;
		return -1;
	}
	snprintf(rc->auth_password, sizeof(rc->auth_password), "%s", pw);
	password_wipe(buf, sizeof(buf));
	return 0;
}

enum relay_tls_policy relay_config_policy(const struct relay_config *rc, const char *domain,
					  bool route)
{
	(void)route; /* a domain's policy holds for its route and its MX alike */
	for (size_t i = 0; i < rc->nroute_tls; i++)
		if (strcasecmp(rc->route_tls[i].domain, domain) == 0)
			return rc->route_tls[i].policy;
	return rc->tls_policy;
}

void relay_config_free(struct relay_config *rc)
{
	for (size_t i = 0; i < rc->nroute_tls; i++)
		free(rc->route_tls[i].domain);
	rc->nroute_tls = 0;
	free(rc->ca_file);
	free(rc->auth_file);
	rc->ca_file = rc->auth_file = NULL;
	password_wipe(rc->auth_password, sizeof(rc->auth_password));
}
