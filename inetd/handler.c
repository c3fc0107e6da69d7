/* The start-up every protocol handler shares (handler.h). */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "handler.h"
#include "log.h"

/* For the panic hook, which takes no arguments: one session a process. */
static struct conn *handler_conn;
static const char *handler_tempfail;

static void handler_panic(void)
{
	const char *error;

	if (handler_conn == NULL)
		return;
	conn_puts(handler_conn, handler_tempfail);
	(void)conn_flush(handler_conn, &error);
}

int handler_fail(const struct handler_start *h, const char *what, const char *error,
		 bool tell_client)
{
	log_error("%s: %s", what, error);
	if (tell_client && write(STDOUT_FILENO, h->tempfail, strlen(h->tempfail)) < 0) {
		/* nobody to tell */
	}
	return 75; /* EX_TEMPFAIL */
}

int handler_start(const struct handler_start *h, const char *config_file,
		  struct config **config_r, struct tls_creds **creds_r)
{
	struct config *config = NULL;
	const char *error = NULL;
	int ret;

	*config_r = NULL;
	*creds_r = NULL;
	log_open(h->name);
	if (config_load(config_path(config_file), &config, &error) < 0)
		return handler_fail(h, "configuration", error, !h->implicit_tls);
	/* Before the switch (started as root, by xinetd, the key may be
	 * root's alone) and before any client byte: the files are read now;
	 * GnuTLS is loaded and they are parsed by the first TLS session (a
	 * plaintext session never pays for that). Without --tls a missing
	 * key only loses STARTTLS. */
	if (config->tls_cert != NULL || h->implicit_tls) {
		if (tls_creds_server_prepare(config->tls_cert, config->tls_key, config->tls_priority,
					     creds_r, &error) < 0) {
			if (h->implicit_tls) {
				ret = handler_fail(h, "TLS", error, false);
				config_free(&config);
				return ret;
			}
			log_error("TLS: %s (%s not offered)", error, h->starttls);
			*creds_r = NULL;
		} else if (tls_creds_server_sni_dir(*creds_r, config->tls_cert_dir, &error) < 0) {
			ret = handler_fail(h, "TLS", error, !h->implicit_tls);
			tls_creds_free(creds_r);
			config_free(&config);
			return ret;
		}
	}
	if (process_init(config->user, h->limits, false, &error) < 0) {
		ret = handler_fail(h, "start", error, !h->implicit_tls);
		tls_creds_free(creds_r);
		config_free(&config);
		return ret;
	}
	*config_r = config;
	return 0;
}

int handler_connect(const struct handler_start *h, const struct config *config,
		    struct tls_creds *creds, unsigned timeout, const char *log_extra,
		    struct conn **conn_r, struct store **store_r)
{
	const char *error = NULL;
	struct conn *conn = conn_new(STDIN_FILENO, STDOUT_FILENO, h->line_max);

	*conn_r = NULL;
	*store_r = NULL;
	if (conn == NULL)
		return handler_fail(h, "start", "out of memory", true);
	conn_set_timeout(conn, timeout);
	conn_set_stop_flag(conn, &process_stop_requested);
	log_info("connect rip=%s%s%s", conn_peer_ip(conn), log_extra,
		 h->implicit_tls ? " tls=implicit" : "");
	if (store_open_per_connection(config, store_r, &error) < 0) {
		conn_free(&conn);
		return handler_fail(h, "store", error, !h->implicit_tls);
	}
	handler_conn = conn;
	handler_tempfail = h->tempfail;
	store_set_panic_hook(handler_panic);
	if (h->implicit_tls) {
		if (conn_start_tls(conn, creds, true, NULL, NULL, &error) < 0) {
			log_info("TLS handshake failed rip=%s: %s", conn_peer_ip(conn), error);
			handler_end(&conn, store_r);
			return 1;
		}
		log_info("tls rip=%s tls=%s cert=%s", conn_peer_ip(conn), conn_tls_description(conn),
			 conn_tls_cert_name(conn));
	}
	*conn_r = conn;
	return 0;
}

void handler_end(struct conn **conn, struct store **store)
{
	store_close(store);
	if (*conn == handler_conn)
		handler_conn = NULL;
	conn_free(conn);
}

int handler_main(int argc, char **argv, const struct cli *cli, struct handler_start *h,
		 handler_serve_fn *serve)
{
	enum { OPT_CONFIG = CLI_OPT_FIRST, OPT_TLS };
	static const struct option options[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "tls", no_argument, NULL, OPT_TLS },
		CLI_OPTIONS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *config_file = NULL;
	struct config *config = NULL;
	struct tls_creds *creds = NULL;
	int opt, ret;

	while ((opt = cli_getopt(cli, argc, argv, "", options)) != -1) {
		if (opt == OPT_CONFIG)
			config_file = optarg;
		else if (opt == OPT_TLS)
			h->implicit_tls = true;
	}
	if ((ret = cli_no_operands(cli->name, argc, argv)) != 0)
		return ret;
	ret = handler_start(h, config_file, &config, &creds);
	if (ret != 0)
		return ret;
	ret = serve(config, creds, h);
	tls_creds_free(&creds);
	config_free(&config);
	return ret;
}
