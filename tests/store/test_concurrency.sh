#!/bin/bash
# 8 processes each deliver 500 messages into one mailbox while another
# process reads it in a loop: 4000 messages, UIDs 1..4000 unique, strictly
# ascending, gap-free, visible in UID order to every snapshot; the reader
# never fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

WRITERS=${WRITERS:-8}
PER_WRITER=${PER_WRITER:-500}
TOTAL=$(( WRITERS * PER_WRITER ))
RCPT=rcpt@concurrency.test
CONF=$WORK/pillarbox.conf

make_store "$CONF" "$WORK/store" "watchdog_seconds = 60"
"$TOOL" init --config "$CONF" --domain concurrency.test --user "$RCPT" ||
	die "storetool init failed"

# The reader stops once it has seen every message (or after 120 s).
start reader "$WORK/reader.out" "$TOOL" read --config "$CONF" --user "$RCPT" \
	--seconds 120 --until-count "$TOTAL" --gapless
t0=$(now_ms)
writers=""
for i in $(seq 1 "$WRITERS"); do
	start pid "$WORK/acks.$i" "$TOOL" deliver --config "$CONF" --to "$RCPT" \
		--count "$PER_WRITER" --tag "w$i"
	writers="$writers $pid"
done

i=0
for pid in $writers; do
	i=$(( i + 1 ))
	reap "$pid"
	[ "$REAPED" = 0 ] || fail "writer $i: $(status_name "$REAPED"): $(tail -3 "$WORK/acks.$i.err")"
	n=$(grep -c '^ok ' "$WORK/acks.$i")
	[ "$n" = "$PER_WRITER" ] || fail "writer $i acknowledged $n of $PER_WRITER"
done
t1=$(now_ms)
# The reader stops by itself once it has seen all messages.
wait_gone 30 "$reader" || { kill -KILL "$reader"; fail "reader still running 30 s after the writers"; }
reap "$reader"
[ "$REAPED" = 0 ] || fail "reader: $(status_name "$REAPED"): $(tail -3 "$WORK/reader.out.err")"
note "$(cat "$WORK/reader.out")"
note "$TOTAL deliveries by $WRITERS processes in $(( t1 - t0 )) ms" \
	"($(( TOTAL * 1000 / (t1 - t0 + 1) ))/s, ASan builds are slower)"

cat "$WORK"/acks.[0-9]* > "$WORK/acked"
"$TOOL" verify --config "$CONF" --user "$RCPT" --acked "$WORK/acked" --expect "$TOTAL" \
	--gapless || fail "verify found problems"
"$TOOL" check --config "$CONF" > "$WORK/check.out" 2>&1 ||
	fail "store check: $(cat "$WORK/check.out")"
note "$(tail -1 "$WORK/check.out")"

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
