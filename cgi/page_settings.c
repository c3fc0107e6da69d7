/* Settings: the user's From identities (name and signature of each
 * address), list and reading preferences, and the quota in use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "identity.h"
#include "log.h"
#include "tzinfo.h"

/* Fixed offsets offered in the settings, minutes east of UTC. */
static const int fixed_offsets[] = {
	-720, -660, -600, -570, -540, -480, -420, -360, -300, -240, -210, -180, -120, -60, 0,
	60, 120, 180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 525, 540, 570, 600,
	630, 660, 720, 765, 780, 840 };
static const int sizes[] = { 10, 25, 50, 100, 200 };
/* tzdata's list of zones, one a line: "codes<TAB>coordinates<TAB>Zone/Name...". */
#define ZONE_TABLE TZINFO_DIR "/zone1970.tab"
#define ZONES_MAX 1000

/* ------------------------------------------------------------------ time zones */

static int zone_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The named zones tzdata lists, sorted (in the arena); NULL with *n_r = 0
 * when tzdata is not installed (then only the fixed offsets are offered). */
static char **zones_read(struct ctx *c, size_t *n_r)
{
	char line[1024];
	char **v = arena_alloc(c->a, ZONES_MAX * sizeof(*v));
	FILE *f = v != NULL ? fopen(ZONE_TABLE, "re") : NULL;
	size_t n = 0;
	*n_r = 0;
	if (f == NULL)
		return NULL;
	while (n < ZONES_MAX && fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL;
		if (line[0] == '#' || strtok_r(line, "\t\n", &save) == NULL ||
		    strtok_r(NULL, "\t\n", &save) == NULL)
			continue;
		const char *name = strtok_r(NULL, "\t\n", &save);
		if (name != NULL && tzinfo_name_valid(name) && (v[n] = arena_strdup(c->a, name)) != NULL)
			n++;
	}
	fclose(f);
	qsort(v, n, sizeof(*v), zone_cmp);
	*n_r = n;
	return v;
}

static bool zone_listed(char **zones, size_t n, const char *name)
{
	return n > 0 && bsearch(&name, zones, n, sizeof(*zones), zone_cmp) != NULL;
}

/* "America/Argentina/Buenos_Aires" -> "America / Argentina / Buenos Aires" */
static const char *zone_label(struct ctx *c, const char *name)
{
	size_t len = strlen(name), slashes = 0;
	for (size_t i = 0; i < len; i++)
		slashes += name[i] == '/';
	char *out = arena_alloc(c->a, len + 2 * slashes + 1);
	if (out == NULL)
		return name;
	char *o = out;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '/') {
			memcpy(o, " / ", 3);
			o += 3;
		} else {
			*o++ = name[i] == '_' ? ' ' : name[i];
		}
	}
	*o = '\0';
	return out;
}

static void zones_fill(struct ctx *c)
{
	size_t n;
	char **named = zones_read(c, &n);
	bool fixed = c->zone == NULL;  /* a saved name that no longer loads shows as fixed */
	struct tpl_obj *utc = tpl_item(c->data, "zones");
	tpl_str(utc, "value", "UTC");
	tpl_str(utc, "label", "UTC");
	tpl_bool(utc, "selected", !fixed && strcmp(c->prefs.zone, "UTC") == 0);
	for (size_t i = 0; i < n; i++) {
		struct tpl_obj *it = tpl_item(c->data, "zones");
		tpl_str(it, "value", named[i]);
		tpl_str(it, "label", zone_label(c, named[i]));
		tpl_bool(it, "selected", !fixed && strcmp(named[i], c->prefs.zone) == 0);
	}
	for (size_t i = 0; i < sizeof(fixed_offsets) / sizeof(fixed_offsets[0]); i++) {
		struct tpl_obj *it = tpl_item(c->data, "offsets");
		int z = fixed_offsets[i];
		tpl_str(it, "value", arena_printf(c->a, "%d", z));
		tpl_str(it, "label", arena_printf(c->a, "UTC%c%02d:%02d", z < 0 ? '-' : '+',
						  (z < 0 ? -z : z) / 60, (z < 0 ? -z : z) % 60));
		tpl_bool(it, "selected", fixed && z == c->prefs.tz_minutes);
	}
}

/* ------------------------------------------------------------------ quota */

