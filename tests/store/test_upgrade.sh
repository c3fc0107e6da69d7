#!/bin/bash
# `pillarbox store upgrade` on a real store of format 1 (a backup made by the
# Pillarbox that wrote it: fixtures/README): before it, every program refuses
# the store and says to run it, changing nothing, but backs it up; with an
# old database held open by another process it gives up and changes nothing;
# after it, the accounts,
# passwords, quotas, aliases, mail and login failure counters are all there,
# `store check` finds nothing, and a second run has nothing to do.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

PB=$top_builddir/admin/pillarbox
POP3D=$top_builddir/inetd/pop3d
FIXTURE=$top_srcdir/tests/store/fixtures/store-format1.tar.xz
STORE=$WORK/store
CONF=$WORK/pillarbox.conf
[ -x "$PB" ] || die "$PB is not built"

make_store "$CONF" "$STORE" "allow_plaintext_auth = yes"
tar -C "$WORK" -xJf "$FIXTURE" || die "cannot unpack $FIXTURE"
[ "$(id -u)" = 0 ] && chown -R "$STORE_USER:" "$WORK/backup"
"$PB" --config "$CONF" store restore "$WORK/backup" > /dev/null 2>&1 ||
	die "store restore of the format 1 backup failed"

# pop3 USER PASSWORD: a POP3 session on stdin (STAT, QUIT); its answers.
pop3() {
	printf 'USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n' "$1" "$2" |
		PILLARBOX_AUTH_DELAY_MS=0 "$POP3D" --config "$CONF" 2>/dev/null
}

# Before: refused with the way out, and nothing written.
files_before=$(cd "$STORE/env" && ls -- *.db | sort | tr '\n' ' ')
rc=0
out=$("$PB" --config "$CONF" user list 2>&1) || rc=$?
[ "$rc" = 75 ] || fail "user list of a format 1 store: exit $rc, expected 75"
case "$out" in
*"format version 1 is older"*"pillarbox store upgrade"*) note "before: $out" ;;
*) fail "user list of a format 1 store does not say to upgrade: $out" ;;
esac
out=$(pop3 ann@example.test "ann password")
case "$out" in
*"+OK Logged in"*) fail "pop3d served a format 1 store: $out" ;;
esac
[ "$(cd "$STORE/env" && ls -- *.db | sort | tr '\n' ' ')" = "$files_before" ] ||
	fail "refusing the store changed its files"

# A process of the older version still holding users.db open: the upgrade
# gives up (it does not wait for the process) and changes nothing.
"$TOOL" holdfile --config "$CONF" --file users.db --seconds 30 > "$WORK/hold.out" 2>&1 &
holder=$!
STARTED="$STARTED $holder"
for _ in $(seq 100); do grep -q '^held' "$WORK/hold.out" && break; sleep 0.1; done
grep -q '^held' "$WORK/hold.out" || die "holdfile never held users.db: $(cat "$WORK/hold.out")"
rc=0
t0=$(now_ms)
out=$("$PB" --config "$CONF" store upgrade 2>&1) || rc=$?
took=$(( $(now_ms) - t0 ))
[ "$rc" = 75 ] || fail "store upgrade with users.db held open: exit $rc, expected 75: $out"
case "$out" in
*"in use"*"nothing was changed"*) note "held open: exit $rc after $took ms: $out" ;;
*) fail "store upgrade with users.db held open says: $out" ;;
esac
[ "$took" -lt 20000 ] || fail "store upgrade waited $took ms for the holder"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
[ "$(cd "$STORE/env" && ls -- *.db | sort | tr '\n' ' ')" = "$files_before" ] ||
	fail "the upgrade that gave up changed the files: $(cd "$STORE/env" && ls -- *.db | tr '\n' ' ')"
out=$("$PB" --config "$CONF" user list 2>&1)
case "$out" in
*"format version 1 is older"*) ;;
*) fail "after the upgrade gave up, the store is not format 1 any more: $out" ;;
esac

# The backup an administrator takes first: of the format-1 store, as it is.
out=$("$PB" --config "$CONF" store backup "$WORK/before" 2>&1) ||
	fail "store backup of a format 1 store: $out"

# The upgrade.
out=$("$PB" --config "$CONF" store upgrade 2>&1) || fail "store upgrade failed: $out"
case "$out" in
*"upgraded from format 1 to 2 (7 records moved)"*) note "$out" ;;
*) fail "store upgrade says: $out" ;;
esac
for f in users.db user_by_addr.db authfail.db; do
	[ ! -e "$STORE/env/$f" ] || fail "$f is still there after the upgrade"
