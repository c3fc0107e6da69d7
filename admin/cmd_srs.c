/* pillarbox srs rotate [--drop-previous]: a new secret for the SRS addresses
 * forwarded mail leaves with (srs.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "srs.h"

static void utc_text(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

_Static_assert(SRS_MAX_AGE_DAYS == 21, "the help below says 21 days");

static int srs_cmd_rotate(struct admin *admin, int argc, char **argv)
{
	bool keep = true;
	if (argc == 1 && strcmp(argv[0], "--drop-previous") == 0)
		keep = false;
	else if (argc != 0)
		return admin_fail(ADMIN_EXIT_USAGE, "usage: pillarbox srs rotate [--drop-previous]");
	struct store_srs_rotation r;
	const char *error = NULL;
	int ret = store_srs_rotate(admin->store, keep, &r, &error);
	if (ret < 0)
		return admin_store_fail(ret, 0, "srs rotate", error);
	char until[32];
	if (!r.had_secret)
		admin_say("the store had no SRS secret: made one (no SRS address was made before)");
	else if (r.previous_until != 0)
		admin_say("new SRS secret: bounces to addresses made with the old one are accepted "
			  "until %s, then refused", (utc_text(r.previous_until, until), until));
	else
		admin_say("new SRS secret: bounces to addresses made with the old one are refused "
			  "from now on");
	if (r.dropped_older)
		admin_say("the secret before the old one, which still verified, is dropped: "
			  "addresses made with it are refused from now on");
	return ADMIN_EXIT_OK;
}

static const struct admin_verb srs_verbs[] = {
	{ "rotate", "[--drop-previous]",
	  "make a new secret for forwarded mail's SRS addresses; the old one verifies "
	  "bounces for 21 more days, or not at all with --drop-previous (it leaked)",
	  0, 1, ADMIN_STORE_OPEN, true, NULL, NULL, srs_cmd_rotate },
};

const struct admin_noun admin_noun_srs = {
	"srs", "The Sender Rewriting Scheme: mail forwarded to another domain leaves with an\n"
	"address of the SRS domain (srs_domain, else hostname) signed with the store's\n"
	"secret, so that its bounces come back here and go on to the original sender.",
	srs_verbs, sizeof(srs_verbs) / sizeof(srs_verbs[0]),
};
