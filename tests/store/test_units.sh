#!/bin/sh
# `systemd-analyze verify` on every unit in dist/systemd/, as installed
# units would be checked, with each Exec*= program rewritten to the binary
# this build made (so a unit naming a program the build does not make
# fails) and the man pages of doc/ on MANPATH (so Documentation=man:... must
# name a page we ship). A unit passes when verify exits 0 and prints nothing
# about it: systemd reports unknown keys and bad values only as warnings.
# Skipped (77) where systemd-analyze is missing or cannot run (it needs no
# running systemd, but some sandboxes refuse what it does).
set -u
: "${top_builddir:?top_builddir must be set (run through make check)}"
: "${top_srcdir:?top_srcdir must be set (run through make check)}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (apt-get install systemd)"
	exit 77
fi

n=0
failures=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $*"; }

base="$top_builddir/tests/store/tmp"
mkdir -p "$base" && chmod 755 "$top_builddir/tests/store" "$base"
T=$(mktemp -d "$base/units.XXXXXX") || exit 1
trap 'rm -rf "$T"; rmdir "$base" 2>/dev/null' EXIT
trap 'exit 1' INT TERM
mkdir "$T/units" "$T/probe" "$T/man" || exit 1

# Can systemd-analyze verify anything here?
printf '[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n' >"$T/probe/probe.service"
if ! systemd-analyze verify --man=no "$T/probe/probe.service" >"$T/probe.out" 2>&1 ||
	[ -s "$T/probe.out" ]; then
	echo "SKIP: systemd-analyze verify cannot run here: $(head -3 "$T/probe.out")"
	exit 77
fi

# The man pages we ship, where man(1) will look for them.
man_opt=--man=no
if command -v man >/dev/null 2>&1; then
	for page in "$top_srcdir"/doc/*.[1-9]; do
		[ -f "$page" ] || continue
		section=${page##*.}
		mkdir -p "$T/man/man$section" && ln -s "$page" "$T/man/man$section/"
	done
	man_opt=--man=yes
else
	echo "# man(1) not installed: Documentation= pages not checked (apt-get install man-db)"
fi

# A program named by a unit, as this build made it: 'inetd/pop3d' etc.
built() {
	for dir in inetd cgi admin; do
		if [ -x "$top_builddir/$dir/$1" ] && [ -f "$top_builddir/$dir/$1" ]; then
			echo "$top_builddir/$dir/$1"
			return 0
		fi
	done
	return 1
}

count=0
for src in "$top_srcdir"/dist/systemd/*; do
	[ -f "$src" ] || continue
	name=$(basename "$src")
	count=$((count + 1))
	: >"$T/units/$name"
	bad=""
	while IFS= read -r line; do
		case $line in
		Exec*=*)
			key=${line%%=*}
			rest=${line#*=}
			flags=$(printf '%s' "$rest" | sed 's/^\([-@:+!]*\).*/\1/')
			rest=${rest#"$flags"}
			prog=${rest%% *}
			args=${rest#"$prog"}
			if path=$(built "$(basename "$prog")"); then
				line="$key=$flags$path$args"
			else
				bad="$bad $prog"
			fi
			;;
		esac
		printf '%s\n' "$line" >>"$T/units/$name"
	done <"$src"
	if [ -n "$bad" ]; then
		not_ok "$name runs what this build does not make:$bad"
	fi
done
[ "$count" -gt 0 ] || not_ok "no units in dist/systemd"

# Each unit on its own (its socket or service partner is found beside it).
for unit in "$T"/units/*; do
	[ -f "$unit" ] || continue
	name=$(basename "$unit")
	MANPATH="$T/man" systemd-analyze verify "$man_opt" "$unit" >"$T/out" 2>&1
	rc=$?
	about=$(grep -F -e "$name" -e "${name%%@*}@" "$T/out")
	if [ "$rc" = 0 ] && [ -z "$about" ]; then
		ok "systemd-analyze verify $name"
	else
		not_ok "systemd-analyze verify $name: exit $rc: $(cat "$T/out" | tr '\n' ' ')"
	fi
	# Lines about nothing of ours (the host's own units) are shown only.
	grep -v -F -e "$name" -e "${name%%@*}@" "$T/out" | sed 's/^/# /'
done

echo "1..$n"
echo "$((n - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
