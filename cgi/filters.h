/* Settings > Filters (page_filters.c): the rule form's fields
 * (filters_form.c), read from a POST and written into template data.
 *
 * Fields: name, enabled ("on"), match ("all"/"any"), stop ("on"); per
 * condition i (0..SIEVE_RULE_CONDS_MAX-1) field<i>, header<i>, op<i>,
 * value<i> (a size as "500K" or "2 M"); per action i (0..3) action<i>,
 * folder<i> (move, copy), address<i> (forward), message<i> (reject). A condition without a
 * value, an action without a kind, is an unused row. */
#ifndef PB_CGI_FILTERS_H
#define PB_CGI_FILTERS_H

#include "app.h"
#include "sieve_rules.h"

/* The form as typed, as strings (the rule's values, or a refused POST's). */
struct rule_form {
	const char *name, *match;
	bool enabled, stop;
	const char *field[SIEVE_RULE_CONDS_MAX], *header[SIEVE_RULE_CONDS_MAX];
	const char *op[SIEVE_RULE_CONDS_MAX], *value[SIEVE_RULE_CONDS_MAX];
	const char *action[SIEVE_RULE_ACTIONS_MAX], *folder[SIEVE_RULE_ACTIONS_MAX];
	const char *address[SIEVE_RULE_ACTIONS_MAX], *message[SIEVE_RULE_ACTIONS_MAX];
};

/* The POST's fields (missing ones as ""). */
void rule_form_from_post(struct ctx *c, struct rule_form *f);
/* A kept rule's fields (strings in c's arena). */
void rule_form_from_rule(struct ctx *c, const struct sieve_rule *r, struct rule_form *f);
/* Reads the form into a normalized rule: 0, or -1 with a sentence for the
 * user in error (sieve_rule_check's, or what could not be read). */
int rule_form_parse(const struct rule_form *f, struct sieve_rule *r,
		    char error[SIEVE_RULES_ERROR_MAX]);
/* data.rule: the form's values with their <select> options; `folders`
 * (nfolders mailbox names) for the folder selects. */
void rule_form_fill(struct ctx *c, const struct rule_form *f, char *const *folders,
		    size_t nfolders);

#endif
