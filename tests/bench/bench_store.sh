#!/bin/bash
# bench_store.sh [BUILDDIR]: figures for the store (not a test).
#
# BUILDDIR (default $top_builddir, else the current directory) must hold
# tests/store/storetool and tests/bench/bench_open; build them without
# sanitizers for meaningful figures, e.g.
#   mkdir -p _build/bench && cd _build/bench && ../../configure CFLAGS="-O2 -g" &&
#   make store/libpillarbox.a tests/store/storetool tests/bench/bench_open &&
#   ../../tests/bench/bench_store.sh
# Run as root (it switches to the store user) or as the store user.
# Knobs: N1 (1-process deliveries, 2000), N8 (per process with 8, 1000),
# NBIG (64 KB deliveries, 300), RUNS (fresh-process runs, 200),
# LOAD_SECONDS (traffic before a crash, 5).
# The 8-process figure of the targets is 8 processes delivering to 8
# mailboxes (an MX's traffic); 8 processes on one mailbox are printed too:
# they serialise on the mailbox's UID counter by design.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

B=$(cd "${1:-${top_builddir:-.}}" && pwd)
export top_builddir=$B
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
N1=${N1:-2000}
N8=${N8:-1000}
NBIG=${NBIG:-300}
RUNS=${RUNS:-200}
LOAD_SECONDS=${LOAD_SECONDS:-5}
SIZE=5120
PASSWORD=bench-password-1

# Reuses the tests' set-up: TOOL, WORK, STORE_USER, make_store, start, reap.
TEST_NAME=bench_store
. "$top_srcdir/tests/store/lib.sh"
OPEN=$B/tests/bench/bench_open
[ -x "$OPEN" ] || die "$OPEN is not built"
if ldd "$TOOL" 2>/dev/null | grep -q -E 'libasan|libubsan'; then
	echo "WARNING: $TOOL is a sanitizer build: figures will be pessimistic" >&3
fi
# Fresh-process runs as the store user, as xinetd/systemd would start them.
AS_USER=()
[ "$(id -u)" = 0 ] && AS_USER=(--user "$STORE_USER")

CONF=$WORK/pillarbox.conf
make_store "$CONF" "$WORK/store" "watchdog_seconds = 120"
users=()
for i in 1 2 3 4 5 6 7 8; do users+=(--user "u$i@bench.test"); done
"$TOOL" init --config "$CONF" --domain bench.test "${users[@]}" --password "$PASSWORD" ||
	die "init failed"

