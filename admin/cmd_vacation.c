/* pillarbox user vacation ADDRESS [--on | --off] [--subject S]
 *   [--text-file F | -] [--from DATE] [--until DATE] [--days N]:
 * shows or changes a user's out-of-office reply (store/vacation.h). Dates
 * are days in UTC (YYYY-MM-DD), the --until day included; "" clears one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "vacation.h"

/* 1 parsed into *t_r (the day's first second, UTC), 0 empty, -1 invalid. */
static int day_parse(const char *s, int64_t *t_r)
{
	int y, m, d;
	char extra;
	if (*s == '\0') {
		*t_r = 0;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1970 || m < 1 || m > 12 ||
	    d < 1 || d > 31)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)
		return -1;
	*t_r = (int64_t)t;
	return 1;
}

static void day_format(int64_t t, char buf[16])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, 16, "?");
	else
		snprintf(buf, 16, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* The whole file (or stdin for "-") into dst; false if unreadable or too long. */
static bool text_read(const char *path, char *dst, size_t size)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(dst, 1, size, f);
	bool ok = n < size && !ferror(f);
	if (f != stdin)
		fclose(f);
	dst[ok ? n : 0] = '\0';
	return ok;
}

static void vacation_show(const char *address, const struct store_vacation *v)
{
	char from[16] = "-", until[16] = "-";
	if (v->start != 0)
		day_format(v->start, from);
	if (v->end != 0)
		day_format(v->end - 1, until);
	printf("address\t%s\nstate\t%s\nactive\t%s\nfrom\t%s\nuntil\t%s\ndays\t%u\nsubject\t%s\n"
	       "text\n%s\n", address, v->enabled ? "on" : "off",
	       store_vacation_active(v, (int64_t)time(NULL)) ? "yes" : "no", from, until,
	       v->days, v->subject, v->text);
}

int user_cmd_vacation(struct admin *admin, int argc, char **argv)
{
	struct store_user user;
	struct store_vacation *v = calloc(1, sizeof(*v));
	const char *error = NULL, *address = argv[0];
	bool change = false;
	int ret, code = ADMIN_EXIT_OK;

	if (v == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	ret = store_user_find(admin->store, address, &user, &error);
	if (ret <= 0) {
		free(v);
		return ret == 0 ? admin_fail(ADMIN_EXIT_NOUSER, "%s: no such user", admin_arg(address))
				: admin_store_fail(ret, 0, admin_arg(address), error);
	}
	if (store_vacation_get(admin->store, user.id, v, &error) < 0) {
		free(v);
		return admin_store_fail(-1, 0, admin_arg(address), error);
	}
	for (int i = 1; i < argc && code == ADMIN_EXIT_OK; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t days;
		int64_t t;
		change = true;
		if (strcmp(opt, "--on") == 0) {
			v->enabled = true;
		} else if (strcmp(opt, "--off") == 0) {
			v->enabled = false;
		} else if (val == NULL) {
			code = admin_fail(ADMIN_EXIT_USAGE, "%s: needs a value (see --help)",
					  admin_arg(opt));
		} else if (strcmp(opt, "--subject") == 0) {
			if (strlen(val) > STORE_VACATION_SUBJECT_MAX)
				code = admin_fail(ADMIN_EXIT_USAGE, "--subject: at most %d bytes",
						  STORE_VACATION_SUBJECT_MAX);
			else
				snprintf(v->subject, sizeof(v->subject), "%s", val);
			i++;
		} else if (strcmp(opt, "--text-file") == 0) {
			if (!text_read(val, v->text, sizeof(v->text)))
				code = admin_fail(ADMIN_EXIT_USAGE, "%s: unreadable, or longer than %d "
						  "bytes", admin_arg(val), STORE_VACATION_TEXT_MAX);
			i++;
		} else if (strcmp(opt, "--from") == 0 || strcmp(opt, "--until") == 0) {
			if (day_parse(val, &t) < 0)
				code = admin_fail(ADMIN_EXIT_USAGE, "%s: expected YYYY-MM-DD (UTC), "
						  "or \"\" for none", admin_arg(val));
			else if (opt[2] == 'f')
				v->start = t;
			else
				v->end = t != 0 ? t + 86400 : 0;
			i++;
		} else if (strcmp(opt, "--days") == 0) {
			if (admin_number_parse(val, STORE_VACATION_DAYS_MAX, &days) < 0 ||
			    days < STORE_VACATION_DAYS_MIN)
				code = admin_fail(ADMIN_EXIT_USAGE, "--days: from %d to %d",
						  STORE_VACATION_DAYS_MIN, STORE_VACATION_DAYS_MAX);
			else
				v->days = (uint16_t)days;
			i++;
		} else {
			code = admin_fail(ADMIN_EXIT_USAGE, "%s: unknown option (see --help)",
					  admin_arg(opt));
		}
	}
	if (code == ADMIN_EXIT_OK && change) {
		ret = store_vacation_set(admin->store, user.id, v, &error);
		if (ret == 0)
			code = admin_fail(ADMIN_EXIT_DATAERR, "%s: %s", admin_arg(address), error);
		else if (ret < 0)
			code = admin_store_fail(ret, 0, admin_arg(address), error);
		else
			admin_say("vacation of %s: %s", admin_arg(address), v->enabled ? "on" : "off");
	} else if (code == ADMIN_EXIT_OK) {
		vacation_show(user.address, v);
	}
	free(v);
	return code;
}
