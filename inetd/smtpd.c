/* smtpd: one SMTP session on fds 0/1, started per connection by xinetd or a
 * systemd socket (Accept=yes), as the MX (--mode=mx, port 25) or the
 * submission service (--mode=submission, 587; 465 with --tls). Start-up
 * order (STYLE.md lesson 7): configuration, process_init (drops root,
 * limits, signals), TLS credentials, the store, then the first byte to or
 * from the client. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "handler.h"
#include "log.h"
#include "process.h"
#include "smtp.h"
#include "store.h"
#include "tls.h"

/* As for pop3d: the store's mapped regions plus GnuTLS and our buffers
 * (64 KB line buffer, 100 KB header buffer); a runaway allocation fails
 * and the process exits cleanly instead of being OOM-killed. */
#define SMTPD_ADDRESS_SPACE (2048UL * 1024 * 1024)
/* The store's databases, a body file, the lock file, the socket. */
#define SMTPD_OPEN_FILES 256
/* Where the relay is installed; --relay overrides it (tests). */
#define SMTPD_RELAY_DEFAULT PKGLIBEXECDIR "/relay"

static struct conn *smtpd_conn;
static struct store *smtpd_store;

/* The store's panic hook: one temporary-failure line through the
 * connection (encrypted under TLS), then the store _exit()s. */
static void smtpd_panic(void)
{
	const char *error;

	if (smtpd_conn == NULL)
		return;
	conn_puts(smtpd_conn, "421 4.3.0 Internal error, try again later\r\n");
	(void)conn_flush(smtpd_conn, &error);
}

static void smtpd_usage(FILE *out)
{
	fputs("Usage: smtpd --mode=mx|submission [--tls] [--config FILE] [OPTIONS]\n"
	      "Serves one SMTP session on standard input/output (started by xinetd or a\n"
	      "systemd socket with Accept=yes).\n"
	      "  --mode=mx            the MX (port 25): mail for local domains from anyone\n"
	      "  --mode=submission    submission (587/465): AUTH before MAIL, relays\n"
	      "  --tls                implicit TLS (port 465): handshake before the greeting\n"
	      "  --config FILE        read FILE instead of the default pillarbox.conf\n"
	      "  --relay PATH         the relay program started after queueing remote mail\n"
	      "                       (default " SMTPD_RELAY_DEFAULT "; \"\" = never)\n"
	      "  --max-recipients N   recipients per message (default 100, at most 1000)\n"
	      "  --quota-tempfail     over quota: 452 4.2.2 instead of 552 5.2.2\n"
	      "  --help, --version\n",
	      out);
}

/* A fatal start-up error before the session: one line in clear text when
 * there is a plaintext client to tell, then leave. */
static int smtpd_fail(const char *what, const char *error, bool tell_client)
{
	log_error("%s: %s", what, error);
	if (tell_client) {
		static const char msg[] = "421 4.3.0 Service unavailable, try again later\r\n";

		if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nobody to tell */
		}
	}
	return 75; /* EX_TEMPFAIL */
}