out() { printf '%-58s %s\n' "$1" "$2"; }
# rate FILES...: deliveries/s over the union of the "timing t0 t1 n" lines.
rate() {
	cat "$@" | awk '$1 == "timing" { if (min == "" || $2 < min) min = $2;
		if ($3 > max) max = $3; n += $4 }
		END { if (max > min) printf "%.0f", n / ((max - min) / 1e9); else print 0 }'
}
# Environment figures only: counting records walks every page, and in
# the recovery rounds below that walk, between the checkpoint and the
# kill, left recovery a second of log to replay.
stat_of() { "$TOOL" stats --config "$CONF" --env-only | sed -n "s/^$1: //p"; }
# children_cpu VAR: VAR = user+system seconds of this shell's reaped
# children so far. (`times` must run in this shell, not in a $(...).)
children_cpu() {
	times > "$WORK/times"
	printf -v "$1" '%s' "$(awk 'NR == 2 { for (i = 1; i <= 2; i++) {
		split($i, t, /[ms]/); s += t[1] * 60 + t[2] } print s }' "$WORK/times")"
}
# deliver_par P N TO...: P processes, N each, recipient i = TO[i % #TO];
# CPUP = their user+system seconds.
deliver_par() {
	local p=$1 n=$2 i pids="" tag
	shift 2
	local to=("$@") c0 c1
	rm -f "$WORK"/par.*
	children_cpu c0
	for i in $(seq 1 "$p"); do
		tag="p$i.$RANDOM"
		start pid "$WORK/par.$i" "$TOOL" deliver --config "$CONF" --to "${to[$(( (i - 1) % ${#to[@]} ))]}" \
			--count "$n" --tag "$tag" --size "$SIZE" --quiet --timing $EXTRA
		pids="$pids $pid"
	done
	for pid in $pids; do reap "$pid"; [ "$REAPED" = 0 ] || die "a deliverer failed: $(cat "$WORK"/par.*.err)"; done
	children_cpu c1
	CPUP=$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')
}
# deliver_one N TO SIZE: one process in the foreground; CPU1 = its user+system s.
deliver_one() {
	local TIMEFORMAT='%3U %3S' t
	rm -f "$WORK"/par.*
	t=$( { time "$TOOL" deliver --config "$CONF" --to "$2" --count "$1" --tag "one.$RANDOM" \
		--size "$3" --quiet --timing $EXTRA > "$WORK/par.1" 2> "$WORK/par.1.err"; } 2>&1 ) ||
		die "the deliverer failed: $(cat "$WORK/par.1.err")"
	CPU1=$(echo "$t" | awk '{ print $1 + $2 }')
}
# per_delivery TOTAL N: TOTAL / N, rounded.
per_delivery() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.0f", t / n }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== Pillarbox store benchmark: $(date -u +%F) $(uname -r), $(nproc) CPUs, store on" \
	"$(df -T "$WORK" | awk 'NR == 2 { print $2 " " $1 }')"

# 1. The disk's raw synchronous-write rate, in the store's directory:
# appending (what issue 2's target is measured against), and over a file
# written with zeros first, which is how the store's log files are written
# (db_log_zero in DB_CONFIG): for comparison, the better case of the disk.
raw=$("$OPEN" --syncrate "$WORK" 3 | awk '{ print $2 }')
out "raw write(4 KB)+fdatasync, same directory, appending" "$raw /s"
rawz=$("$OPEN" --syncrate-prealloc "$WORK" 3 | awk '{ print $2 }')
out "raw write(4 KB)+fdatasync over a zero-filled file" "$rawz /s"
# The CPUs' own parallel speed-up, the ceiling of the 8-process target:
# a loop that stays in cache and one that waits on memory, run alone and
# once per CPU at the same time.
scale=$("$OPEN" --cpuscale 2) || die "bench_open --cpuscale failed"
read -r _ cpuscale _ memscale _ ncpu <<< "$scale"
out "CPU-bound loop, $ncpu processes at once against 1" "${cpuscale}x (over 64 MB of memory: ${memscale}x)"

# 2. Durable appends of 5 KB messages.
EXTRA=""
f0=$(stat_of "log flushes")
b0=$(stat_of "log bytes written")
deliver_one "$N1" u1@bench.test "$SIZE"
one=$(rate "$WORK"/par.*)
f1=$(stat_of "log flushes")
b1=$(stat_of "log bytes written")
out "1 process, $N1 deliveries" "$one /s ($(( f1 - f0 )) log flushes; per delivery \
$(per_delivery "$(awk -v c="$CPU1" 'BEGIN { print c * 1e6 }')" "$N1") us CPU, \
$(per_delivery "$(( b1 - b0 ))" "$N1") B of log)"
EXTRA="--reuse-body"
deliver_one "$N1" u1@bench.test "$SIZE"
out "  of which the transaction alone (one body reused)" "$(rate "$WORK"/par.*) /s"
EXTRA=""
"$TOOL" bodies --config "$CONF" --count "$N1" --size "$SIZE" > "$WORK/bodies.out" || die "bodies failed"
out "  of which making the body alone (5 KB: parsed, kept in memory)" "$(rate "$WORK/bodies.out") /s"
# Bodies over 15 KB are files: body fsync, directory fsync, then the log.
deliver_one "$NBIG" u2@bench.test 65536
out "1 process, $NBIG deliveries of 64 KB (body files)" "$(rate "$WORK"/par.*) /s"
"$TOOL" bodies --config "$CONF" --count "$NBIG" --size 65536 > "$WORK/bodies.out" || die "bodies failed"
out "  of which the body file alone (write, fsync, rename, fsync dir)" "$(rate "$WORK/bodies.out") /s"
f0=$(stat_of "log flushes")
w0=$(stat_of "lock waits")
deliver_par 8 "$N8" u1@bench.test u2@bench.test u3@bench.test u4@bench.test \
	u5@bench.test u6@bench.test u7@bench.test u8@bench.test
