/* Inside the template engine: the data model shared by the data setters
 * (template_data.c) and the renderer (template.c). */
#ifndef PB_CGI_TEMPLATE_INT_H
#define PB_CGI_TEMPLATE_INT_H

#include "template.h"

enum tpl_type { T_NONE, T_STR, T_INT, T_BOOL, T_OBJ, T_LIST, T_HTML };

struct tpl_value {
	enum tpl_type type;
	const char *s;          /* T_STR, T_HTML */
	size_t len;
	long long i;            /* T_INT, T_BOOL */
	struct tpl_obj *obj;    /* T_OBJ */
	struct tpl_item *first, *last; /* T_LIST */
	size_t count;
};

struct tpl_field {
	struct tpl_field *next;
	const char *name;
	struct tpl_value v;
};

struct tpl_item {
	struct tpl_item *next;
	struct tpl_obj *obj;
};

struct tpl_shared {
	struct arena *arena;
	bool failed;
};

struct tpl_obj {
	struct tpl_shared *shared;
	struct tpl_field *fields;
};

#endif
