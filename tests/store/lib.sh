# Shared by the store's multi-process tests (bash; sourced).
#
# Sets TOOL (the storetool binary), WORK (a fresh directory under
# $top_builddir/tests/tmp that the store user can reach), STORE_USER, and
# offers: make_store CONF DIR [config lines...], start PIDVAR OUTFILE CMD...,
# reap PID (sets REAPED to its exit status), alive PID, deadline helpers,
# fail MSG, note MSG. Every process a test starts is recorded in STARTED and
# killed by pid on exit.

set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
TOOL=$top_builddir/tests/store/storetool
TEST_NAME=$(basename "$0" .sh)
STARTED=""
FAILED=0

# fd 3 is the real stderr: the shell's own stderr goes to a file once WORK
# exists, so that bash's "Killed" notices for the processes a test kills on
# purpose do not clutter the log (other shell messages are shown at exit).
exec 3>&2
note() { printf '%s: %s\n' "$TEST_NAME" "$*"; }
fail() { printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&3; FAILED=1; }
die() { fail "$*"; exit 1; }

[ -x "$TOOL" ] || die "$TOOL is not built (make check builds it)"

now_ms() { date +%s%3N; }

cleanup() {
	local pid
	for pid in $STARTED; do
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -s "$WORK/shell.err" ]; then
		grep -v -E '^[^ ]+: line [0-9]+: +[0-9]+ (Killed|Terminated) ' "$WORK/shell.err" >&3
	fi
	if [ "$FAILED" = 0 ] && [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$WORK"
	else
		note "left $WORK for inspection"
	fi
}

# The store user: root switches to it (and it must exist); anyone else is it.
if [ "$(id -u)" = 0 ]; then
	STORE_USER=pillarbox
	if ! id "$STORE_USER" >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/lib/pillarbox \
			--shell /usr/sbin/nologin "$STORE_USER" || die "cannot create user $STORE_USER"
	fi
else
	STORE_USER=$(id -un)
fi

mkdir -p "$top_builddir/tests/tmp" || die "cannot create $top_builddir/tests/tmp"
chmod 755 "$top_builddir/tests" "$top_builddir/tests/tmp" 2>/dev/null
WORK=$(mktemp -d "$top_builddir/tests/tmp/$TEST_NAME.XXXXXX") || die "mktemp failed"
chmod 755 "$WORK"
exec 2>"$WORK/shell.err"
trap cleanup EXIT
trap 'exit 1' INT TERM

# make_store CONF DIR [extra config lines]: writes CONF and an empty store
# directory DIR owned by the store user; init is up to the caller.
make_store() {
	local conf=$1 dir=$2 line
	shift 2
	mkdir -p "$dir" || die "mkdir $dir"
	[ "$(id -u)" = 0 ] && chown "$STORE_USER:" "$dir"
	{
		echo "store = $dir"
		echo "user = $STORE_USER"
		echo "hostname = test.pillarbox.invalid"
		for line in "$@"; do echo "$line"; done
	} > "$conf"
	chmod 644 "$conf"
}

# start VAR OUT CMD...: runs CMD in the background, stdout to OUT and
# stderr to OUT.err; its pid goes to VAR and to STARTED.
start() {
	local var=$1 out=$2
	[ "$var" != var ] && [ "$var" != out ] || die "start: bad variable name"
	shift 2
	"$@" > "$out" 2> "$out.err" &
	STARTED="$STARTED $!"
	printf -v "$var" '%s' "$!"
}

alive() { kill -0 "$1" 2>/dev/null; }
# running PID: alive and not a zombie waiting to be reaped.
running() {
	alive "$1" && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

# reap PID: waits for a child, REAPED = its status (128+signal if killed).
# A reaped pid may be reused by anyone: it leaves STARTED.
reap() {
	REAPED=0
	wait "$1" || REAPED=$?
	STARTED=$(printf '%s\n' $STARTED | grep -v -x -F -- "$1" | tr '\n' ' ')
}

# wait_for_line FILE PATTERN SECONDS: until FILE has a line matching.
wait_for_line() {
	local file=$1 pattern=$2 deadline=$(( $(now_ms) + $3 * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

# wait_gone SECONDS PID...: until every PID has ended; 1 if some is alive.
wait_gone() {
	local deadline=$(( $(now_ms) + $1 * 1000 )) pid any
	shift
	while :; do
		any=0
		for pid in "$@"; do
			running "$pid" && any=1
		done
		[ "$any" = 0 ] && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

# end_stragglers SECONDS PID...: wait_gone, and when some PID is still
# running then, says where each one is blocked and kills it, so that a hung
# store process fails the test instead of hanging it. 1 if any was killed.
end_stragglers() {
	local seconds=$1 pid
	shift
	wait_gone "$seconds" "$@" && return 0
	for pid in "$@"; do
		running "$pid" || continue
		note "still running after $seconds s: pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
		note "  state $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)," \
			"waiting in $(cat "/proc/$pid/wchan" 2>/dev/null)," \
			"syscall $(cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null)"
		command -v gdb >/dev/null &&
			timeout 20 gdb -p "$pid" -batch -ex 'thread apply all bt' 2>/dev/null |
			grep '^#' | head -30 | sed 's/^/    /'
		kill -KILL "$pid" 2>/dev/null
	done
	return 1
}

# Describes an exit status.
status_name() {
	case $1 in
	0) echo "finished" ;;
	75) echo "temporary failure (75)" ;;
	137) echo "killed (SIGKILL)" ;;
	*) if [ "$1" -gt 128 ]; then echo "signal $(( $1 - 128 ))"; else echo "exit $1"; fi ;;
	esac
}
