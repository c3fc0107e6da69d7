#!/bin/bash
# A process whose open meets a panicked environment:
# 1. while another process holds the registry (it is recovering: it marks
#    the old environment panicked, then stops the processes attached), the
#    opening process leaves (75) without touching the store. Left to itself,
#    Berkeley DB would recover the environment inside that open, without the
#    registry and while the processes being stopped may still write. gdb
#    holds the opening process after it registered, as when it registered
#    just before the recovery began.
# 2. with nobody recovering (the panicking process lives on), Berkeley DB
#    recovers the environment inside the open; the process then works and
#    must close the new environment like any other: its registry slot
#    blanked, its handles closed. (It once kept a "panicked" mark, skipped
#    the close and left its slot behind, so the next process to open ran
#    recovery again and killed every process attached.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

export PILLARBOX_LOG_STDERR=1
RCPT=rcpt@rejoin.test
CONF=$WORK/pillarbox.conf
COUNT=3
ENV=$WORK/store/env

make_store "$CONF" "$WORK/store" "watchdog_seconds = 60"
"$TOOL" init --config "$CONF" --domain rejoin.test --user "$RCPT" || die "storetool init failed"

# ---- 1. another process is recovering
if ! command -v gdb >/dev/null; then
	note "gdb is not installed (apt-get install gdb): part 1 not run"
else
	# A recovery makes the region files anew: their inode says whether one ran.
	region=$(stat -c %i "$ENV/__db.001")
	{
		echo "set pagination off"
		echo "set confirm off"
		echo "handle SIGALRM nostop noprint pass"
		echo "break __env_attach_regions"
		echo "run"
		echo "shell $WORK/hold.sh"
		echo "delete"
		echo "continue"
	} > "$WORK/gdb.cmds"
	cat > "$WORK/hold.sh" <<EOF
#!/bin/sh
"$TOOL" panic --config "$CONF" --seconds 60 --hold-registry > "$WORK/hold" 2> "$WORK/hold.err" &
echo \$! > "$WORK/hold.pid"
for i in \$(seq 1 200); do grep -q panicked "$WORK/hold" && exit 0; sleep 0.05; done
EOF
	chmod 755 "$WORK/hold.sh"
	timeout 120 gdb -q -batch -nx -x "$WORK/gdb.cmds" --args "$TOOL" deliver --config "$CONF" \
		--to "$RCPT" --count "$COUNT" --tag held > "$WORK/held" 2> "$WORK/held.err"
	grep -q panicked "$WORK/hold" || die "the recovering stand-in did not start: $(cat "$WORK/hold.err")"
	grep -q 'exited with code 0113' "$WORK/held" ||
		fail "the opening process did not leave (75) while another held the registry: $(grep -i exited "$WORK/held")"
	grep -q '^ok ' "$WORK/held" && fail "the opening process delivered into a store being recovered"
	[ "$(stat -c %i "$ENV/__db.001")" = "$region" ] ||
		fail "the opening process recovered the store while another held the registry"
	holder=$(cat "$WORK/hold.pid")
	kill -KILL "$holder" 2>/dev/null
	wait_gone 5 "$holder" || die "the recovering stand-in survives SIGKILL"
fi

# ---- 2. nobody recovering
start panicker "$WORK/panic" "$TOOL" panic --config "$CONF" --seconds 60
wait_for_line "$WORK/panic" '^panicked' 10 || die "the environment was not panicked: $(cat "$WORK/panic.err")"
start joiner "$WORK/acks" "$TOOL" deliver --config "$CONF" --to "$RCPT" --count "$COUNT" \
	--tag rejoin --announce
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
grep -q "^ *$joiner\$" "$ENV/__db.register" &&
	fail "the registry still names the joiner ($joiner), which has ended"
"$TOOL" verify --config "$CONF" --user "$RCPT" --acked "$WORK/acks" --gapless --expect "$COUNT" ||
	fail "verify found problems"

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
