/* Settings > Out of office: the vacation auto-reply (store/vacation.h).
 * Dates are days in the user's zone (the settings' tz): the first day
 * from its midnight, the last day up to the midnight after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "sieve.h"
#include "sieve_store.h"
#include "vacation.h"

/* "YYYY-MM-DD" (an <input type=date>) as the UTC second its midnight is in
 * the user's zone, or the next day's midnight with `end` (the day is
 * included: summer time may make it 23 or 25 hours). 1 parsed, 0 empty,
 * -1 invalid. */
static int date_parse(struct ctx *c, const char *s, bool end, int64_t *t_r)
{
	int y, m, d;
	char extra;
	if (s == NULL || *s == '\0')
		return 0;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1970 || y > 9999 ||
	    m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)
		return -1;   /* 31 April */
	*t_r = ctx_local_to_utc(c, (int64_t)t + (end ? 86400 : 0));
	return 1;
}

static const char *date_format(struct ctx *c, int64_t t)
{
	time_t lt = (time_t)(t + ctx_utc_offset(c, t));
	struct tm tm;
	if (gmtime_r(&lt, &tm) == NULL)
		return "";
	return arena_printf(c->a, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* The name of the active filter script when it has a vacation action of
 * its own (a ManageSieve client's, Roundcube's): while it answers, this
 * page's setting is not used (vacation.h), and the page says so. */
static void sieve_vacation_note(struct ctx *c)
{
	char name[STORE_SIEVE_NAME_MAX + 1], error[SIEVE_ERROR_MAX], *text = NULL;
	const char *serr;
	size_t len;
	if (store_sieve_get_active(c->store, c->user.id, name, &text, &len, &serr) == 1) {
		struct sieve_script *script = sieve_compile(text, len, error);
		if (script != NULL && sieve_script_has_vacation(script))
			tpl_str(c->data, "sieve_vacation", arena_strdup(c->a, name));
		sieve_script_free(script);
	}
	free(text);
}

/* `v`: the setting to show (as saved, or as typed when refused). */
static void vacation_form(struct ctx *c, int status, const char *message,
			  const struct store_vacation *v)
{
	if (ctx_folders(c, 0) < 0)
		return;
	tpl_bool(c->data, "enabled", v->enabled);
	tpl_str(c->data, "start", v->start != 0 ? date_format(c, v->start) : "");
	tpl_str(c->data, "end", v->end != 0 ? date_format(c, v->end - 1) : "");
	tpl_str(c->data, "subject", v->subject);
	tpl_str(c->data, "text", v->text);
	tpl_int(c->data, "days", v->days);
	tpl_int(c->data, "days_min", STORE_VACATION_DAYS_MIN);
	tpl_int(c->data, "days_max", STORE_VACATION_DAYS_MAX);
	tpl_int(c->data, "subject_max", STORE_VACATION_SUBJECT_MAX);
	tpl_int(c->data, "text_max", STORE_VACATION_TEXT_MAX);
	tpl_bool(c->data, "active", store_vacation_active(v, c->now));
	sieve_vacation_note(c);
	if (message == NULL && ctx_query(c, "saved") != NULL)
		tpl_str(c->data, "notice", v->enabled ? "Your out-of-office reply was saved."
						      : "Your out-of-office reply is off.");
	tpl_str(c->data, "error", message);
	tpl_bool(c->data, "nav_vacation", true);
	c->resp->status = status;
	page_render(c, "vacation", "Out of office");
}

/* Copies the textarea's text with CRLF made LF; false if it does not fit. */
static bool text_copy(char *dst, size_t size, const char *src)
{
	size_t j = 0;
	for (size_t i = 0; src != NULL && src[i] != '\0'; i++) {
		if (src[i] == '\r' && src[i + 1] == '\n')
			continue;
		if (j + 1 >= size)
			return false;
		dst[j++] = src[i];
	}
	dst[j] = '\0';
	return true;
}

void page_vacation(struct ctx *c)
{
	struct store_vacation *v = arena_alloc(c->a, sizeof(*v));
	const char *error, *message = NULL;
	if (v == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	if (c->req->method != HTTP_POST) {
		if (store_vacation_get(c->store, c->user.id, v, &error) < 0)
			page_store_error(c, "vacation", error);
		else
			vacation_form(c, 200, NULL, v);
		return;
	}
	memset(v, 0, sizeof(*v));
	const char *enabled = ctx_form(c, "enabled");
	v->enabled = enabled != NULL && strcmp(enabled, "on") == 0;
	v->days = (uint16_t)ctx_form_uint(c, "days", STORE_VACATION_DAYS_DEFAULT);
	if (ctx_form_uint(c, "days", STORE_VACATION_DAYS_DEFAULT) > STORE_VACATION_DAYS_MAX)
		v->days = 0;   /* refused below, with the range */
	int rs = date_parse(c, ctx_form(c, "start"), false, &v->start);
	int re = date_parse(c, ctx_form(c, "end"), true, &v->end);
	if (!text_copy(v->subject, sizeof(v->subject), ctx_form(c, "subject")))
		message = arena_printf(c->a, "The subject is too long: at most %d bytes.",
				       STORE_VACATION_SUBJECT_MAX);
	else if (!text_copy(v->text, sizeof(v->text), ctx_form(c, "text")))
		message = arena_printf(c->a, "The text is too long: at most %d bytes (letters "
				       "outside English take two to four).", STORE_VACATION_TEXT_MAX);
	else if (rs < 0 || re < 0)
		message = "Give the dates as year-month-day, for example 2025-07-31.";
	if (message != NULL) {
		if (rs < 0)
			v->start = 0;
		if (re < 0)
			v->end = 0;
		vacation_form(c, 400, message, v);
		return;
	}
	int r = store_vacation_set(c->store, c->user.id, v, &error);
	if (r < 0) {
		page_store_error(c, "vacation", error);
		return;
	}
	if (r == 0) {
		vacation_form(c, 400, arena_printf(c->a, "Not saved: %s.", error), v);
		return;
	}
	log_info("webmail: vacation-%s user=<%s>", v->enabled ? "on" : "off", c->user.address);
	page_redirect(c, "/vacation?saved=1");
}
