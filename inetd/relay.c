/* relay: delivers queued mail and exits.
 *   relay [--config FILE] --run-queue    every entry that is due
 *   relay [--config FILE] --id QUEUEID   one entry (smtpd starts this right
 *                                        after queueing, detached)
 * Start-up order (STYLE.md lesson 7): configuration, process_init (drops
 * root, limits, signals), the relayhost password, the store, the resolver;
 * then the network. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "process.h"
#include "relay.h"
#include "tls.h"

/* The store's regions, GnuTLS, a 64 KB read buffer and a few entries of at
 * most ~1 MB each: a runaway allocation fails cleanly instead. */
#define RELAY_ADDRESS_SPACE (2048UL * 1024 * 1024)
#define RELAY_OPEN_FILES 256

static const struct cli relay_cli = {
	.name = "relay",
	.usage = "Usage: relay [--config FILE] --run-queue | --id QUEUEID\n"
		 "Delivers mail from the outbound queue and exits.\n"
		 "  --run-queue      every entry whose next attempt is due\n"
		 "  --id QUEUEID     this entry now, whatever its next attempt time\n"
		 "  --config FILE    read FILE instead of the default pillarbox.conf\n"
		 "  --help           show this help and exit\n"
		 "  --version        show the version and exit\n"
		 "Exit status: 0 done (mail may still be deferred), 64 usage, 75 temporary\n"
		 "failure (store), 78 configuration.\n",
};

/* Claims and works through due entries until none is left or a stop is
 * requested. Returns 0 or 75. */
static int run_queue(struct relay *relay)
{
	char (*ids)[OUTQ_ID_HEX_LEN + 1] = calloc(RELAY_CLAIM_BATCH, sizeof(*ids));
	const char *error = NULL;
	unsigned done = 0;
	int ret = 0;

	if (ids == NULL)
		return 75;
	while (!process_stop_requested) {
		int n = outq_claim(relay->store, NULL, (int64_t)time(NULL), RELAY_LEASE_SECONDS,
				   RELAY_CLAIM_BATCH, ids, &error);

		if (n < 0) {
			log_error("queue: %s", error);
			ret = 75;
			break;
		}
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			/* An entry claimed but not reached (a stop) is released
			 * by its lease ending, or at once when this process exits
			 * (dead holder). */
			if (process_stop_requested)
				break;
			if (relay_entry_process(relay, ids[i]) < 0)
				ret = 75;
			done++;
		}
	}
	log_info("run done entries=%u%s", done, process_stop_requested ? " (stopped)" : "");
	free(ids);
	return ret;
}

static int run_one(struct relay *relay, const char *id)
{
	char ids[1][OUTQ_ID_HEX_LEN + 1];
	const char *error = NULL;
	int n = outq_claim(relay->store, id, (int64_t)time(NULL), RELAY_LEASE_SECONDS, 1, ids,
			   &error);

	if (n < 0) {
		log_error("queue=%s: %s", id, error);
		return 75;
	}
	if (n == 0) {
		log_info("queue=%s: not claimed (gone, or another relay has it)", id);
		return 0;
	}
	return relay_entry_process(relay, ids[0]) < 0 ? 75 : 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CONFIG = CLI_OPT_FIRST, OPT_RUN, OPT_ID };
	static const struct option options[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "run-queue", no_argument, NULL, OPT_RUN },
		{ "id", required_argument, NULL, OPT_ID },
		CLI_OPTIONS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const struct process_limits limits = {
		.address_space = RELAY_ADDRESS_SPACE,
		.open_files = RELAY_OPEN_FILES,
	};
	struct relay_config rc;
	struct relay relay = { .rc = &rc };
	struct config *config = NULL;
	const char *config_file = NULL, *id = NULL, *error = NULL;
	bool run = false;
	int o, ret;

	while ((o = cli_getopt(&relay_cli, argc, argv, "", options)) != -1) {
		switch (o) {
		case OPT_CONFIG:
			config_file = optarg;
			break;
		case OPT_RUN:
			run = true;
			break;
		case OPT_ID:
			id = optarg;
			break;
		}
	}
	if ((ret = cli_no_operands(relay_cli.name, argc, argv)) != 0)
		return ret;
	if (run == (id != NULL))
		return cli_usage_error(relay_cli.name, NULL,
				       "give exactly one of --run-queue and --id QUEUEID");
	if (id != NULL && !outq_id_valid(id))
		return cli_usage_error(relay_cli.name, NULL, "a queue id is 32 hexadecimal digits");

	log_open("relay");
	if (config_load(config_path(config_file), &config, &error) < 0) {
		log_error("configuration: %s", error);
		fprintf(stderr, "relay: %s\n", error);
		return 78;
	}
	relay.config = config;
	if (relay_config_load(config, &rc, &error) < 0) {
		log_error("configuration: %s", error);
		fprintf(stderr, "relay: %s\n", error);
		config_free(&config);
		return 78;
	}
	if (process_init(config->user, &limits, false, &error) < 0) {
		log_error("start: %s", error);
		fprintf(stderr, "relay: %s\n", error);
		ret = 78;
		goto out_config;
	}
	if (relay_net_init(&error) < 0 || relay_config_auth_load(&rc, &error) < 0) {
		log_error("start: %s", error);
		ret = 78;
		goto out_config;
	}
	if (dns_resolver_new(config->resolver, rc.timeout < 5 ? rc.timeout : 5, &relay.resolver,
			       &error) < 0) {
		log_error("resolver %s: %s", config->resolver != NULL ? config->resolver : "(system)",
			  error);
		ret = 78;
		goto out_config;
	}
	if (store_open(config, false, &relay.store, &error) < 0) {
		log_error("store: %s", error);
		ret = 75;
		goto out_resolver;
	}
	ret = id != NULL ? run_one(&relay, id) : run_queue(&relay);
	store_close(&relay.store);
out_resolver:
	dns_resolver_free(&relay.resolver);
	tls_creds_free(&relay.tls_any);
	tls_creds_free(&relay.tls_verify);
out_config:
	relay_config_free(&rc);
	config_free(&config);
	return ret;
}
