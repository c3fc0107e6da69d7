/* GET /.well-known/mta-sts.txt: the MX's MTA-STS policy (store/mta_sts.h),
 * asked for by sending servers at https://mta-sts.DOMAIN/ for each local
 * domain alike. */
#include "app.h"
#include "mta_sts.h"

void page_mta_sts(struct ctx *c)
{
	char policy[MTA_STS_POLICY_MAX];
	size_t len = mta_sts_policy(c->wm->config, policy);
	if (len == 0) {
		page_error(c, 404, "This server publishes no MTA-STS policy: it has no TLS "
			   "certificate configured.");
		return;
	}
	buf_reset(&c->resp->body);
	if (!buf_append(&c->resp->body, policy, len)) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	http_header_add(c->resp, c->a, "Content-Type", "text/plain");
	http_header_add(c->resp, c->a, "Cache-Control", "max-age=3600");
}
