/* The filter rule form (filters.h): from a POST or a kept rule to strings,
 * from strings to a checked rule, and into the template's data. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "filters.h"

static const char *const field_labels[SF_COUNT] = {
	"From", "To or Cc", "Subject", "Another header (name it)", "Message text", "Size" };
static const char *const op_labels[SO_COUNT] = {
	"contains", "does not contain", "is", "is not", "starts with", "is over (size)",
	"is under (size)" };
static const char *const action_labels[SA_COUNT] = {
	"Move to folder", "Copy to folder", "Mark as read", "Flag", "Forward (keep no copy)",
	"Forward and keep a copy", "Delete for good", "Reject with message" };

static const char *post(struct ctx *c, const char *name, int i)
{
	char key[32];
	if (i >= 0) {
		snprintf(key, sizeof(key), "%s%d", name, i);
		name = key;
	}
	const char *v = ctx_form(c, name);
	return v != NULL ? v : "";
}

void rule_form_from_post(struct ctx *c, struct rule_form *f)
{
	memset(f, 0, sizeof(*f));
	f->name = post(c, "name", -1);
	f->match = post(c, "match", -1);
	f->enabled = strcmp(post(c, "enabled", -1), "on") == 0;
	f->stop = strcmp(post(c, "stop", -1), "on") == 0;
	for (int i = 0; i < SIEVE_RULE_CONDS_MAX; i++) {
		f->field[i] = post(c, "field", i);
		f->header[i] = post(c, "header", i);
		f->op[i] = post(c, "op", i);
		f->value[i] = post(c, "value", i);
	}
	for (int i = 0; i < SIEVE_RULE_ACTIONS_MAX; i++) {
		f->action[i] = post(c, "action", i);
		f->folder[i] = post(c, "folder", i);
		f->address[i] = post(c, "address", i);
		f->message[i] = post(c, "message", i);
	}
}

void rule_form_from_rule(struct ctx *c, const struct sieve_rule *r, struct rule_form *f)
{
	memset(f, 0, sizeof(*f));
	f->name = r->name;
	f->match = r->any ? "any" : "all";
	f->enabled = r->enabled;
	f->stop = r->stop;
	for (size_t i = 0; i < r->nconds && i < SIEVE_RULE_CONDS_MAX; i++) {
		const struct sieve_cond *k = &r->conds[i];
		f->field[i] = sieve_field_word(k->field);
		f->op[i] = sieve_op_word(k->op);
		f->header[i] = k->header;
		f->value[i] = k->field == SF_SIZE ? arena_printf(c->a, "%u%c", k->size, k->unit)
						  : k->value;
	}
	for (size_t i = 0; i < r->nactions && i < SIEVE_RULE_ACTIONS_MAX; i++) {
		const struct sieve_action *a = &r->actions[i];
		f->action[i] = sieve_action_word(a->kind);
		if (a->kind == SA_MOVE || a->kind == SA_COPY)
			f->folder[i] = a->target;
		else if (a->kind == SA_REJECT)
			f->message[i] = a->target;
		else
			f->address[i] = a->target;
	}
}

/* Copies s without the blanks around it; false if it does not fit. */
static bool copy_trimmed(char *dst, size_t size, const char *s)
{
	size_t len;
	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= size)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

static bool blank(const char *s)
{
	return s == NULL || s[strspn(s, " \t")] == '\0';
}

/* "500K", "2 M", "10 mb": a number and K or M. */
static bool size_parse(const char *s, struct sieve_cond *k)
{
	uint64_t n = 0;
	int digits = 0;
	s += strspn(s, " \t");
	for (; *s >= '0' && *s <= '9' && digits < 10; s++, digits++)
		n = n * 10 + (uint64_t)(*s - '0');
	s += strspn(s, " \t");
	if (digits == 0 || n == 0 || n > SIEVE_RULE_SIZE_MAX)
		return false;
	char unit = *s == 'k' || *s == 'K' ? 'K' : *s == 'm' || *s == 'M' ? 'M' : 0;
	if (unit == 0)
		return false;
	s++;
	if (*s == 'b' || *s == 'B')
		s++;
	if (s[strspn(s, " \t")] != '\0')
		return false;
	k->size = (uint32_t)n;
	k->unit = unit;
	return true;
}

#define FAIL(...) do { snprintf(error, SIEVE_RULES_ERROR_MAX, __VA_ARGS__); return -1; } while (0)