done
[ -f "$STORE/env/accounts.db" ] || fail "no accounts.db after the upgrade"
[ "$(cat "$STORE/env/FORMAT" 2>&1)" = 2 ] || fail "env/FORMAT: $(cat "$STORE/env/FORMAT" 2>&1)"

# After: everything the old store held.
TAB=$(printf '\t')
out=$("$PB" --config "$CONF" user list 2>&1) || fail "user list after the upgrade: $out"
want="ann@example.test${TAB}enabled${TAB}3${TAB}528${TAB}0${TAB}0
Bob@example.test${TAB}enabled${TAB}0${TAB}0${TAB}0${TAB}5242880
cy@example.test${TAB}disabled${TAB}0${TAB}0${TAB}0${TAB}0"
[ "$out" = "$want" ] || fail "user list after the upgrade: [$out], expected [$want]"
out=$("$PB" --config "$CONF" alias list 2>&1)
[ "$out" = "info@example.test${TAB}ann@example.test" ] || fail "alias list: $out"
out=$("$PB" --config "$CONF" store stats 2>&1)
for line in "accounts.db users: 3" "accounts.db addresses: 3" \
	"accounts.db login failure counters: 1"; do
	printf '%s\n' "$out" | grep -q -x "$line" || fail "store stats lack [$line]"
done
out=$("$PB" --config "$CONF" store check 2>&1) || fail "store check after the upgrade: $out"

out=$(pop3 ann@example.test "ann password")
case "$out" in
*"+OK Logged in, 3 messages (528 octets)"*"+OK 3 528"*) ;;
*) fail "ann's POP3 login after the upgrade: $out" ;;
esac
out=$(pop3 BOB@example.test "bob password")
case "$out" in
*"+OK Logged in, 0 messages"*) ;;
*) fail "bob's POP3 login (any case of the address) after the upgrade: $out" ;;
esac
for bad in "cy@example.test:cy password" "ann@example.test:bob password"; do
	out=$(pop3 "${bad%%:*}" "${bad#*:}")
	case "$out" in
	*"-ERR [AUTH]"*) ;;
	*) fail "POP3 login of ${bad%%:*} (disabled or a wrong password) was not refused: $out" ;;
	esac
done
# The new records are written where the old ones went: a new user.
printf 'dee password\n' | "$PB" --config "$CONF" user add dee@example.test > /dev/null 2>&1 ||
	fail "user add after the upgrade failed"
out=$(pop3 dee@example.test "dee password")
case "$out" in
*"+OK Logged in, 0 messages"*) ;;
*) fail "a user added after the upgrade cannot log in: $out" ;;
esac

out=$("$PB" --config "$CONF" store upgrade 2>&1) || fail "a second store upgrade failed: $out"
case "$out" in
*"nothing to upgrade"*) ;;
*) fail "a second store upgrade says: $out" ;;
esac

# The way back: the backup taken before restores the format-1 store.
make_store "$WORK/back.conf" "$WORK/back"
out=$("$PB" --config "$WORK/back.conf" store restore "$WORK/before" 2>&1) ||
	fail "restore of the backup taken before the upgrade: $out"
out=$("$PB" --config "$WORK/back.conf" user list 2>&1)
case "$out" in
*"format version 1 is older"*) ;;
*) fail "the backup taken before the upgrade is not the format 1 store: $out" ;;
esac

# `pillarbox setup` (as root, after make install) upgrades the same way.
if [ "$(id -u)" = 0 ]; then
	make_store "$WORK/setup.conf" "$WORK/setup-store"
	"$PB" --config "$WORK/setup.conf" store restore "$WORK/backup" > /dev/null 2>&1 ||
		die "store restore into setup-store failed"
	out=$("$PB" --config "$WORK/setup.conf" setup 2>&1) || fail "setup of a format 1 store: $out"
	case "$out" in
	*"upgraded from format 1 to 2"*) ;;
	*) fail "setup of a format 1 store says: $out" ;;
	esac
	out=$("$PB" --config "$WORK/setup.conf" user list 2>&1)
	[ "$out" = "$want" ] || fail "user list after setup's upgrade: [$out]"
else
	note "setup's upgrade: skipped (setup runs as root)"
fi

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