eight=$(rate "$WORK"/par.*)
f1=$(stat_of "log flushes")
w1=$(stat_of "lock waits")
out "8 processes x $N8, 8 mailboxes" "$eight /s ($(( f1 - f0 )) log flushes, $(( w1 - w0 )) lock waits for $(( 8 * N8 )) commits; \
per delivery $(per_delivery "$(awk -v c="$CPUP" 'BEGIN { print c * 1e6 }')" $(( 8 * N8 ))) us CPU)"
# Again, now that each mailbox holds messages: 7 of the 8 were empty above,
# and the newest messages of young mailboxes share btree pages (page locks).
f0=$(stat_of "log flushes")
w0=$(stat_of "lock waits")
deliver_par 8 "$N8" u1@bench.test u2@bench.test u3@bench.test u4@bench.test \
	u5@bench.test u6@bench.test u7@bench.test u8@bench.test
eight2=$(rate "$WORK"/par.*)
f1=$(stat_of "log flushes")
w1=$(stat_of "lock waits")
out "  again, each mailbox now holding $N8 messages or more" "$eight2 /s ($(( f1 - f0 )) log flushes, $(( w1 - w0 )) lock waits)"
f0=$(stat_of "log flushes")
w0=$(stat_of "lock waits")
deliver_par 8 "$N8" u1@bench.test
same=$(rate "$WORK"/par.*)
f1=$(stat_of "log flushes")
w1=$(stat_of "lock waits")
out "8 processes x $N8, one mailbox" "$same /s ($(( f1 - f0 )) log flushes, $(( w1 - w0 )) lock waits)"
"$TOOL" maintain --config "$CONF" --orphan-age 0 > /dev/null || die "maintain failed"

# 3. A fresh process: open, one password check, one mailbox's status.
cost() { "$OPEN" "${AS_USER[@]}" --runs "$RUNS" "$@" | awk '{ print $4 " ms (p90 " $6 ", CPU " $10 ")" }'; }
with_hash=$(cost "$TOOL" status --config "$CONF" --user u1@bench.test --password "$PASSWORD" --quiet)
without=$(cost "$TOOL" status --config "$CONF" --user u1@bench.test --quiet)
bare=$(cost "$OPEN" --noop)
"$TOOL" hashtime --config "$CONF" --user u2@bench.test --password "$PASSWORD" --runs 20 > "$WORK/hash.out" ||
	die "hashtime failed"
out "fresh process: open + login + INBOX status, median of $RUNS" "$with_hash"
out "fresh process: open + user lookup + INBOX status (no hash)" "$without"
out "  password hash check alone (in process)" "$(sed -n 's/^hash_verify_ms //p' "$WORK/hash.out") ms"
out "  store_auth_login alone (hash + counters, in process)" "$(sed -n 's/^auth_login_ms //p' "$WORK/hash.out") ms"
out "  bare fork+exec of an empty program" "$bare"
opens=""
for i in 1 2 3 4 5; do opens="$opens $("$TOOL" open --config "$CONF" | awk '{ print $2 }')"; done
out "  store_open with nothing to recover (in process, median of 5)" \
	"$(printf '%s\n' $opens | median) ms"

