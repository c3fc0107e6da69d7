/* Unit tests of store/config.c: defaults, the sample file, every value type,
 * every error with its FILE:LINE, and the unknown-key warning. */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "mta_sts.h"

static char tmpdir[64];
static char conf_path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/pillarbox.conf", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(conf_path);
	rmdir(tmpdir);
	return 0;
}

static void write_file(const char *data, size_t len)
{
	FILE *f = fopen(conf_path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static struct config *load_ok(const char *text)
{
	struct config *config = NULL;
	const char *error = NULL;

	write_file(text, strlen(text));
	if (config_load(conf_path, &config, &error) < 0)
		fail_msg("config_load failed: %s", error);
	assert_non_null(config);
	return config;
}

/* Loads `text`, expects failure with "PATH:LINE: " followed by `what`. */
static void load_fails(const char *text, size_t len, unsigned line, const char *what)
{
	struct config *config = (struct config *)1;
	const char *error = NULL;
	char prefix[256];

	write_file(text, len);
	assert_int_equal(config_load(conf_path, &config, &error), -1);
	assert_null(config);
	assert_non_null(error);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", conf_path, line);
	if (strncmp(error, prefix, strlen(prefix)) != 0 || strstr(error, what) == NULL)
		fail_msg("for %s expected \"%s...%s\", got \"%s\"", text, prefix, what, error);
}

/* For string literals (which may hold a NUL byte). */
#define FAILS(text, line, what) load_fails(text, sizeof(text) - 1, line, what)

static void test_defaults(void **state)
{
	struct config *config = config_defaults();

	(void)state;
	assert_non_null(config);
	assert_non_null(config->hostname);
	assert_true(config->hostname[0] != '\0');
	assert_string_equal(config->user, "pillarbox");
	assert_string_equal(config->store, "/var/lib/pillarbox");
	assert_null(config->tls_cert);
	assert_null(config->tls_key);
	assert_string_equal(config->tls_priority,
			    "SECURE192:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	assert_false(config->allow_plaintext_auth);
	assert_int_equal(config->max_message_size, 52428800);
	assert_null(config->relayhost);
	assert_null(config->resolver);
	assert_string_equal(config->webmail_base, "/webmail");
	assert_string_equal(config->templates, PKGDATADIR "/templates");
	assert_int_equal(config->watchdog_seconds, 120);
	assert_int_equal(config->password_cost, 0);
	assert_int_equal(config->idle_timeout, 1800);
	assert_null(config->postmaster);
	assert_string_equal(config->recipient_delimiter, "+");
	assert_int_equal(config->mail_auth, CONFIG_MAIL_AUTH_ENFORCE);
	assert_int_equal(config->mta_sts, CONFIG_MTA_STS_TESTING);
	assert_null(config->dnsbl);
	assert_null(config->spamd);
	assert_int_equal(config->spam_reject_score, 0);
	assert_int_equal(config->spam_max_size, 1024 * 1024);
	assert_int_equal(config->send_limit, 0);
	assert_int_equal(config->nroutes, 0);
	config_free(&config);
	assert_null(config);
	config_free(&config); /* NULL is fine */
}

/* The sample documents the defaults: loading it changes nothing. */
static void test_sample(void **state)
{
	struct config *config = NULL, *defaults = config_defaults();
	const char *error = NULL;
	const char *path = TOP_SRCDIR "/dist/pillarbox.conf.sample";

	(void)state;
	if (config_load(path, &config, &error) < 0)
		fail_msg("%s", error);
	assert_string_equal(config->path, path);
	assert_string_equal(config->hostname, defaults->hostname);
	assert_string_equal(config->user, defaults->user);
	assert_string_equal(config->store, defaults->store);
	assert_null(config->tls_cert);
	assert_string_equal(config->tls_priority, defaults->tls_priority);
	assert_int_equal(config->allow_plaintext_auth, defaults->allow_plaintext_auth);
	assert_int_equal(config->max_message_size, defaults->max_message_size);
	assert_null(config->relayhost);
	assert_null(config->resolver);
	assert_string_equal(config->webmail_base, defaults->webmail_base);
	assert_string_equal(config->templates, defaults->templates);
	assert_int_equal(config->watchdog_seconds, defaults->watchdog_seconds);
	assert_int_equal(config->password_cost, defaults->password_cost);
	assert_int_equal(config->idle_timeout, defaults->idle_timeout);
	assert_null(config->postmaster);
	assert_string_equal(config->recipient_delimiter, defaults->recipient_delimiter);
	assert_int_equal(config->mail_auth, defaults->mail_auth);
	assert_null(config->dnsbl);
	assert_int_equal(config->nroutes, 0);
	config_free(&config);
	config_free(&defaults);
}

static void test_every_key(void **state)
{
	const struct config_route *route;
	struct config *config;

	(void)state;
	config = load_ok(
		"# a comment\n"
		"\n"
		"   # indented comment\n"
		"hostname = mx1.example.com\n"
		"user\t=\tmailer   # trailing comment\n"
		"store = /srv/pb#not-a-comment\r\n"
		"tls_cert = /etc/pb/cert.pem\n"
		"tls_key = /etc/pb/key.pem\n"
		"tls_cert_dir = /etc/letsencrypt/live\n"
		"tls_priority = NORMAL:-VERS-ALL:+VERS-TLS1.3\n"
		"allow_plaintext_auth = YES\n"
		"max_message_size = 10M\n"
		"relayhost = smarthost.example.net:587\n"
		"resolver = [::1]:5353\n"
		"webmail_base = /mail/web\n"
		"templates = /opt/pb/templates\n"
		"watchdog_seconds = 0\n"
		"password_cost = 11\n"
		"idle_timeout = 60\n"
		"postmaster = Admin@Provider.example\n"
		"recipient_delimiter = +-\n"
		"mail_auth = record\n"
		"mta_sts = enforce\n"
		"dnsbl = zen.spamhaus.org bl.spamcop.net\n"
		"spamd = 127.0.0.1:11333\n"
		"spam_reject_score = 15\n"
		"spam_max_size = 2M\n"
		"send_limit = 500\n"
		"route Example.ORG = 127.0.0.1:2526\n"
		"route  example.net=[2001:db8::1]:25\n"
		"route\tsub.example.com = relay.example.com:10025");
	assert_string_equal(config->hostname, "mx1.example.com");
	assert_string_equal(config->user, "mailer");
	assert_string_equal(config->store, "/srv/pb#not-a-comment");
	assert_string_equal(config->tls_cert, "/etc/pb/cert.pem");
	assert_string_equal(config->tls_key, "/etc/pb/key.pem");
	assert_string_equal(config->tls_cert_dir, "/etc/letsencrypt/live");
	assert_string_equal(config->tls_priority, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
	assert_true(config->allow_plaintext_auth);
	assert_int_equal(config->max_message_size, 10 * 1024 * 1024);
	assert_string_equal(config->relayhost, "smarthost.example.net:587");
	assert_string_equal(config->resolver, "[::1]:5353");
	assert_string_equal(config->webmail_base, "/mail/web");
	assert_string_equal(config->templates, "/opt/pb/templates");
	assert_int_equal(config->watchdog_seconds, 0);
	assert_int_equal(config->password_cost, 11);
	assert_int_equal(config->idle_timeout, 60);
	assert_string_equal(config->postmaster, "Admin@Provider.example");
	assert_string_equal(config->recipient_delimiter, "+-");
	assert_int_equal(config->mail_auth, CONFIG_MAIL_AUTH_RECORD);
	assert_int_equal(config->mta_sts, CONFIG_MTA_STS_ENFORCE);
	assert_string_equal(config->dnsbl, "zen.spamhaus.org bl.spamcop.net");
	assert_string_equal(config->spamd, "127.0.0.1:11333");
	assert_int_equal(config->spam_reject_score, 15);
	assert_int_equal(config->spam_max_size, 2 * 1024 * 1024);
	assert_int_equal(config->send_limit, 500);
	assert_int_equal(config->nroutes, 3);

	route = config_route_find(config, "example.org");
	assert_non_null(route);
	assert_string_equal(route->domain, "example.org");
	assert_string_equal(route->host, "127.0.0.1");
	assert_int_equal(route->port, 2526);
	route = config_route_find(config, "EXAMPLE.NET");
	assert_non_null(route);
	assert_string_equal(route->host, "2001:db8::1");
	assert_int_equal(route->port, 25);
	route = config_route_find(config, "sub.example.com");
	assert_non_null(route);
	assert_string_equal(route->host, "relay.example.com");
	assert_int_equal(route->port, 10025);
	assert_null(config_route_find(config, "example.com"));
	config_free(&config);
}

static void test_values(void **state)
{
	static const struct {
		const char *text;
		uint64_t size;
	} sizes[] = {
		{ "max_message_size = 1\n", 1 },
		{ "max_message_size = 2k\n", 2048 },
		{ "max_message_size = 3K\n", 3072 },
		{ "max_message_size = 1G\n", UINT64_C(1) << 30 },
		{ "max_message_size = 3g\n", UINT64_C(3) << 30 },
		{ "max_message_size = 4294967295\n", UINT64_C(4294967295) },
	};
	static const struct {
		const char *text;
		bool value;
	} bools[] = {
		{ "allow_plaintext_auth = yes", true }, { "allow_plaintext_auth = true", true },
		{ "allow_plaintext_auth = 1", true },   { "allow_plaintext_auth = no", false },
		{ "allow_plaintext_auth = false", false }, { "allow_plaintext_auth = 0", false },
		{ "allow_plaintext_auth = False", false },
	};
	struct config *config;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		config = load_ok(sizes[i].text);
		assert_int_equal(config->max_message_size, sizes[i].size);
		config_free(&config);
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		config = load_ok(bools[i].text);
		assert_int_equal(config->allow_plaintext_auth, bools[i].value);
		config_free(&config);
	}
	/* Empty optional values clear them; empty file = defaults. */
	config = load_ok("relayhost =\nresolver =   # none\n");
	assert_null(config->relayhost);
	assert_null(config->resolver);
	config_free(&config);
	/* no subaddresses; an internationalised postmaster address */
	config = load_ok("recipient_delimiter =\npostmaster = j\xc3\xb6rg@example.com\n");
	assert_null(config->recipient_delimiter);
	assert_string_equal(config->postmaster, "j\xc3\xb6rg@example.com");
	config_free(&config);
	config = load_ok("mail_auth = off\n");
	assert_int_equal(config->mail_auth, CONFIG_MAIL_AUTH_OFF);
	config_free(&config);
	/* dnsbl kept as the MX reads it: one space between, lowercase, no
	 * final dot; eight zones (the most) of the longest length; empty = none */
	config = load_ok("dnsbl = \tBL.Example.  \t  b.example\n");
	assert_string_equal(config->dnsbl, "bl.example b.example");
	config_free(&config);
	{
		char text[64 + CONFIG_DNSBL_MAX * (CONFIG_DNSBL_ZONE_MAX + 1)], zone[200];
		size_t off = (size_t)snprintf(text, sizeof(text), "dnsbl =");

		/* 63 + "." + 63 + "." + 59 + ".x" = 189 */
		snprintf(zone, sizeof(zone), "%063d.%063d.%059d.x", 0, 0, 0);
		assert_int_equal(strlen(zone), CONFIG_DNSBL_ZONE_MAX);
		for (int i = 0; i < CONFIG_DNSBL_MAX; i++)
			off += (size_t)snprintf(text + off, sizeof(text) - off, " %s", zone);
		config = load_ok(text);
		assert_int_equal(strlen(config->dnsbl),
				 CONFIG_DNSBL_MAX * (CONFIG_DNSBL_ZONE_MAX + 1) - 1);
		config_free(&config);
	}
	config = load_ok("dnsbl =\n");
	assert_null(config->dnsbl);
	config_free(&config);
	config = load_ok("");
	assert_string_equal(config->user, "pillarbox");
	config_free(&config);
}

static void test_errors(void **state)
{
	char longline[CONFIG_MAX_LINE + 64];
	char *many;
	size_t off = 0;
	struct config *config;

	(void)state;
	FAILS("allow_plaintext_auth = maybe\n", 1, "allow_plaintext_auth: expected yes");
	FAILS("mail_auth = yes\n", 1, "mail_auth: expected enforce, record or off");
	FAILS("mail_auth = Enforce\n", 1, "mail_auth: expected enforce, record or off");
	FAILS("mta_sts = on\n", 1, "mta_sts: expected none, testing or enforce");
	FAILS("dnsbl = zen.spamhaus.org,bl.spamcop.net\n", 1, "dnsbl: bad DNS zone");
	FAILS("dnsbl = bl..example\n", 1, "dnsbl: bad DNS zone");
	FAILS("dnsbl = bl.example .\n", 1, "dnsbl: bad DNS zone");
	FAILS("dnsbl = 127.0.0.2.bl_x.example\n", 1, "dnsbl: bad DNS zone");
	FAILS("dnsbl = a b c d e f g h i\n", 1, "dnsbl: too many DNS zones (8 at most)");
	FAILS("dnsbl = " "a123456789a123456789a123456789a123456789a123456789a123456789.b123456789"
	      "b123456789b123456789b123456789b123456789b123456789.c123456789c123456789"
	      "c123456789c123456789c123456789.d123456789d123456789\n", 1, "dnsbl: DNS zone too long");
	FAILS("user = a\nmax_message_size = 10X\n", 2, "max_message_size: expected a size");
	FAILS("max_message_size = 5G\n", 1, "out of range");
	FAILS("max_message_size = 0\n", 1, "out of range");
	FAILS("spamd = localhost\n", 1, "spamd:");
	FAILS("spam_reject_score = 1001\n", 1, "spam_reject_score: number out of range (0 to 1000)");
	FAILS("spam_max_size = 65M\n", 1,
	      "spam_max_size: size out of range (1024 to 67108864 bytes)");
	FAILS("max_message_size = 99999999999999999999999\n", 1, "expected a size");
	FAILS("max_message_size = -1\n", 1, "expected a size");
	FAILS("max_message_size = 1 M\n", 1, "expected a size");
	FAILS("max_message_size =\n", 1, "expected a size");
	FAILS("user = a\n\nuser = b\n", 3, "user: duplicate key");
	FAILS("# ok\nhostname mail.example.com\n", 2, "missing '='");
	FAILS("route example.org\n", 1, "missing '='");
	FAILS("Hostname = x\n", 1, "bad key");
	FAILS("host-name = x\n", 1, "bad key");
	FAILS("= x\n", 1, "bad key");
	FAILS("store = var/lib/pillarbox\n", 1, "store: expected an absolute path");
	FAILS("user =\n", 1, "user: empty value");
	FAILS("user = bad user\n", 1, "user: bad user name");
	FAILS("hostname = mail example\n", 1, "hostname: bad host name");
	FAILS("hostname = mail..example\n", 1, "bad host name");
	FAILS("webmail_base = webmail\n", 1, "webmail_base: expected a URL path");
	FAILS("webmail_base = /webmail/\n", 1, "expected a URL path");
	FAILS("webmail_base = /a\"b\n", 1, "expected a URL path");
	FAILS("password_cost = 12\n", 1, "password_cost: number out of range (0 to 11)");
	FAILS("idle_timeout = 0\n", 1, "idle_timeout: number out of range (1 to 86400)");
	FAILS("watchdog_seconds = 1.5\n", 1, "expected a number");
	FAILS("relayhost = smarthost\n", 1, "relayhost: expected host:port");
	FAILS("resolver = ::1:53\n", 1, "expected host:port");
	FAILS("postmaster = admin\n", 1, "postmaster: expected an address");
	FAILS("postmaster = <admin@example.com>\n", 1, "expected an address");
	FAILS("postmaster = a b@example.com\n", 1, "expected an address");
	FAILS("postmaster = admin@example.com, b@example.com\n", 1, "expected an address");
	FAILS("recipient_delimiter = a\n", 1, "recipient_delimiter: expected characters of");
	FAILS("recipient_delimiter = .\n", 1, "expected characters of");
	FAILS("recipient_delimiter = @\n", 1, "expected characters of");
	FAILS("recipient_delimiter = + -\n", 1, "expected characters of");
	FAILS("recipient_delimiter = ++\n", 1, "each once");
	/* routes */
	FAILS("route = 1.2.3.4:25\n", 1, "route needs a domain");
	FAILS("route example.org = 127.0.0.1\n", 1, "route: expected host:port");
	FAILS("route example.org = 127.0.0.1:0\n", 1, "bad port");
	FAILS("route example.org = 127.0.0.1:65536\n", 1, "bad port");
	FAILS("route example.org = 127.0.0.1:25x\n", 1, "bad port");
	FAILS("route example.org = [::1:25\n", 1, "expected [IPv6-address]:port");
	FAILS("route example.org = [fe80::zz]:25\n", 1, "bad IPv6 address");
	FAILS("route example.org = []:25\n", 1, "bad IPv6 address");
	FAILS("route exa_mple.org = 127.0.0.1:25\n", 1, "bad route domain");
	FAILS("route a.org = h:1\nroute A.ORG = h:2\n", 2, "duplicate route");
	/* tls_cert and tls_key go together */
	write_file("tls_cert = /etc/c.pem\n", 22);
	{
		const char *error = NULL;

		config = NULL;
		assert_int_equal(config_load(conf_path, &config, &error), -1);
		assert_non_null(strstr(error, "tls_cert and tls_key must be set together"));
	}
	/* tls_cert_dir: an absolute path, and a default certificate beside it */
	FAILS("tls_cert_dir = certs\n", 1, "absolute");
	write_file("tls_cert_dir = /etc/certs\n", 26);
	{
		const char *error = NULL;

		config = NULL;
		assert_int_equal(config_load(conf_path, &config, &error), -1);
		assert_non_null(strstr(error, "tls_cert_dir needs tls_cert and tls_key"));
	}
	/* Lines: just at the limit is fine, one byte more is an error. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "# ", 2);
	longline[CONFIG_MAX_LINE] = '\n';
	write_file(longline, CONFIG_MAX_LINE + 1);
	{
		const char *error = NULL;

		config = NULL;
		assert_int_equal(config_load(conf_path, &config, &error), 0);
		config_free(&config);
	}
	memmove(longline + 5, longline, CONFIG_MAX_LINE + 1);
	memcpy(longline, "a=b\n\n", 5);
	longline[5 + CONFIG_MAX_LINE] = 'x';
	longline[5 + CONFIG_MAX_LINE + 1] = '\n';
	load_fails(longline, 5 + CONFIG_MAX_LINE + 2, 3, "line too long");
	FAILS("user = a\0b\n", 1, "NUL byte");
	FAILS("\nuser = a\033b\n", 2, "control character");
	/* More routes than CONFIG_MAX_ROUTES */
	many = malloc((CONFIG_MAX_ROUTES + 1) * 64);
	assert_non_null(many);
	for (unsigned i = 0; i <= CONFIG_MAX_ROUTES; i++)
		off += (size_t)sprintf(many + off, "route d%u.example = 127.0.0.1:%u\n", i, i + 1);
	load_fails(many, off, CONFIG_MAX_ROUTES + 1, "too many routes");
	free(many);
}

static void test_missing_file(void **state)
{
	struct config *config = NULL;
	const char *error = NULL;
	char expect[256];

	(void)state;
	unlink(conf_path);
	assert_int_equal(config_load(conf_path, &config, &error), -1);
	assert_null(config);
	snprintf(expect, sizeof(expect), "%s: No such file or directory (name another with "
		 "--config FILE or PILLARBOX_CONF)", conf_path);
	assert_string_equal(error, expect);
}

/* Loads `text` (which must load) and returns what it logged on stderr. */
static void load_capturing(const char *text, char *captured, size_t size)
{
	struct config *config;
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	setenv("PILLARBOX_LOG_STDERR", "1", 1);
	log_open("test_config");
	fflush(stderr);
	assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
	config = load_ok(text);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(captured, 1, size - 1, tmp);
	captured[n] = '\0';
	fclose(tmp);
	unsetenv("PILLARBOX_LOG_STDERR");
	log_open("test_config");
	assert_string_equal(config->store, "/x");
	config_free(&config);
}

/* An unknown key is a warning naming FILE:LINE, and loading goes on; a
 * key one or two typing slips from a known one names it. */
static void test_unknown_key_warns(void **state)
{
	static const struct { const char *key, *meant; } cases[] = {
		{ "frobnicate", NULL },
		{ "hostnme", "hostname" },
		{ "hsotname", "hostname" },          /* two letters swapped */
		{ "max_mesage_size", "max_message_size" },
		{ "idle_timeout_s", "idle_timeout" },  /* two edits */
		{ "idle_timeout_sec", NULL },         /* four */
		{ "stroe", "store" },                /* short keys: one edit */
		{ "usr", "user" },
		{ "us", NULL },
		{ "relay_timout", "relay_timeout" }, /* a key the relay reads */
		{ "tls_certs", "tls_cert" },
	};
	char captured[4096], text[256], expect[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "user = a\n%s = 7\nstore = /x\n", cases[i].key);
		load_capturing(text, captured, sizeof(captured));
		if (cases[i].meant != NULL)
			snprintf(expect, sizeof(expect), "%s:2: unknown key \"%s\" ignored: did you mean "
				 "\"%s\"?\n", conf_path, cases[i].key, cases[i].meant);
		else
			snprintf(expect, sizeof(expect), "%s:2: unknown key \"%s\" ignored\n", conf_path,
				 cases[i].key);
		if (strstr(captured, expect) == NULL)
			fail_msg("%s: expected \"%s\" on stderr, got \"%s\"", cases[i].key, expect,
				 captured);
	}
}

static void test_path(void **state)
{
	(void)state;
	unsetenv("PILLARBOX_CONF");
	assert_string_equal(config_path(NULL), CONFIG_DEFAULT_PATH);
	setenv("PILLARBOX_CONF", "/tmp/env.conf", 1);
	assert_string_equal(config_path(NULL), "/tmp/env.conf");
	assert_string_equal(config_path("/tmp/arg.conf"), "/tmp/arg.conf");
	setenv("PILLARBOX_CONF", "", 1);
	assert_string_equal(config_path(NULL), CONFIG_DEFAULT_PATH);
	unsetenv("PILLARBOX_CONF");
}

/* The MTA-STS policy of a configuration: its text, none without TLS or a
 * host name of two labels, and an id that follows the text. */
static void test_mta_sts(void **state)
{
	char policy[MTA_STS_POLICY_MAX], id[MTA_STS_ID_LEN + 1], id2[MTA_STS_ID_LEN + 1];
	(void)state;
	struct config *config = load_ok("hostname = Mail.Example.COM.\n");
	assert_int_equal(mta_sts_policy(config, policy), 0);   /* no TLS */
	config_free(&config);
	config = load_ok("hostname = Mail.Example.COM.\ntls_cert = /etc/pb/cert.pem\n"
			 "tls_key = /etc/pb/key.pem\n");
	size_t len = mta_sts_policy(config, policy);
	static const char testing[] = "version: STSv1\r\nmode: testing\r\n"
				      "mx: mail.example.com\r\nmax_age: 604800\r\n";
	assert_int_equal(len, sizeof(testing) - 1);
	assert_memory_equal(policy, testing, len);
	mta_sts_id(policy, len, id);
	assert_int_equal(strlen(id), MTA_STS_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), MTA_STS_ID_LEN);
	mta_sts_id(policy, len, id2);
	assert_string_equal(id, id2);
	/* public_hostname is the MX's name; another mode, another id */
	config_free(&config);
	config = load_ok("hostname = a.example.com\npublic_hostname = mx.example.net\n"
			 "tls_cert = /etc/pb/cert.pem\ntls_key = /etc/pb/key.pem\nmta_sts = enforce\n");
	len = mta_sts_policy(config, policy);
	assert_true(len > 0);
	assert_non_null(strstr(policy, "\r\nmode: enforce\r\nmx: mx.example.net\r\n"));
	mta_sts_id(policy, len, id2);
	assert_string_not_equal(id, id2);
	config->mta_sts = CONFIG_MTA_STS_NONE;
	len = mta_sts_policy(config, policy);
	assert_non_null(strstr(policy, "\r\nmode: none\r\n"));
	/* a name of one label is none a sender could match */
	config_free(&config);
	config = load_ok("hostname = localhost\ntls_cert = /etc/pb/cert.pem\n"
			 "tls_key = /etc/pb/key.pem\n");
	assert_int_equal(mta_sts_policy(config, policy), 0);
	config_free(&config);
}

static void test_hostport(void **state)
{
	const char *error = NULL;
	char *host = NULL;
	uint16_t port = 0;

	(void)state;
	assert_int_equal(config_hostport_parse("[::1]:53", &host, &port, &error), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 53);
	free(host);
	assert_int_equal(config_hostport_parse("192.0.2.1:65535", &host, &port, &error), 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(port, 65535);
	free(host);
	assert_int_equal(config_hostport_parse("example.com:", NULL, &port, &error), -1);
	assert_int_equal(config_hostport_parse(":25", NULL, &port, &error), -1);
	assert_int_equal(config_hostport_parse("[::1]", NULL, &port, &error), -1);
	assert_int_equal(config_hostport_parse("[::1]:+25", NULL, &port, &error), -1);
	assert_int_equal(config_hostport_parse("a b:25", NULL, &port, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_sample),
		cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_warns, setup, teardown),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test_setup_teardown(test_mta_sts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
