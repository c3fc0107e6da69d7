#!/bin/bash
# Many small transactions in a row: 45,000 users imported by one
# `pillarbox user import` must all be added, and the store must check clean.
# Each committed transaction whose old page versions (MVCC) are still in
# the cache holds a mutex; with the mutex region sized for the cache's
# buffers alone, the region was full after about 38,800 of them and every
# write failed with "Cannot allocate memory" (DB_CONFIG's mutex_set_max).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

PB=$top_builddir/admin/pillarbox
USERS=${USERS:-45000}
CONF=$WORK/pillarbox.conf
make_store "$CONF" "$WORK/store" "watchdog_seconds = 600"
"$PB" --config "$CONF" store init > "$WORK/init.out" 2>&1 || die "store init: $(cat "$WORK/init.out")"
"$PB" --config "$CONF" domain add many.test > /dev/null 2>&1 || die "domain add failed"

# A passwd-file as Dovecot writes it, one crypt hash (SHA-512, the password "pw") for all.
hash='$6$rounds=1000$abcdefgh$XqwJcW6OI747PCzoKGoK/1tWSlKoh2vkjEp0I.CpQYUGXuxtpSzAi0rXpF1oWR/3/HfvxKLb7xwD0vymBsSv8/'
awk -v n="$USERS" -v h="$hash" 'BEGIN { for (i = 0; i < n; i++) printf "u%d@many.test:{CRYPT}%s::::::\n", i, h }' \
	> "$WORK/users.txt"
started=$(now_ms)
"$PB" --config "$CONF" user import "$WORK/users.txt" > "$WORK/import.out" 2>&1 ||
	fail "user import failed: $(tail -3 "$WORK/import.out")"
grep -q "user import: $USERS added, 0 already there, 0 skipped" "$WORK/import.out" ||
	fail "not every user was added: $(tail -2 "$WORK/import.out")"
note "imported $USERS users in $(( $(now_ms) - started )) ms"
got=$("$PB" --config "$CONF" user list many.test 2>/dev/null | wc -l)
[ "$got" = "$USERS" ] || fail "user list shows $got users, not $USERS"
"$PB" --config "$CONF" store check > "$WORK/check.out" 2>&1 ||
	fail "store check: $(head -5 "$WORK/check.out")"

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
