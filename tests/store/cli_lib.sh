# Shared by the admin CLI tests (test_cli.sh, test_sieve_cli.sh; sh,
# sourced after setting NAME): TAP output (ok, not_ok, tap_end), `check`
# to run a command and keep its output, the expect_* comparisons, RUNAS
# (the store user, created as root if missing, as quickstart does), and T,
# a fresh directory inside the build tree the store user can reach, removed
# at exit.
set -u

: "${top_builddir:?top_builddir must be set (run through make check)}"
PB="$top_builddir/admin/pillarbox"
[ -x "$PB" ] || { echo "FAIL: $PB not built"; exit 1; }

n=0
failures=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $*"; }

# check DESCRIPTION EXPECTED_EXIT COMMAND...: runs the command (stdin as
# given to check), keeps stdout in $T/out and $out, stderr in $err.
check() {
	desc=$1 want=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	if [ "$got" -eq "$want" ]; then
		ok "$desc (exit $got)"
	else
		not_ok "$desc: exit $got, expected $want; stderr: $err"
	fi
}

# expect_out DESCRIPTION EXPECTED: compares $out with EXPECTED exactly.
expect_out() {
	if [ "$out" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1: got [$out], expected [$2]"
	fi
}

# expect_grep DESCRIPTION PATTERN TEXT
expect_grep() {
	if printf '%s\n' "$3" | grep -q -- "$2"; then
		ok "$1"
	else
		not_ok "$1: [$2] not in [$3]"
	fi
}

# expect_no_grep DESCRIPTION PATTERN TEXT
expect_no_grep() {
	if printf '%s\n' "$3" | grep -q -- "$2"; then
		not_ok "$1: [$2] in [$3]"
	else
		ok "$1"
	fi
}

# expect_same DESCRIPTION FILE: $T/out is FILE, byte for byte.
expect_same() {
	if cmp -s "$T/out" "$2"; then
		ok "$1"
	else
		not_ok "$1: $(cmp "$T/out" "$2" 2>&1)"
	fi
}

if [ "$(id -u)" -eq 0 ]; then
	if ! id pillarbox >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/lib/pillarbox \
			--shell /usr/sbin/nologin pillarbox || { echo "FAIL: useradd"; exit 1; }
	fi
	RUNAS=pillarbox
else
	RUNAS=$(id -un)
fi

# Temporary directories inside the build tree, reachable by the store user.
base="$top_builddir/tests/store/tmp"
mkdir -p "$base" && chmod 755 "$top_builddir/tests/store" "$base"
T=$(mktemp -d "$base/$NAME.XXXXXX") || exit 1
chmod 755 "$T"
trap 'rm -rf "$T"; rmdir "$base" 2>/dev/null' EXIT
trap 'exit 1' INT TERM

# The plan and the summary; the exit status says whether all passed.
tap_end() {
	echo "1..$n"
	echo "$((n - failures)) passed, $failures failed"
	[ "$failures" -eq 0 ]
}