int rule_form_parse(const struct rule_form *f, struct sieve_rule *r,
		    char error[SIEVE_RULES_ERROR_MAX])
{
	memset(r, 0, sizeof(*r));
	if (!copy_trimmed(r->name, sizeof(r->name), f->name != NULL ? f->name : ""))
		FAIL("The name is too long: at most %d characters.", SIEVE_RULE_NAME_MAX);
	r->enabled = f->enabled;
	r->any = f->match != NULL && strcmp(f->match, "any") == 0;
	r->stop = f->stop;
	for (int i = 0; i < SIEVE_RULE_CONDS_MAX; i++) {
		int field = sieve_field_from_word(f->field[i]);
		int op = sieve_op_from_word(f->op[i]);
		if (blank(f->value[i]))
			continue;   /* an unused row */
		if (field < 0 || op < 0)
			FAIL("Condition %d: choose a field and a test.", i + 1);
		struct sieve_cond *k = &r->conds[r->nconds++];
		k->field = (enum sieve_field)field;
		k->op = (enum sieve_op)op;
		if (field == SF_HEADER && !copy_trimmed(k->header, sizeof(k->header), f->header[i]))
			FAIL("Condition %d: a header name is at most %d characters.", i + 1,
			     SIEVE_RULE_HEADER_MAX);
		if (field == SF_SIZE) {
			if (!size_parse(f->value[i], k))
				FAIL("Condition %d: give the size as a number from 1 to %d and K or M, "
				     "for example 500K.", i + 1, SIEVE_RULE_SIZE_MAX);
		} else if (strlen(f->value[i]) > SIEVE_RULE_VALUE_MAX) {
			FAIL("Condition %d: the text is too long: at most %d bytes.", i + 1,
			     SIEVE_RULE_VALUE_MAX);
		} else {
			strcpy(k->value, f->value[i]);
		}
	}
	for (int i = 0; i < SIEVE_RULE_ACTIONS_MAX; i++) {
		if (f->action[i] == NULL || f->action[i][0] == '\0')
			continue;
		int kind = sieve_action_from_word(f->action[i]);
		if (kind < 0)
			FAIL("Action %d: choose what to do.", i + 1);
		struct sieve_action *a = &r->actions[r->nactions++];
		a->kind = (enum sieve_action_kind)kind;
		const char *target = kind == SA_MOVE || kind == SA_COPY ? f->folder[i]
				   : kind == SA_FORWARD || kind == SA_FORWARD_KEEP ? f->address[i]
				   : kind == SA_REJECT ? f->message[i] : "";
		if (!copy_trimmed(a->target, sizeof(a->target), target != NULL ? target : ""))
			FAIL("Action %d: the folder, address or message is too long (at most %d "
			     "bytes).", i + 1, SIEVE_RULE_TARGET_MAX);
	}
	if (r->nconds == 0)
		FAIL("Give the rule at least one condition: a text to look for, or a size.");
	if (r->nactions == 0)
		FAIL("Give the rule at least one action.");
	sieve_rule_normalize(r);
	return sieve_rule_check(r, error);
}

static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

void rule_form_fill(struct ctx *c, const struct rule_form *f, char *const *folders,
		    size_t nfolders)
{
	struct tpl_obj *o = tpl_obj(c->data, "rule");
	tpl_str(o, "name", f->name);
	tpl_bool(o, "enabled", f->enabled);
	tpl_bool(o, "any", same(f->match, "any"));
	tpl_bool(o, "stop", f->stop);
	tpl_int(o, "name_max", SIEVE_RULE_NAME_MAX);
	tpl_int(o, "value_max", SIEVE_RULE_VALUE_MAX);
	for (int i = 0; i < SIEVE_RULE_CONDS_MAX; i++) {
		struct tpl_obj *it = tpl_item(o, "conds");
		const char *field = f->field[i] != NULL && f->field[i][0] != '\0' ? f->field[i]
										   : "subject";
		const char *op = f->op[i] != NULL && f->op[i][0] != '\0' ? f->op[i] : "contains";
		tpl_int(it, "i", i);
		tpl_int(it, "number", i + 1);
		tpl_str(it, "header", f->header[i]);
		tpl_str(it, "value", f->value[i]);
		for (int k = 0; k < SF_COUNT; k++) {
			struct tpl_obj *opt = tpl_item(it, "fields");
			tpl_str(opt, "value", sieve_field_word((enum sieve_field)k));
			tpl_str(opt, "label", field_labels[k]);
			tpl_bool(opt, "selected", same(field, sieve_field_word((enum sieve_field)k)));
		}
		for (int k = 0; k < SO_COUNT; k++) {
			struct tpl_obj *opt = tpl_item(it, "ops");
			tpl_str(opt, "value", sieve_op_word((enum sieve_op)k));
			tpl_str(opt, "label", op_labels[k]);
			tpl_bool(opt, "selected", same(op, sieve_op_word((enum sieve_op)k)));
		}
	}
	for (int i = 0; i < SIEVE_RULE_ACTIONS_MAX; i++) {
		struct tpl_obj *it = tpl_item(o, "actions");
		const char *folder = f->folder[i] != NULL ? f->folder[i] : "";
		bool found = false;
		tpl_int(it, "i", i);
		tpl_int(it, "number", i + 1);
		tpl_str(it, "address", f->address[i]);
		tpl_str(it, "message", f->message[i]);
		tpl_int(it, "message_max", SIEVE_RULE_TARGET_MAX);
		tpl_list(it, "kinds");
		for (int k = -1; k < SA_COUNT; k++) {
			struct tpl_obj *opt = tpl_item(it, "kinds");
			const char *word = k < 0 ? "" : sieve_action_word((enum sieve_action_kind)k);
			tpl_str(opt, "value", word);
			tpl_str(opt, "label", k < 0 ? "(nothing)" : action_labels[k]);
			tpl_bool(opt, "selected", same(f->action[i] != NULL ? f->action[i] : "", word));
		}
		for (size_t k = 0; k < nfolders; k++) {
			struct tpl_obj *opt = tpl_item(it, "folders");
			tpl_str(opt, "name", folders[k]);
			tpl_bool(opt, "selected", strcmp(folder, folders[k]) == 0);
			found |= strcmp(folder, folders[k]) == 0;
		}
		if (!found && folder[0] != '\0') {
			/* a folder deleted since: shown, so saving keeps it */
			struct tpl_obj *opt = tpl_item(it, "folders");
			tpl_str(opt, "name", folder);
			tpl_str(opt, "label", arena_printf(c->a, "%s (does not exist)", folder));
			tpl_bool(opt, "selected", true);
		}
	}
}
