#!/bin/bash
# Delivering processes are killed with SIGKILL at random moments (and the
# store's own recovery kills the others still attached). Afterwards every
# delivery a deliverer acknowledged ("ok" line) is present exactly once and
# whole, UIDs are gap-free; after maintenance with an orphan age of 0 every
# body file has a record and store_check reports 0 problems.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-20}
SLOTS=${SLOTS:-4}
WATCHDOG=10
# The store's log lines go to each process's .err file too.
export PILLARBOX_LOG_STDERR=1
RCPT=rcpt@crash.test
CONF=$WORK/pillarbox.conf

make_store "$CONF" "$WORK/store" "watchdog_seconds = $WATCHDOG"
"$TOOL" init --config "$CONF" --domain crash.test --user "$RCPT" || die "storetool init failed"

# Slot s runs one deliverer at a time; each new one gets a fresh tag so
# every message of the run is distinct.
declare -a slot_pid slot_tag
all=""
bad=0
kills=0
by_store=0
declare -A ends
reasons=""
check_status() {    # check_status FILE STATUS: what the deliverer's end was
	local name
	name=$(status_name "$2")
	ends[$name]=$(( ${ends[$name]:-0} + 1 ))
	case $2 in
	75) reasons="$reasons
	$(basename "$1"): $(grep -v '^storetool: ' "$1.err" | tail -1)" ;;
	0|137) ;;
	*) fail "deliverer $1 ended with $name: $(tail -3 "$1.err")"; bad=1 ;;
	esac
}
spawn() {
	local s=$1 tag=$2
	start slot_pid[$s] "$WORK/acks.$tag" "$TOOL" deliver --config "$CONF" --to "$RCPT" \
		--count 1000000 --tag "$tag" --announce
	slot_tag[$s]=$tag
	all="$all $tag:${slot_pid[$s]}"
}
for s in $(seq 1 "$SLOTS"); do spawn "$s" "r0s$s"; done
maints=""

t0=$(now_ms)
maint=""
for round in $(seq 1 "$ROUNDS"); do
	sleep "0.$(( RANDOM % 9 + 1 ))$(( RANDOM % 10 ))"
	victim=$(( RANDOM % SLOTS + 1 ))
	kill -KILL "${slot_pid[$victim]}" 2>/dev/null && kills=$(( kills + 1 ))
	# Every fifth round the maintenance job runs meanwhile (checkpoint, log
	# removal, orphan collection with the normal age), and may be killed too.
	if [ $(( round % 5 )) = 0 ]; then
		start maint "$WORK/maint.$round" "$TOOL" maintain --config "$CONF"
		maints="$maints $maint"
	fi
	for s in $(seq 1 "$SLOTS"); do
		if ! running "${slot_pid[$s]}"; then
			[ "$s" != "$victim" ] && by_store=$(( by_store + 1 ))
			spawn "$s" "r${round}s$s"
		fi
	done
done
# A clean stop for the last ones (SIGTERM: they finish the delivery in
# hand and close the store) once they have set up their signal handling.
for s in $(seq 1 "$SLOTS"); do
	deadline=$(( $(now_ms) + 10000 ))
	until grep -q '^opened' "$WORK/acks.${slot_tag[$s]}" || ! running "${slot_pid[$s]}" ||
		[ "$(now_ms)" -gt "$deadline" ]; do
		sleep 0.02
	done
	kill -TERM "${slot_pid[$s]}" 2>/dev/null
done
pids=""
for entry in $all; do pids="$pids ${entry#*:}"; done
# Every store call is under the watchdog: nothing may outlive it.
end_stragglers $(( WATCHDOG + 5 )) $pids $maints ||
	fail "store processes still alive $(( WATCHDOG + 5 )) s after the end (killed)"
for entry in $all; do
	reap "${entry#*:}"
	check_status "$WORK/acks.${entry%%:*}" "$REAPED"
done
t1=$(now_ms)
wait 2>/dev/null

"$TOOL" open --config "$CONF" > "$WORK/open.out" 2>&1 || fail "open after the crashes: $(cat "$WORK/open.out")"
cat "$WORK"/acks.* > "$WORK/acked"
nacked=$(grep -c '^ok ' "$WORK/acked")
summary=""
for k in "${!ends[@]}"; do summary="$summary ${ends[$k]} $k,"; done
note "deliverers ended:${summary%,}"
[ -n "${reasons:-}" ] && note "the temporary failures:$reasons"
note "$ROUNDS rounds in $(( t1 - t0 )) ms: $kills kills by the test, $by_store more" \
	"deliverers ended by the store's recovery, $nacked deliveries acknowledged;" \
	"$(cat "$WORK/open.out")"
[ "$nacked" -gt 0 ] || fail "nothing was acknowledged"

"$TOOL" verify --config "$CONF" --user "$RCPT" --acked "$WORK/acked" --gapless ||
	fail "verify found problems"
"$TOOL" maintain --config "$CONF" --orphan-age 0 || fail "maintain failed"
"$TOOL" orphans --config "$CONF" > "$WORK/orphans.out" 2>&1 ||
	fail "orphans after maintenance: $(head -5 "$WORK/orphans.out")"
note "$(tail -1 "$WORK/orphans.out")"
"$TOOL" check --config "$CONF" > "$WORK/check.out" 2>&1 ||
	fail "store check: $(head -20 "$WORK/check.out")"
note "$(tail -1 "$WORK/check.out")"

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