static int smtpd_serve(const struct config *config, struct tls_creds *creds, bool implicit_tls,
		       const struct smtp_options *opt)
{
	struct smtp_session *session;
	const char *error = NULL;
	int ret;

	smtpd_conn = conn_new(STDIN_FILENO, STDOUT_FILENO, SMTP_DATA_LINE_MAX);
	if (smtpd_conn == NULL)
		return smtpd_fail("start", "out of memory", true);
	conn_set_timeout(smtpd_conn, config->idle_timeout != 0 && config->idle_timeout < SMTP_TIMEOUT
					     ? config->idle_timeout : SMTP_TIMEOUT);
	conn_set_stop_flag(smtpd_conn, &process_stop_requested);
	log_info("connect rip=%s mode=%s%s", conn_peer_ip(smtpd_conn),
		 opt->mode == SMTP_MODE_MX ? "mx" : "submission", implicit_tls ? " tls=implicit" : "");

	if (store_open(config, false, &smtpd_store, &error) < 0) {
		conn_free(&smtpd_conn);
		return smtpd_fail("store", error, !implicit_tls);
	}
	store_set_panic_hook(smtpd_panic);
	if (implicit_tls) {
		if (conn_start_tls(smtpd_conn, creds, true, NULL, NULL, &error) < 0) {
			log_info("TLS handshake failed rip=%s: %s", conn_peer_ip(smtpd_conn), error);
			store_close(&smtpd_store);
			conn_free(&smtpd_conn);
			return 1;
		}
		log_info("tls rip=%s tls=%s", conn_peer_ip(smtpd_conn),
			 conn_tls_description(smtpd_conn));
	}
	session = smtp_session_new(smtpd_conn, smtpd_store, config, creds, opt);
	if (session == NULL) {
		store_close(&smtpd_store);
		conn_free(&smtpd_conn);
		return smtpd_fail("start", "out of memory", !implicit_tls);
	}
	ret = smtp_session_run(session);
	smtp_session_free(&session);
	store_close(&smtpd_store);
	conn_free(&smtpd_conn);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CONFIG = 256, OPT_MODE, OPT_TLS, OPT_RELAY, OPT_MAXRCPT, OPT_QUOTA, OPT_HELP,
	       OPT_VERSION };
	static const struct option options[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "tls", no_argument, NULL, OPT_TLS },
		{ "relay", required_argument, NULL, OPT_RELAY },
		{ "max-recipients", required_argument, NULL, OPT_MAXRCPT },
		{ "quota-tempfail", no_argument, NULL, OPT_QUOTA },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const struct process_limits limits = {
		.address_space = SMTPD_ADDRESS_SPACE,
		.open_files = SMTPD_OPEN_FILES,
	};
	struct smtp_options opt = {
		.mode = SMTP_MODE_MX,
		.relay_program = SMTPD_RELAY_DEFAULT,
		.max_recipients = SMTP_RECIPIENTS_DEFAULT,
	};
	const char *config_file = NULL;
	struct config *config = NULL;
	struct tls_creds *creds = NULL;
	bool implicit_tls = false, mode_given = false;
	char *end;
	unsigned long n;
	int o, ret;

	while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (o) {
		case OPT_CONFIG:
			config_file = optarg;
			break;
		case OPT_MODE:
			if (strcmp(optarg, "mx") == 0)
				opt.mode = SMTP_MODE_MX;
			else if (strcmp(optarg, "submission") == 0)
				opt.mode = SMTP_MODE_SUBMISSION;
			else {
				fprintf(stderr, "smtpd: --mode must be mx or submission\n");
				return 64;
			}
			mode_given = true;
			break;
		case OPT_TLS:
			implicit_tls = true;
			break;
		case OPT_RELAY:
			opt.relay_program = optarg[0] != '\0' ? optarg : NULL;
			break;
		case OPT_MAXRCPT:
			n = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n == 0 || n > SMTP_RECIPIENTS_LIMIT) {
				fprintf(stderr, "smtpd: --max-recipients must be 1 to %d\n",
					SMTP_RECIPIENTS_LIMIT);
				return 64;
			}
			opt.max_recipients = (unsigned)n;
			break;
		case OPT_QUOTA:
			opt.quota_tempfail = true;
			break;
		case OPT_HELP:
			smtpd_usage(stdout);
			return 0;
		case OPT_VERSION:
			puts("smtpd (" PACKAGE_NAME ") " PACKAGE_VERSION);
			return 0;
		default:
			smtpd_usage(stderr);
			return 64; /* EX_USAGE */
		}
	}
	if (optind != argc || !mode_given) {
		if (!mode_given)
			fputs("smtpd: --mode=mx or --mode=submission is required\n", stderr);
		smtpd_usage(stderr);
		return 64;
	}

	struct handler_start start = {
		.name = "smtpd", .limits = &limits, .implicit_tls = implicit_tls,
		.starttls = "STARTTLS", .fail = smtpd_fail,
	};
	ret = handler_start(&start, config_file, &config, &creds);
	if (ret != 0)
		return ret;
	ret = smtpd_serve(config, creds, implicit_tls, &opt);
	tls_creds_free(&creds);
	config_free(&config);
	return ret;
}
