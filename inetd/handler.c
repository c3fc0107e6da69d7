/* The start-up every protocol handler shares (handler.h). */
#include <stddef.h>

#include "handler.h"
#include "log.h"

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
		return h->fail("configuration", error, !h->implicit_tls);
	if (process_init(config->user, h->limits, false, &error) < 0) {
		ret = h->fail("start", error, !h->implicit_tls);
		config_free(&config);
		return ret;
	}
	/* After the switch, before any client byte. Without --tls a broken key
	 * only loses STARTTLS. */
	if (config->tls_cert != NULL || h->implicit_tls) {
		if (tls_creds_server_load(config->tls_cert, config->tls_key, config->tls_priority,
					  creds_r, &error) < 0) {
			if (h->implicit_tls) {
				ret = h->fail("TLS", error, false);
				config_free(&config);
				return ret;
			}
			log_error("TLS: %s (%s not offered)", error, h->starttls);
			*creds_r = NULL;
		}
	}
	*config_r = config;
	return 0;
}