# 4. Recovery after kill -9 of a deliverer under load, with and without a
# checkpoint (what `store maintain` does every minute) just before.
recovery() {    # recovery yes|no: prints "open_ms log_bytes"
	local pids="" i pid logb
	for i in 1 2 3 4; do
		start pid "$WORK/load.$i" "$TOOL" deliver --config "$CONF" --to "u$i@bench.test" \
			--count 100000000 --tag "load$i.$RANDOM" --size "$SIZE" --quiet
		pids="$pids $pid"
	done
	sleep "$LOAD_SECONDS"
	[ "$1" = yes ] && { "$TOOL" maintain --config "$CONF" > /dev/null || die "maintain failed"; }
	logb=$(stat_of "log bytes since checkpoint")
	set -- $pids
	kill -KILL "$1"
	reap "$1"
	local ms wall cpu t0 t1
	t0=$(date +%s%N)
	"$TOOL" open --config "$CONF" > "$WORK/open.out"
	t1=$(date +%s%N)
	wall=$(( (t1 - t0) / 1000000 ))
	ms=$(awk '$1 == "open_ms" { print $2 }' "$WORK/open.out")
	cpu=$(awk '$1 == "open_ms" { print $4 }' "$WORK/open.out")
	for pid in $pids; do kill -KILL "$pid" 2>/dev/null; reap "$pid"; done
	# A clean open afterwards so the next round starts from a recovered store.
	"$TOOL" open --config "$CONF" > /dev/null
	echo "$ms $wall $logb $cpu"
}
for mode in no yes; do
	rows=""
	for i in 1 2 3; do rows="$rows$(recovery "$mode")"$'\n'; done
	label="recovery after kill -9 (4 writers, ${LOAD_SECONDS} s load)"
	[ "$mode" = yes ] && label="$label, checkpoint just before" || label="$label, no checkpoint"
	out "$label" "$(printf '%s' "$rows" | awk '{ print $1 }' | median) ms in store_open, \
$(printf '%s' "$rows" | awk '{ print $2 }' | median) ms wall, $(printf '%s' "$rows" | awk '{ print $4 }' | median) ms CPU in store_open \
(median of 3; log since checkpoint $(printf '%s' "$rows" | awk '{ print $3 }' | median) B)"
	[ "$mode" = yes ] && rec_yes=$(printf '%s' "$rows" | awk '{ print $1 }' | median)
done
"$TOOL" maintain --config "$CONF" --orphan-age 0 > /dev/null

# 5. Against the targets.
echo "== targets"
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
wo=${without%% *}
out "1 process >= 50% of raw sync-write rate (appending)" \
	"$(awk -v a="$one" -v b="$raw" 'BEGIN { printf "%.0f%%", 100 * a / b }') $(verdict "$(awk -v a="$one" -v b="$raw" 'BEGIN { print (a >= b / 2) }')")"
out "  (for comparison: of the zero-filled file's rate)" \
	"$(awk -v a="$one" -v b="$rawz" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
out "8 processes (8 mailboxes) >= 2x 1 process" \
	"$(awk -v a="$eight" -v b="$one" 'BEGIN { printf "%.2fx", a / b }') $(verdict "$(awk -v a="$eight" -v b="$one" 'BEGIN { print (a >= 2 * b) }')")"
out "  (for comparison: the mailboxes already holding messages)" \
	"$(awk -v a="$eight2" -v b="$one" 'BEGIN { printf "%.2fx", a / b }')"
out "  (the CPUs' own ceiling: $ncpu CPU-bound processes against 1)" "${cpuscale}x"
out "fresh process without the hash <= 2.5 ms" \
	"$wo ms $(verdict "$(awk -v a="$wo" 'BEGIN { print (a <= 2.5) }')")"
out "recovery <= 200 ms with maintenance running" \
	"$rec_yes ms $(verdict "$(awk -v a="$rec_yes" 'BEGIN { print (a <= 200) }')")"
exit 0
