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

#include "cli.h"
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

static const struct cli smtpd_cli = {
	.name = "smtpd",
	.usage = "Usage: smtpd --mode=mx|submission [--tls] [--config FILE] [OPTIONS]\n"
		 "Serves one SMTP session on standard input/output (started by xinetd or a\n"
		 "systemd socket with Accept=yes).\n"
		 "  --mode=mx            the MX (port 25): mail for local domains from anyone\n"
		 "  --mode=submission    submission (587/465): AUTH before MAIL, relays\n"
		 "  --tls                implicit TLS (port 465): handshake before the greeting\n"
		 "  --config FILE        read FILE instead of the default pillarbox.conf\n"
		 "  --relay PATH         the relay program started after queueing remote mail\n"
		 "                       (default: relay_program in pillarbox.conf, by default\n"
		 "                       " PKGLIBEXECDIR "/relay; \"\" = never)\n"
		 "  --max-recipients N   recipients per message (default 100, at most 1000)\n"
		 "  --quota-tempfail     over quota: 452 4.2.2 instead of 552 5.2.2\n"
		 "  --help               show this help and exit\n"
		 "  --version            show the version and exit\n",
};

static int smtpd_serve(const struct config *config, struct tls_creds *creds, const struct handler_start *h,
		       const struct smtp_options *opt)
{
	struct smtp_session *session;
	struct conn *conn;
	struct store *store;
	int ret = handler_connect(h, config, creds, config->idle_timeout != 0 && config->idle_timeout < SMTP_TIMEOUT
				      ? config->idle_timeout : SMTP_TIMEOUT, opt->mode == SMTP_MODE_MX ? " mode=mx" : " mode=submission", &conn, &store);

	if (ret != 0)
		return ret;
	session = smtp_session_new(conn, store, config, creds, opt);
	if (session == NULL) {
		handler_end(&conn, &store);
		return handler_fail(h, "start", "out of memory", !h->implicit_tls);
	}
	ret = smtp_session_run(session);
	smtp_session_free(&session);
	handler_end(&conn, &store);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CONFIG = CLI_OPT_FIRST, OPT_MODE, OPT_TLS, OPT_RELAY, OPT_MAXRCPT, OPT_QUOTA };
	static const struct option options[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "tls", no_argument, NULL, OPT_TLS },
		{ "relay", required_argument, NULL, OPT_RELAY },
		{ "max-recipients", required_argument, NULL, OPT_MAXRCPT },
		{ "quota-tempfail", no_argument, NULL, OPT_QUOTA },
		CLI_OPTIONS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const struct process_limits limits = {
		.address_space = SMTPD_ADDRESS_SPACE,
		.open_files = SMTPD_OPEN_FILES,
	};
	struct smtp_options opt = {
		.mode = SMTP_MODE_MX,
		.max_recipients = SMTP_RECIPIENTS_DEFAULT,
	};
	const char *config_file = NULL;
	struct config *config = NULL;
	struct tls_creds *creds = NULL;
	bool implicit_tls = false, mode_given = false, relay_given = false;
	char *end;
	unsigned long n;
	int o, ret;

	while ((o = cli_getopt(&smtpd_cli, argc, argv, "", options)) != -1) {
		switch (o) {
		case OPT_CONFIG:
			config_file = optarg;
			break;
		case OPT_MODE:
			if (strcmp(optarg, "mx") == 0)
				opt.mode = SMTP_MODE_MX;
			else if (strcmp(optarg, "submission") == 0)
				opt.mode = SMTP_MODE_SUBMISSION;
			else
				return cli_usage_error(smtpd_cli.name, NULL,
						       "--mode must be mx or submission");
			mode_given = true;
			break;
		case OPT_TLS:
			implicit_tls = true;
			break;
		case OPT_RELAY:
			relay_given = true;
			opt.relay_program = optarg[0] != '\0' ? optarg : NULL;
			break;
		case OPT_MAXRCPT:
			n = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n == 0 || n > SMTP_RECIPIENTS_LIMIT) {
				return cli_usage_error(smtpd_cli.name, NULL,
						       "--max-recipients must be 1 to %d",
						       SMTP_RECIPIENTS_LIMIT);
			}
			opt.max_recipients = (unsigned)n;
			break;
		case OPT_QUOTA:
			opt.quota_tempfail = true;
			break;
		}
	}
	if ((ret = cli_no_operands(smtpd_cli.name, argc, argv)) != 0)
		return ret;
	if (!mode_given)
		return cli_usage_error(smtpd_cli.name, NULL,
				       "--mode=mx or --mode=submission is required");

	struct handler_start start = {
		.name = "smtpd", .limits = &limits, .implicit_tls = implicit_tls,
		.starttls = "STARTTLS", .tempfail = "421 4.3.0 Service unavailable, try again later\r\n",
		.line_max = SMTP_DATA_LINE_MAX,
	};
	ret = handler_start(&start, config_file, &config, &creds);
	if (ret != 0)
		return ret;
	if (!relay_given)
		opt.relay_program = config->relay_program;
	ret = smtpd_serve(config, creds, &start, &opt);
	tls_creds_free(&creds);
	config_free(&config);
	return ret;
}
