/* The commands on the selected mailbox: CHECK, CLOSE, UNSELECT, EXPUNGE and
 * UID EXPUNGE (RFC 4315), IDLE (RFC 2177). The selection itself (the
 * sequence map, keeping in step) is imap_view.c.
 *
 * IDLE waits on the connection and a store_watch() inotify descriptor at
 * once (conn_wait_input), so a delivery is seen at once without polling;
 * "* OK Still here" every IMAP_IDLE_KEEPALIVE_SECONDS keeps NATs open. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap.h"
#include "log.h"

int imap_cmd_check(struct imap_session *s, struct imap_cmd *cmd)
{
	if (cmd->args != NULL) {
		imap_bad(s, cmd, "CHECK takes no arguments");
		return 0;
	}
	imap_ok(s, cmd, "Check completed");
	return 0;
}

struct deleted_ctx {
	uint32_t *uids;
	uint32_t n, cap;
	bool failed;
};

static int deleted_cb(struct imap_session *s, const struct store_msg *msg, void *ctx)
{
	struct deleted_ctx *c = ctx;

	(void)s;
	if (!(msg->flags & STORE_FLAG_DELETED))
		return 0;
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 64;
		uint32_t *p = reallocarray(c->uids, cap, sizeof(uint32_t));
		if (p == NULL) {
			c->failed = true;
			return 1;
		}
		c->uids = p;
		c->cap = cap;
	}
	c->uids[c->n++] = msg->uid;
	return 0;
}

/* Expunges the messages with \Deleted among `uids` (all when NULL).
 * Returns the count, or -1 with *error_r. */
static int view_expunge_deleted(struct imap_session *s, const uint32_t *uids, size_t n,
				const char **error_r)
{
	struct imap_view *v = s->view;
	struct deleted_ctx c = { 0 };
	size_t missing;

	if (imap_view_load(s, error_r) < 0)
		return -1;
	if (uids == NULL) {
		uids = v->uids;
		n = v->count;
	}
	if (n == 0)
		return 0;
	if (imap_view_each(s, uids, n, deleted_cb, &c, &missing, error_r) < 0 || c.failed) {
		free(c.uids);
		if (c.failed)
			*error_r = "out of memory";
		return -1;
	}
	int r = c.n > 0 ? store_msg_expunge(s->store, v->mailbox_id, c.uids, c.n, error_r) : 0;
	free(c.uids);
	return r;
}

int imap_cmd_expunge(struct imap_session *s, struct imap_cmd *cmd)
{
	const char *error = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;

	if (cmd->uid) {
		if (!imap_arg_is_string(cmd->args) || cmd->args->type != IMAP_ARG_ATOM ||
		    cmd->args->next != NULL) {
			imap_bad(s, cmd, "UID EXPUNGE needs a UID set");
			return 0;
		}
	} else if (cmd->args != NULL) {
		imap_bad(s, cmd, "EXPUNGE takes no arguments");
		return 0;
	}
	if (s->view->readonly) {
		imap_no(s, cmd, "[READ-ONLY] Mailbox is read-only");
		return 0;
	}
	if (cmd->uid) {
		if (imap_view_resolve(s, cmd, cmd->args->str, cmd->args->len, true, &uids, &n) <= 0)
			return 0;
		if (n == 0) {
			imap_ok(s, cmd, "Expunge completed");
			return 0;
		}
	}
	int r = view_expunge_deleted(s, uids, n, &error);
	free(uids);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		return 0;
	}
	/* QRESYNC: the tagged OK of an expunge carries the HIGHESTMODSEQ the
	 * client is now in step with (RFC 7162 3.2.7, 3.2.9), so the VANISHED
	 * up to it go out first */
	if (r > 0 && s->qresync && imap_view_sync(s, true) == 0 && s->view != NULL) {
		imap_replyf(s, cmd, "OK", "[HIGHESTMODSEQ %llu] Expunge completed",
			    (unsigned long long)s->view->modseq);
		return 0;
	}
	imap_ok(s, cmd, "Expunge completed");
	return 0;
}

int imap_cmd_close(struct imap_session *s, struct imap_cmd *cmd)
{
	const char *error = NULL;

	if (cmd->args != NULL) {
		imap_bad(s, cmd, "CLOSE takes no arguments");
		return 0;
	}
	/* no [HIGHESTMODSEQ] here even under QRESYNC: the expunges are
	 * never told (RFC 7162 3.2.8) */
	if (!s->view->readonly && view_expunge_deleted(s, NULL, 0, &error) < 0) {
		imap_store_error(s, cmd, error);
		return 0;
	}
	imap_view_close(s);
	s->state = IMAP_STATE_AUTH;
	imap_ok(s, cmd, "Close completed");
	return 0;
}

int imap_cmd_unselect(struct imap_session *s, struct imap_cmd *cmd)
{
	if (cmd->args != NULL) {
		imap_bad(s, cmd, "UNSELECT takes no arguments");
		return 0;
	}
	imap_view_close(s);
	s->state = IMAP_STATE_AUTH;
	imap_ok(s, cmd, "Unselect completed");
	return 0;
}

int imap_cmd_idle(struct imap_session *s, struct imap_cmd *cmd)
{
	const char *error = NULL;
	int fd = -1;
	time_t start = time(NULL), last = start;

	if (cmd->args != NULL) {
		imap_bad(s, cmd, "IDLE takes no arguments");
		return 0;
	}
	if (s->view != NULL && (fd = store_watch(s->store, s->view->mailbox_id, &error)) < 0)
		log_error("idle watch user=<%s>: %s", s->user.address, error);
	if (s->view != NULL && imap_view_sync(s, true) < 0 && s->state == IMAP_STATE_LOGOUT) {
		/* the selection is gone (BYE sent): no "+" after a BYE */
		store_watch_close(&fd);
		return -1;
	}
	imap_puts(s, "+ idling\r\n");
	for (;;) {
		if (conn_flush(s->conn, &error) < 0) {
			store_watch_close(&fd);
			return -1;
		}
		time_t now = time(NULL);
		if (now - start >= IMAP_IDLE_MAX_SECONDS) {
			store_watch_close(&fd);
			imap_bye(s, "IDLE for too long");
			return -1;
		}
		long wait = IMAP_IDLE_KEEPALIVE_SECONDS - (long)(now - last);
		if (wait <= 0) {
			imap_puts(s, "* OK Still here\r\n");
			last = now;
			continue;
		}
		/* without a watch (an error above), look every few seconds */
		if (fd < 0 && s->view != NULL && wait > 5)
			wait = 5;
		int r = conn_wait_input(s->conn, fd, (int)(wait * 1000), &error);
		if (r == 1) {
			char *line;
			size_t len;
			r = conn_read_line(s->conn, IMAP_LINE_MAX, &line, &len, NULL, &error);
			store_watch_close(&fd);
			if (r == CONN_OK && len == 4 && strncasecmp(line, "DONE", 4) == 0) {
				imap_ok(s, cmd, "Idle completed");
				return 0;
			}
			if (r == CONN_OK || r == CONN_LINE_TOO_LONG) {
				imap_bad(s, cmd, "Expected DONE");
				return 0;
			}
			return -1;
		}
		if (r == 2)
			store_watch_drain(fd);
		else if (r != CONN_TIMEOUT) {
			store_watch_close(&fd);
			return -1;
		}
		if (s->view != NULL && imap_view_sync(s, true) < 0 && s->state == IMAP_STATE_LOGOUT) {
			store_watch_close(&fd);
			return -1;
		}
	}
}