static unsigned percent(uint64_t used, uint64_t limit)
{
	if (limit == 0)
		return 0;
	if (used >= limit)
		return 100;
	return (unsigned)((double)used * 100.0 / (double)limit);
}

/* The numbers a <meter> and its caption need, under `prefix`. */
static void quota_fill(struct ctx *c, struct tpl_obj *q, const char *prefix, uint64_t used,
		       uint64_t limit)
{
	unsigned p = percent(used, limit);
	char key[32];
#define KEY(name) (snprintf(key, sizeof(key), "%s_%s", prefix, name), key)
	tpl_int(q, KEY("value"), (long long)(used < limit ? used : limit));
	tpl_int(q, KEY("max"), (long long)limit);
	tpl_int(q, KEY("low"), (long long)(limit / 4 * 3));
	tpl_int(q, KEY("high"), (long long)(limit / 10 * 9));
	tpl_str(q, KEY("percent"), p == 0 && used > 0 ? "less than 1%" : arena_printf(c->a, "%u%%", p));
	tpl_bool(q, KEY("full"), p >= 90);
#undef KEY
}

int ctx_quota(struct ctx *c)
{
	uint64_t bytes;
	uint32_t messages;
	const char *error;
	if (store_user_usage(c->store, c->user.id, &bytes, &messages, &error) < 0) {
		page_store_error(c, "usage", error);
		return -1;
	}
	struct tpl_obj *q = tpl_obj(c->data, "quota");
	tpl_str(q, "used", fmt_size(c, bytes));
	tpl_int(q, "messages", messages);
	tpl_bool(q, "one_message", messages == 1);
	if (c->user.quota_bytes != 0) {
		tpl_bool(q, "has_bytes", true);
		tpl_str(q, "limit", fmt_size(c, c->user.quota_bytes));
		quota_fill(c, q, "bytes", bytes, c->user.quota_bytes);
	}
	if (c->user.quota_messages != 0) {
		tpl_bool(q, "has_messages", true);
		tpl_int(q, "messages_limit", c->user.quota_messages);
		quota_fill(c, q, "msgs", messages, c->user.quota_messages);
	}
	return 0;
}

/* --------------------------------------------------------------- the page */

/* `edited`: the identity whose form came back with an error (its values as
 * the user typed them are shown again), or NULL. */
static void settings_show(struct ctx *c, int status, const char *message,
			  const struct store_identity *edited)
{
	struct store_identity *list;
	size_t n;
	const char *error;

	if (store_identities_get(c->store, c->user.id, &list, &n, &error) < 0) {
		page_store_error(c, "identities", error);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_identity *id = &list[i];
		struct tpl_obj *it = tpl_item(c->data, "identities");
		bool this_one = edited != NULL && strcasecmp(edited->address, id->address) == 0;
		if (this_one)
			id = edited;
		tpl_str(it, "address", list[i].address);
		tpl_str(it, "name", id->name);
		tpl_str(it, "signature", id->signature);
		tpl_int(it, "n", (long long)i);
		tpl_bool(it, "primary", i == 0);
		tpl_bool(it, "failed", this_one);
	}
	free(list);
	if (ctx_folders(c, 0) < 0 || ctx_quota(c) < 0)
		return;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct tpl_obj *it = tpl_item(c->data, "sizes");
		tpl_int(it, "value", sizes[i]);
		tpl_bool(it, "selected", sizes[i] == c->prefs.page_size);
	}
	zones_fill(c);
	tpl_bool(c->data, "prefer_html", c->prefs.prefer_html);
	tpl_bool(c->data, "images_known", c->prefs.remote_images == STORE_REMOTE_IMAGES_KNOWN);
	tpl_int(c->data, "name_max", STORE_IDENTITY_NAME_MAX);
	tpl_int(c->data, "signature_max", STORE_SIGNATURE_MAX);
	const char *saved = ctx_query(c, "saved");
	if (message == NULL && saved != NULL)
		tpl_str(c->data, "notice", strcmp(saved, "identity") == 0
			? "Your identity was saved." : strcmp(saved, "password") == 0
			? "Your password was changed. Every other session was signed out."
			: "Your settings were saved.");
	tpl_str(c->data, "error", message);
	tpl_bool(c->data, "nav_settings", true);
	c->resp->status = status;
	page_render(c, "settings", "Settings");
}

