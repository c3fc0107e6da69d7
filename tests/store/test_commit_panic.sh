#!/bin/bash
# A delivery is acknowledged only once its commit is on disk, also when the
# environment panics during the commit's log flush (another process's
# recovery does that to every process still attached). Berkeley DB 5.3
# reports such a commit as done when its record is the first of a new log
# file, though nothing was written (see store/txn.c); the crash test lost
# acknowledged mail that way about once in 75 runs.
#
# gdb stops a deliverer in __log_flush_int at the flush of a commit near the
# start of log file 2, marks the environment panicked there and lets it go
# on. The delivery in hand must not be acknowledged, the deliverer must end
# as on any panic (75), and after recovery every acknowledged message must be
# in the mailbox.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

skip() { note "SKIP: $*"; exit 77; }
command -v gdb >/dev/null || skip "gdb is not installed (apt-get install gdb)"
[ "$(uname -m)" = x86_64 ] || skip "the breakpoint reads x86-64 registers"
nm "$TOOL" 2>/dev/null | grep -q ' T __log_flush_int$' ||
	skip "storetool has no __log_flush_int symbol (Berkeley DB linked dynamically?)"

export PILLARBOX_LOG_STDERR=1
RCPT=rcpt@commitpanic.test
CONF=$WORK/pillarbox.conf
# The deliverer stays stopped in gdb for a moment: no watchdog meanwhile.
make_store "$CONF" "$WORK/store" "watchdog_seconds = 120"
"$TOOL" init --config "$CONF" --domain commitpanic.test --user "$RCPT" || die "storetool init failed"

# __log_flush_int(dblp, lsnp, release): lsnp (rsi) is the LSN to flush,
# {file, offset}. __env_panic_set marks the region as a recovering process
# does (the deliverer notices it at its next write, as it would then).
cat > "$WORK/gdb.cmds" <<EOF
set pagination off
set confirm off
handle SIGALRM nostop noprint pass
break __log_flush_int if \$rsi != 0 && *(unsigned int *)\$rsi == 2 && *((unsigned int *)\$rsi + 1) < 200000
run
call (int)__env_panic_set(store->env->env, 1)
delete
continue
EOF
timeout 300 gdb -q -batch -nx -x "$WORK/gdb.cmds" --args "$TOOL" deliver --config "$CONF" \
	--to "$RCPT" --count 5000 --tag t > "$WORK/acks" 2> "$WORK/acks.err" ||
	fail "gdb failed: $(tail -3 "$WORK/acks.err")"
grep -q '^Breakpoint 1,' "$WORK/acks" || die "the deliverer never flushed a commit in log file 2"
grep -q 'exited with code 0113' "$WORK/acks" ||
	fail "the deliverer did not end as on a panic (75): $(grep -i 'exited' "$WORK/acks")"
n=$(grep -c '^ok ' "$WORK/acks")
note "$n deliveries acknowledged before the panic"
"$TOOL" verify --config "$CONF" --user "$RCPT" --acked "$WORK/acks" --gapless ||
	fail "an acknowledged delivery is missing after recovery"

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
