/* The DATA and BDAT reader state machine (see smtp_data.h). */
#include <config.h>

#include "smtp_data.h"

enum {
	ST_BOL,       /* at the start of a line, after CRLF (or DATA's CRLF) */
	ST_DOT,       /* BOL then ".": an end or a stuffed line */
	ST_DOT_CR,    /* BOL "." CR: LF ends the data */
	ST_TEXT,      /* inside a line */
	ST_CR,        /* a CR held back: CRLF or a bare CR */
	ST_LOOSE_BOL, /* after a bare CR or LF */
	ST_LOOSE_DOT, /* after a bare CR or LF, then "." */
	ST_FINAL,     /* END or LOOSE_END returned */
};

void smtp_data_init(struct smtp_data *d)
{
	d->state = ST_BOL;
	d->bare_cr = false;
	d->bare_lf = false;
	d->nul = false;
	d->long_line = false;
	d->octets = 0;
	d->counted = false;
	d->line_max = 0;
	d->line_len = 0;
}

void smtp_data_init_counted(struct smtp_data *d, size_t line_max)
{
	smtp_data_init(d);
	d->counted = true;
	d->line_max = line_max;
}

void smtp_data_finish(struct smtp_data *d, char *out, size_t *out_len_r)
{
	size_t o = 0;

	if (d->state == ST_CR) {
		d->bare_cr = true;
		out[o++] = '\r';
	} else if (d->state == ST_TEXT) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	d->state = ST_FINAL;
	d->octets += o;
	*out_len_r = o;
}

enum smtp_data_status smtp_data_parse(struct smtp_data *d, const char *in, size_t len,
				      char *out, size_t *out_len_r, size_t *consumed_r)
{
	size_t o = 0, i;
	enum smtp_data_status status = SMTP_DATA_MORE;

	if (d->state == ST_FINAL) {
		*out_len_r = 0;
		*consumed_r = 0;
		return SMTP_DATA_END;
	}
	for (i = 0; i < len && status == SMTP_DATA_MORE; i++) {
		char c = in[i];

		switch (d->state) {
		case ST_BOL:
			if (c == '.' && !d->counted) {
				d->state = ST_DOT;
				break;
			}
			goto text;
		case ST_DOT:
			if (c == '\r') {
				d->state = ST_DOT_CR;
			} else if (c == '\n') {
				/* CRLF "." LF */
				d->bare_lf = true;
				status = SMTP_DATA_LOOSE_END;
			} else {
				/* the dot was stuffing; c starts the text */
				goto text;
			}
			break;
		case ST_DOT_CR:
			if (c == '\n') {
				status = SMTP_DATA_END;
			} else {
				/* CRLF "." CR x: a "." line ended by a bare CR */
				d->bare_cr = true;
				status = SMTP_DATA_LOOSE_END;
			}
			break;
		case ST_CR:
			d->line_len = 0;
			if (c == '\n') {
				out[o++] = '\r';
				out[o++] = '\n';
				d->state = ST_BOL;
				break;
			}
			d->bare_cr = true;
			out[o++] = '\r';
			d->state = ST_LOOSE_BOL;
			/* c starts a loose line */
			/* FALLTHROUGH */
		case ST_LOOSE_BOL:
			if (c == '.' && !d->counted) {
				d->state = ST_LOOSE_DOT;
				break;
			}
			goto text;
		case ST_LOOSE_DOT:
			if (c == '\r' || c == '\n') {
				if (c == '\n')
					d->bare_lf = true;
				status = SMTP_DATA_LOOSE_END;
				break;
			}
			goto text;
		case ST_TEXT:
		text:
			if (c == '\r') {
				d->state = ST_CR;
			} else if (c == '\n') {
				d->bare_lf = true;
				out[o++] = '\n';
				d->line_len = 0;
				d->state = ST_LOOSE_BOL;
			} else {
				d->nul |= c == '\0';
				out[o++] = c;
				d->state = ST_TEXT;
				/* DATA's lines are capped by conn as they are read */
				if (d->counted && ++d->line_len > d->line_max)
					d->long_line = true;
			}
			break;
		}
	}
	if (status != SMTP_DATA_MORE)
		d->state = ST_FINAL;
	d->octets += o;
	*out_len_r = o;
	*consumed_r = i;
	return status;
}
