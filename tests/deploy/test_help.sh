#!/bin/sh
# Every program `make install` installs answers the shared command-line
# conventions (store/cli.h):
#   --help      usage on stdout (first line "Usage: NAME ..."), nothing on
#               stderr, exit 0
#   --version   exactly "NAME (Pillarbox) PACKAGE_VERSION" on stdout, exit 0
#   a bad option  nothing on stdout; on stderr "NAME: ..." naming the option
#               and "Try 'NAME --help'.", exit 64 (EX_USAGE)
# The list of programs comes from the build (`make print-programs`, from
# the *_PROGRAMS and *_SCRIPTS install variables of the .mk fragments), so a
# program added without these options fails here. Each program runs with a
# configuration file that does not exist: answering must not need one, nor
# the store. Also: `pillarbox NOUN --help` and `pillarbox NOUN VERB --help`
# for every command its --help lists, every help line fitting 80 columns,
# and webmail.cgi ignoring its arguments under a web server
# (GATEWAY_INTERFACE set).
set -u
: "${top_builddir:?top_builddir must be set (run through make check)}"
: "${top_srcdir:?top_srcdir must be set (run through make check)}"

n=0
failures=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $*"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/pb-help.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

version=$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")
if [ -z "$version" ]; then
	echo "Bail out! no PACKAGE_VERSION in $top_builddir/Makefile"
	exit 1
fi

# The installed programs. -o Makefile: never regenerate the build's
# Makefile from here (make check may be running in it).
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -o Makefile \
	-C "$top_builddir" print-programs >"$T/programs" 2>"$T/programs.err"; then
	echo "Bail out! make print-programs failed: $(cat "$T/programs.err")"
	exit 1
fi
if ! [ -s "$T/programs" ]; then
	echo "Bail out! make print-programs listed no program"
	exit 1
fi
echo "# programs: $(tr '\n' ' ' <"$T/programs")"

# run NAME ARGS...: runs the program with no configuration to find and no
# web server around it; sets rc, and leaves $T/out and $T/err.
run() {
	env -u GATEWAY_INTERFACE PILLARBOX_CONF="$T/none/pillarbox.conf" \
		timeout 20 "$@" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
}
show() { printf '%s' "rc=$rc stdout=[$(head -c 300 "$T/out")] stderr=[$(head -c 300 "$T/err")]"; }

# check_usage_error NAME TOPIC: the last run was a usage error of NAME;
# TOPIC is the noun for "Try 'pillarbox NOUN --help'." (or empty).
check_usage_error() {
	label=$1
	try="Try '$2 --help'."
	if [ "$rc" -eq 64 ] && ! [ -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 2 ] &&
		head -n1 "$T/err" | grep -q -- "^${3:-$2}: .*--no-such-option" &&
		[ "$(sed -n 2p "$T/err")" = "$try" ]; then
		ok "$label: exit 64, one line and \"$try\" on stderr"
	else
		not_ok "$label: $(show)"
	fi
}

# check_width LABEL: no line of the last run's stdout is over 80 columns
# (bytes: a terminal of 80 shows it unbroken).
check_width() {
	wide=$(LC_ALL=C awk 'length($0) > 80 { print length($0) ": " $0; exit }' "$T/out")
	if [ -z "$wide" ]; then
		ok "$1: every line fits 80 columns"
	else
		not_ok "$1: a line of $wide"
	fi
}

while IFS= read -r rel; do
	prog=$top_builddir/$rel
	[ -f "$prog" ] || prog=$top_srcdir/$rel
	name=$(basename "$rel")
	if ! [ -x "$prog" ]; then
		not_ok "$name: $rel is not built"
		continue
	fi

	run "$prog" --help
	if [ "$rc" -eq 0 ] && ! [ -s "$T/err" ] &&
		head -n1 "$T/out" | grep -qi "^usage: $name\( \|$\)" &&
		grep -q -- "--help" "$T/out" && grep -q -- "--version" "$T/out"; then
		ok "$name --help: usage on stdout, exit 0"
	else
		not_ok "$name --help: $(show)"
	fi
	check_width "$name --help"

	run "$prog" --version
	if [ "$rc" -eq 0 ] && ! [ -s "$T/err" ] &&
		[ "$(cat "$T/out")" = "$name (Pillarbox) $version" ] && [ "$(wc -l <"$T/out")" -eq 1 ]; then
		ok "$name --version: \"$name (Pillarbox) $version\", exit 0"
	else
		not_ok "$name --version (want \"$name (Pillarbox) $version\"): $(show)"
	fi

	run "$prog" --no-such-option
	check_usage_error "$name --no-such-option" "$name"

	case "$name" in
	*.cgi)
		# Under a web server the arguments are an ISINDEX query, not
		# options: a CGI response comes out, never the version.
		env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET PATH_INFO=/ \
			PILLARBOX_CONF="$T/none/pillarbox.conf" timeout 20 "$prog" --version \
			</dev/null >"$T/out" 2>"$T/err"
		rc=$?
		if head -n1 "$T/out" | grep -q '^Status: ' && ! grep -q "(Pillarbox)" "$T/out"; then
			ok "$name under a web server ignores its arguments"
		else
			not_ok "$name under a web server answered its arguments: $(show)"
		fi
		;;
	pillarbox)
		# Every noun and verb its --help lists ("  noun verb ARGS  text").
		run "$prog" --help
		sed -n '/^Commands:/,/^$/p' "$T/out" | sed -n 's/^  \([a-z]\{1,\}\)\( [a-z]\{1,\}\)\{0,1\} .*/\1\2/p' \
			>"$T/commands"
		if [ "$(wc -l <"$T/commands")" -lt 5 ]; then
			not_ok "pillarbox --help lists its commands: $(cat "$T/commands")"
		fi
		for noun in $(cut -d' ' -f1 "$T/commands" | uniq); do
			run "$prog" "$noun" --help
			if [ "$rc" -eq 0 ] && ! [ -s "$T/err" ] &&
				head -n1 "$T/out" | grep -q "^Usage: pillarbox \[--config FILE\] $noun"; then
				ok "pillarbox $noun --help"
			else
				not_ok "pillarbox $noun --help: $(show)"
			fi
			check_width "pillarbox $noun --help"
			# A noun with verbs: a bad one is a usage error of the noun.
			if grep -q "^$noun [a-z]" "$T/commands"; then
				run "$prog" "$noun" --no-such-option
				check_usage_error "pillarbox $noun --no-such-option" "pillarbox $noun" pillarbox
			fi
		done
		while read -r noun verb; do
			[ -n "$verb" ] || continue
			run "$prog" "$noun" "$verb" --help
			if [ "$rc" -eq 0 ] && ! [ -s "$T/err" ] && grep -q "^  $noun $verb" "$T/out"; then
				ok "pillarbox $noun $verb --help"
			else
				not_ok "pillarbox $noun $verb --help: $(show)"
			fi
		done <"$T/commands"
		;;
	esac
done <"$T/programs"

echo "1..$n"
[ "$failures" -eq 0 ] || { echo "# $failures of $n failed"; exit 1; }
exit 0
