#!/bin/bash
# A process whose first attempt to join the store meets a panicked
# environment (another process's recovery has begun, or the region failed)
# retries, recovers the store itself once the panicking process is gone,
# works, and must then close the new environment like any other: its
# registry slot blanked, its handles closed. (It once kept the "panicked"
# mark of its first attempt, skipped the close and left its slot behind, so
# the next process to open the store ran recovery again and killed every
# process then attached.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

export PILLARBOX_LOG_STDERR=1
RCPT=rcpt@rejoin.test
CONF=$WORK/pillarbox.conf
COUNT=3

make_store "$CONF" "$WORK/store" "watchdog_seconds = 20"
"$TOOL" init --config "$CONF" --domain rejoin.test --user "$RCPT" || die "storetool init failed"

start panicker "$WORK/panic" "$TOOL" panic --config "$CONF" --seconds 60
wait_for_line "$WORK/panic" '^panicked' 10 || die "the environment was not panicked: $(cat "$WORK/panic.err")"
start joiner "$WORK/acks" "$TOOL" deliver --config "$CONF" --to "$RCPT" --count "$COUNT" \
	--tag rejoin --announce
# The joiner meets the panic, retries and recovers the store (Berkeley DB
# rebuilds a panicked environment on the next open with DB_RECOVER).
wait_for_line "$WORK/acks.err" 'PANIC' 10 ||
	fail "the joiner did not meet the panicked environment: $(cat "$WORK/acks.err")"
kill -KILL "$panicker"
reap "$panicker"
end_stragglers 25 "$joiner" || fail "the joiner never finished"
reap "$joiner"
[ "$REAPED" = 0 ] || fail "the joiner ended with status $REAPED: $(grep -v PANIC "$WORK/acks.err" | head -5)"
[ "$(grep -c '^ok ' "$WORK/acks")" = "$COUNT" ] || fail "the joiner acknowledged $(grep -c '^ok ' "$WORK/acks") of $COUNT"
# The joiner closed the store: its registry slot is blank. (The killed
# panicker's is not: the next process to open finds it and recovers.)
grep -q "^ *$joiner\$" "$WORK/store/env/__db.register" &&
	fail "the registry still names the joiner ($joiner), which has ended"
"$TOOL" verify --config "$CONF" --user "$RCPT" --acked "$WORK/acks" --gapless --expect "$COUNT" ||
	fail "verify found problems"

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
