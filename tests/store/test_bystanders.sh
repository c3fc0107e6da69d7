#!/bin/bash
# Processes blocked inside the store when another one dies must not hang:
# one `hold` process locks INBOX's state record, WAITERS deliverers block on
# it, one of the blocked ones is SIGKILLed (in the last round: the holder),
# then a new process opens the store: recovery runs and must stop the
# processes still attached to the old environment. Every process must end
# (finish, exit 75, or be killed by the recovery) within the watchdog time;
# the new one must work. Prints how long the new process's store_open took.
# A last round has no newcomer: then the watchdog alone must end everyone
# (exit 75) within watchdog_seconds.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-4}
WAITERS=${WAITERS:-4}
WATCHDOG=5
export PILLARBOX_LOG_STDERR=1
RCPT=rcpt@bystanders.test
CONF=$WORK/pillarbox.conf

make_store "$CONF" "$WORK/store" "watchdog_seconds = $WATCHDOG"
"$TOOL" init --config "$CONF" --domain bystanders.test --user "$RCPT" ||
	die "storetool init failed"

open_times=""
for round in $(seq 1 $(( ROUNDS + 1 ))); do
	R=$WORK/r$round
	mkdir "$R"
	start holder "$R/hold" "$TOOL" hold --config "$CONF" --user "$RCPT" --seconds 60
	wait_for_line "$R/hold" '^held' 10 || die "round $round: hold never got the lock: $(cat "$R/hold.err")"
	waiters=""
	for w in $(seq 1 "$WAITERS"); do
		start pid "$R/w$w" "$TOOL" deliver --config "$CONF" --to "$RCPT" --count 1 \
			--tag "r${round}w$w" --announce
		waiters="$waiters $pid"
	done
	for w in $(seq 1 "$WAITERS"); do
		wait_for_line "$R/w$w" '^opened' 10 || fail "round $round: waiter $w never opened the store"
	done
	# Give them time to reach the lock; none can have delivered.
	sleep 0.3
	if cat "$R"/w[0-9] | grep -q '^ok '; then
		fail "round $round: a waiter delivered while the state record was held"
	fi
	set -- $waiters
	if [ "$round" -ge "$ROUNDS" ]; then
		victim=$holder what="the holder"
	else
		victim=$1 what="a blocked waiter (state $(cat /proc/$1/wchan 2>/dev/null || echo ?))"
	fi
	kill -KILL "$victim"
	t_kill=$(now_ms)
	# SIGKILL takes a moment: a newcomer that looked while the victim still
	# ran would find no one dead and rightly not recover.
	wait_gone 5 "$victim" || die "round $round: pid $victim survives SIGKILL"
	others=""
	for pid in $holder $waiters; do [ "$pid" != "$victim" ] && others="$others $pid"; done
	if [ "$round" -gt "$ROUNDS" ]; then
		# No newcomer: the watchdog must end them.
		wait_gone $(( WATCHDOG + 2 )) $others || fail "watchdog round: processes still alive" \
			"$(( WATCHDOG + 2 )) s after the kill"
		t_end=$(now_ms)
		outcome=""
		for pid in $others; do
			reap "$pid"
			[ "$REAPED" = 75 ] || fail "watchdog round: pid $pid ended with $(status_name "$REAPED")"
			outcome="$outcome $(status_name "$REAPED"),"
		done
		reap "$victim"
		note "round $round: killed $what, no new process: all ended $(( t_end - t_kill )) ms" \
			"after the kill (watchdog ${WATCHDOG} s); others:${outcome%,}"
		start newcomer "$R/new" "$TOOL" deliver --config "$CONF" --to "$RCPT" --count 1 \
			--tag "r${round}new" --report-open
		wait_gone 10 $newcomer || die "the process after the watchdog round hangs"
		reap "$newcomer"
		[ "$REAPED" = 0 ] || fail "the process after the watchdog round failed: $(cat "$R/new.err")"
		note "round $round: then a new process's store_open (recovery):" \
			"$(awk '$1 == "open_ms" { print $2 " ms (CPU " $4 " ms)" }' "$R/new")"
		break
	fi
	# The newcomer: opens (and recovers), then delivers and reads.
	start newcomer "$R/new" "$TOOL" deliver --config "$CONF" --to "$RCPT" --count 1 \
		--tag "r${round}new" --report-open
	if ! wait_gone $(( WATCHDOG + 3 )) $newcomer $others; then
		for pid in $newcomer $others; do
			running "$pid" && fail "round $round: pid $pid still alive $(( WATCHDOG + 3 )) s after the kill" \
				"($(tr '\0' ' ' < /proc/$pid/cmdline))"
		done
		die "round $round: processes hang"
	fi
	t_end=$(now_ms)
	outcome=""
	for pid in $others; do
		reap "$pid"
		case $REAPED in
		0|75|137) ;;
		*) fail "round $round: pid $pid ended with $(status_name "$REAPED")" ;;
		esac
		outcome="$outcome $(status_name "$REAPED"),"
	done
	reap "$victim"
	reap "$newcomer"
	[ "$REAPED" = 0 ] || fail "round $round: the new process failed: $(status_name "$REAPED"): $(cat "$R/new.err")"
	grep -q "^ok r${round}new-1" "$R/new" || fail "round $round: the new process delivered nothing"
	open_ms=$(awk '$1 == "open_ms" { print $2 }' "$R/new")
	open_times="$open_times $open_ms"
	note "round $round: killed $what; new process's store_open (recovery) ${open_ms} ms" \
		"(CPU $(awk '$1 == "open_ms" { print $4 }' "$R/new") ms);" \
		"all ended $(( t_end - t_kill )) ms after the kill; others:${outcome%,}"
done
note "store_open times with recovery (ms):$open_times"

cat "$WORK"/r*/w[0-9] "$WORK"/r*/new > "$WORK/acked" 2>/dev/null
"$TOOL" verify --config "$CONF" --user "$RCPT" --acked "$WORK/acked" --gapless ||
	fail "verify found problems"
"$TOOL" check --config "$CONF" > "$WORK/check.out" 2>&1 ||
	fail "store check: $(head -20 "$WORK/check.out")"
note "$(tail -1 "$WORK/check.out")"

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
