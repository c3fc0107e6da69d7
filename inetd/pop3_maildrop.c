/* The POP3 maildrop: the user's INBOX, locked for the session, snapshotted
 * at login, updated at QUIT. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "log.h"
#include "pop3.h"

/* notify/ holds one lock file per mailbox that POP3 ever opened: tiny,
 * reused, never needs cleaning. The path is built from numbers only. */
static int pop3_lock_take(struct pop3_session *s, uint32_t mailbox_id)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/notify/pop3-%u.lock", s->config->store, mailbox_id);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd < 0) {
		log_error("maildrop lock %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		close(fd);
		if (err == EWOULDBLOCK)
			return 0;
		log_error("maildrop lock %s: %s", path, strerror(err));
		return -1;
	}
	s->lock_fd = fd;
	return 1;
}

struct pop3_snapshot {
	struct pop3_session *session;
	bool oom;
};

/* store_msg_list callback: 0 go on, 1 stop (the cap is reached, or out of
 * memory: snap->oom says which; store_msg_list returns a count otherwise,
 * so the return value cannot carry it). */
static int pop3_snapshot_add(const struct store_msg *msg, void *ctx)
{
	struct pop3_snapshot *snap = ctx;
	struct pop3_session *s = snap->session;

	if (s->nmsgs >= POP3_MAILDROP_MAX)
		return 1; /* the oldest POP3_MAILDROP_MAX only */
	if (s->nmsgs == s->msgs_alloc) {
		size_t want = s->msgs_alloc == 0 ? 64 : (size_t)s->msgs_alloc * 2;
		struct pop3_msg *m;

		if (want > POP3_MAILDROP_MAX)
			want = POP3_MAILDROP_MAX;
		m = realloc(s->msgs, want * sizeof(*m));
		if (m == NULL) {
			snap->oom = true;
			return 1;
		}
		s->msgs = m;
		s->msgs_alloc = (uint32_t)want;
	}
	s->msgs[s->nmsgs].uid = msg->uid;
	/* the octets RETR sends: every line ended by CRLF (RFC 1939 11) */
	s->msgs[s->nmsgs].size = msg->size_crlf;
	s->msgs[s->nmsgs].deleted = false;
	s->msgs[s->nmsgs].retrieved = false;
	s->nmsgs++;
	s->total_bytes += msg->size_crlf;
	return 0;
}

int pop3_maildrop_open(struct pop3_session *s, const struct store_user *user)
{
	struct store_mailbox inbox;
	struct pop3_snapshot snap = { s, false };
	const char *error = NULL;
	int r;

	/* INBOX as the user's record names it (older records do not) */
	if (user->inbox_id != 0) {
		inbox.id = user->inbox_id;
		inbox.uidvalidity = user->inbox_uidvalidity;
		r = 1;
	} else {
		r = store_mailbox_find(s->store, user->id, "INBOX", &inbox, &error);
	}
	if (r <= 0) {
		log_error("login user=<%s>: INBOX: %s", user->address,
			  r < 0 ? error : "missing");
		pop3_err(s, "[SYS/TEMP] Mailbox unavailable, try again later");
		return -1;
	}
	r = pop3_lock_take(s, inbox.id);
	if (r == 0) {
		log_info("login refused user=<%s> rip=%s: maildrop in use", user->address,
			 conn_peer_ip(s->conn));
		pop3_err(s, "[IN-USE] Mailbox is locked by another POP3 session");
		return 0;
	}
	if (r < 0) {
		pop3_err(s, "[SYS/TEMP] Mailbox unavailable, try again later");
		return -1;
	}
	s->nmsgs = 0;
	s->total_bytes = 0;
	r = store_msg_list(s->store, inbox.id, 1, UINT32_MAX, pop3_snapshot_add, &snap, &error);
	if (r < 0 || snap.oom) {
		log_error("login user=<%s>: listing INBOX: %s", user->address,
			  r < 0 ? error : "out of memory");
		pop3_maildrop_close(s);
		pop3_err(s, "[SYS/TEMP] Mailbox unavailable, try again later");
		return -1;
	}
	if (s->nmsgs == POP3_MAILDROP_MAX)
		log_warning("user=<%s>: maildrop shows only the first %u messages", user->address,
			    POP3_MAILDROP_MAX);
	s->account = *user;
	s->mailbox_id = inbox.id;
	s->uidvalidity = inbox.uidvalidity;
	s->state = POP3_STATE_TRANSACTION;
	return 1;
}

/* Messages a RETR sent whole and DELE left are marked \Seen, as Dovecot
 * does by default: one reading mail by POP3 and by IMAP or the webmail finds
 * them read there. Not by TOP (a client's preview), nor after a dropped
 * connection (the UPDATE state was never reached). */
static int pop3_mark_seen(struct pop3_session *s, uint32_t *uids, const char **error_r)
{
	size_t n = 0;

	for (uint32_t i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].retrieved && !s->msgs[i].deleted)
			uids[n++] = s->msgs[i].uid;
	}
	if (n == 0)
		return 0;
	return store_msg_set_flags(s->store, s->mailbox_id, uids, n, STORE_FLAGS_ADD,
				   STORE_FLAG_SEEN, NULL, 0, 0, NULL, NULL, NULL, error_r) < 0 ? -1 : 0;
}

int pop3_maildrop_update(struct pop3_session *s, const char **error_r)
{
	uint32_t *uids;
	size_t n = 0;
	int r;

	if (s->ndeleted == 0 && s->retrieved == 0)
		return 0;
	uids = malloc((size_t)s->nmsgs * sizeof(*uids));
	if (uids == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (pop3_mark_seen(s, uids, error_r) < 0) {
		/* \Seen is advisory; the deletions free space, so on a full
		 * disk they go ahead without it. */
		if (!store_error_no_space(s->store)) {
			free(uids);
			return -1;
		}
		log_warning("user=<%s>: retrieved messages not marked seen: %s",
			    s->account.address, *error_r);
	}
	for (uint32_t i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].deleted)
			uids[n++] = s->msgs[i].uid;
	}
	r = n > 0 ? store_msg_expunge(s->store, s->mailbox_id, uids, n, error_r) : 0;
	free(uids);
	if (r < 0)
		return -1;
	s->expunged = (uint32_t)r;
	return 0;
}

void pop3_maildrop_close(struct pop3_session *s)
{
	if (s->lock_fd >= 0) {
		close(s->lock_fd); /* releases the flock */
		s->lock_fd = -1;
	}
	free(s->msgs);
	s->msgs = NULL;
	s->nmsgs = 0;
	s->msgs_alloc = 0;
}