static void save_prefs(struct ctx *c)
{
	struct store_prefs p = c->prefs;
	const char *error;
	uint32_t size = ctx_form_uint(c, "page_size", p.page_size);
	const char *tz = ctx_form(c, "tz");
	const char *view = ctx_form(c, "view");
	const char *images = ctx_form(c, "remote_images");

	p.page_size = (uint16_t)(size > STORE_PREFS_PAGE_MAX ? STORE_PREFS_PAGE_MAX : size);
	if (tz != NULL) {
		int v;
		char extra;
		size_t n;
		char **named;
		if (sscanf(tz, "%d%c", &v, &extra) == 1 && v >= -STORE_PREFS_TZ_MAX &&
		    v <= STORE_PREFS_TZ_MAX) {
			p.tz_minutes = (int16_t)v;   /* a fixed offset */
			p.zone[0] = '\0';
		} else if ((strcmp(tz, "UTC") == 0 ||
			    ((named = zones_read(c, &n)) != NULL && zone_listed(named, n, tz))) &&
			   strlen(tz) < sizeof(p.zone)) {
			strcpy(p.zone, tz);
			p.tz_minutes = 0;
		} else {
			page_error(c, 400, "Choose a time zone from the list.");
			return;
		}
	}
	if (view != NULL)
		p.prefer_html = strcmp(view, "text") != 0;
	if (images != NULL)
		p.remote_images = strcmp(images, "known") == 0 ? STORE_REMOTE_IMAGES_KNOWN
							       : STORE_REMOTE_IMAGES_NEVER;
	if (store_prefs_set(c->store, c->user.id, &p, &error) < 0) {
		page_store_error(c, "settings", error);
		return;
	}
	page_redirect(c, "/settings?saved=1");
}

/* Copies a form value; false when it does not fit (the store's limit is in
 * bytes, which a browser's maxlength, counted in characters, can pass). */
static bool field_copy(char *dst, size_t size, const char *value)
{
	size_t len = value != NULL ? strlen(value) : 0;
	if (len >= size)
		return false;
	memcpy(dst, value != NULL ? value : "", len + 1);
	return true;
}

static void save_identity(struct ctx *c)
{
	struct store_identity *id = arena_alloc(c->a, sizeof(*id));
	const char *error;
	const char *sig = ctx_form(c, "signature");

	if (id == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	if (!field_copy(id->address, sizeof(id->address), ctx_form(c, "address"))) {
		page_error(c, 400, "That is not one of your addresses.");
		return;
	}
	if (!field_copy(id->name, sizeof(id->name), ctx_form(c, "name"))) {
		snprintf(id->name, sizeof(id->name), "%s", "");
		settings_show(c, 400, arena_printf(c->a, "The name is too long: at most %d bytes "
						   "(letters outside English take two to four).",
						   STORE_IDENTITY_NAME_MAX), id);
		return;
	}
	/* textareas send CRLF: keep one form, LF */
	size_t j = 0;
	for (size_t i = 0; sig != NULL && sig[i] != '\0'; i++) {
		if (sig[i] == '\r' && sig[i + 1] == '\n')
			continue;
		if (j == sizeof(id->signature) - 1) {
			j = sizeof(id->signature);
			break;
		}
		id->signature[j++] = sig[i];
	}
	if (j == sizeof(id->signature)) {
		id->signature[0] = '\0';
		settings_show(c, 400, arena_printf(c->a, "The signature is too long: at most %d "
						   "bytes (letters outside English take two to "
						   "four).", STORE_SIGNATURE_MAX), id);
		return;
	}
	id->signature[j] = '\0';
	int r = store_identity_set(c->store, c->user.id, id, &error);
	if (r < 0) {
		page_store_error(c, "identity", error);
		return;
	}
	if (r == 0) {
		settings_show(c, 400, arena_printf(c->a, "Not saved: %s.", error), id);
		return;
	}
	log_info("webmail: identity-saved user=<%s>", c->user.address);
	page_redirect(c, "/settings?saved=identity");
}

void page_settings(struct ctx *c)
{
	if (c->req->method != HTTP_POST) {
		settings_show(c, 200, NULL, NULL);
		return;
	}
	const char *section = ctx_form(c, "section");
	if (section != NULL && strcmp(section, "identity") == 0)
		save_identity(c);
	else
		save_prefs(c);
}
