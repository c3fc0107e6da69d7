#!/bin/sh
# `make install DESTDIR=...` lays out a package as a distribution would:
# programs (0755, none setuid: `pillarbox setup` does that), every man page
# in doc/, the sample config as pillarbox.conf and as a reference copy,
# systemd units, xinetd files, web server snippets and the fail2ban filter
# and jail with this build's paths
# (every ExecStart= and server = names an installed program; no @placeholder@
# left); a pillarbox.conf that exists is never overwritten; `make uninstall`
# removes everything but a changed pillarbox.conf.
# Runs `make` in $top_builddir (the tree is built by `make check` first).
set -u
: "${top_builddir:?top_builddir must be set (run through make check)}"
: "${top_srcdir:?top_srcdir must be set (run through make check)}"

n=0
failures=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $*"; }
expect() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got [$1], expected [$2]"; fi; }

base="$top_builddir/tests/store/tmp"
mkdir -p "$base" && chmod 755 "$top_builddir/tests/store" "$base"
T=$(mktemp -d "$base/install.XXXXXX") || exit 1
trap 'rm -rf "$T"; rmdir "$base" 2>/dev/null' EXIT
trap 'exit 1' INT TERM
D=$T/root

# A make of our own: not the jobserver of the `make check` that runs us.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
mk() { make -C "$top_builddir" "$@" >>"$T/make.log" 2>&1; }
printf 'print-%%:\n\t@echo $($*)\n' >"$T/print.mk"
# (the last line: a Makefile remade first may print more)
var() { make -s -C "$top_builddir" -f Makefile -f "$T/print.mk" "print-$1" 2>/dev/null | tail -n 1; }

prefix=$(var prefix)
sbindir=$(var sbindir)
pkglibexecdir=$(var pkglibexecdir)
sysconfdir=$(var sysconfdir)
pkgdatadir=$(var pkgdatadir)
mandir=$(var mandir)
unitdir=$(var systemdunitdir)
xinetddir=$(var xinetddir)
[ -n "$prefix" ] && [ -n "$unitdir" ] || { echo "FAIL: cannot read the Makefile's directories"; exit 1; }

if mk install DESTDIR="$D"; then ok "make install DESTDIR"; else
	not_ok "make install DESTDIR: $(tail -20 "$T/make.log")"
	echo "1..$n"; exit 1
fi

# ---- programs
for p in $(var sbin_PROGRAMS); do
	f=$D$sbindir/$(basename "$p")
	expect "$(stat -c %a "$f" 2>/dev/null)" 755 "$(basename "$p") in sbindir, 0755"
done
for p in $(var pkglibexec_PROGRAMS); do
	f=$D$pkglibexecdir/$(basename "$p")
	expect "$(stat -c %a "$f" 2>/dev/null)" 755 "$(basename "$p") in pkglibexecdir, 0755"
done
expect "$(find "$D" -perm /6000 | wc -l)" 0 "nothing setuid or setgid (pillarbox setup does that)"
expect "$(find "$D" -perm -o+w ! -type l | wc -l)" 0 "nothing writable by others"
if [ "$(id -u)" = 0 ]; then
	expect "$(find "$D" ! -user root | wc -l)" 0 "everything root's"
fi
outside=$(cd "$D" && find . -type f | sed 's|^\.||' | while read -r f; do
	case $f in "$prefix"/*|"$sysconfdir"/*) ;; *) echo "$f" ;; esac
done)
expect "$outside" "" "every file under the prefix or sysconfdir"

# ---- man pages: every page in doc/
for page in "$top_srcdir"/doc/*.[1-9]; do
	[ -f "$page" ] || continue
	name=$(basename "$page")
	section=${name##*.}
	expect "$(stat -c %a "$D$mandir/man$section/$name" 2>/dev/null)" 644 "man page $name installed"
done

# ---- configuration
conf=$D$sysconfdir/pillarbox/pillarbox.conf
sample=$D$pkgdatadir/pillarbox.conf.sample
expect "$(stat -c %a "$conf" 2>/dev/null)" 644 "pillarbox.conf installed, 0644"
if cmp -s "$conf" "$sample"; then ok "pillarbox.conf is the sample"; else not_ok "pillarbox.conf differs from the sample"; fi
if grep -q "^# $sysconfdir/pillarbox/pillarbox.conf" "$conf"; then
	ok "the sample names this build's config path"
else
	not_ok "the sample does not name $sysconfdir/pillarbox/pillarbox.conf"
fi

# ---- systemd units, xinetd files, snippets
units=0
for u in "$top_srcdir"/dist/systemd/*; do
	[ -f "$u" ] || continue
	units=$((units + 1))
	f=$D$unitdir/$(basename "$u")
	expect "$(stat -c %a "$f" 2>/dev/null)" 644 "unit $(basename "$u") installed"
done
[ "$units" -gt 0 ] || not_ok "no units in dist/systemd"
xinetd=0
for x in "$top_srcdir"/dist/xinetd.d/*; do
	[ -f "$x" ] || continue
	xinetd=$((xinetd + 1))
	expect "$(stat -c %a "$D$xinetddir/$(basename "$x")" 2>/dev/null)" 644 \
		"xinetd file $(basename "$x") installed"
done
for kind in apache nginx; do
	for s in "$top_srcdir"/dist/$kind/*.conf; do
		[ -f "$s" ] || continue
		expect "$(stat -c %a "$D$pkgdatadir/$kind/$(basename "$s")" 2>/dev/null)" 644 \
			"$kind snippet $(basename "$s") installed"
	done
done
for kind in filter.d jail.d; do
	for s in "$top_srcdir"/dist/fail2ban/$kind/*.conf; do
		[ -f "$s" ] || continue
		expect "$(stat -c %a "$D$pkgdatadir/fail2ban/$kind/$(basename "$s")" 2>/dev/null)" 644 \
			"fail2ban $kind/$(basename "$s") installed"
	done
done
left=$(grep -l '@[a-z_]*@' "$D$unitdir"/* "$D$xinetddir"/* "$D$pkgdatadir"/apache/* \
	"$D$pkgdatadir"/nginx/* "$conf" 2>/dev/null)
expect "$left" "" "no @placeholder@ left in installed files"
# The file each snippet says to include is where make install put it.
for kind in apache nginx; do
	for s in "$D$pkgdatadir"/$kind/*.conf; do
		[ -f "$s" ] || continue
		for inc in $(sed -n 's|^#[[:space:]]*[Ii]nclude[[:space:]]\{1,\}\(/[^;[:space:]]*\).*|\1|p' "$s"); do
			if [ -f "$D$inc" ]; then ok "$kind snippet: include $inc is installed"; else
				not_ok "$kind snippet says include $inc: not installed there"; fi
		done
	done
done
grep -q "pillarbox setup" "$T/make.log" && ok "make install says to run pillarbox setup" ||
	not_ok "make install does not say to run pillarbox setup (webmail.cgi is not setuid)"
# Every program a unit or an xinetd file starts is installed where it says.
progs=$( (grep -h '^Exec[A-Za-z]*=' "$D$unitdir"/* 2>/dev/null | sed 's/^[^=]*=[-@:+!]*//';
	  grep -h '^[[:space:]]*server[[:space:]]*=' "$D$xinetddir"/* 2>/dev/null |
		sed 's/^[^=]*=[[:space:]]*//') | awk '{print $1}' | sort -u)
[ -n "$progs" ] || not_ok "no ExecStart= or server = found"
for p in $progs; do
	if [ -x "$D$p" ]; then ok "started program $p is installed"; else not_ok "$p: not installed (a unit or xinetd file names it)"; fi
done

# ---- an existing pillarbox.conf is never overwritten
printf '# changed by the admin\nhostname = mail.example.test\n' >>"$conf"
cp "$conf" "$T/conf.changed"
if mk install DESTDIR="$D"; then ok "make install again"; else not_ok "make install again: $(tail -5 "$T/make.log")"; fi
if cmp -s "$conf" "$T/conf.changed"; then ok "an existing pillarbox.conf is kept"; else not_ok "pillarbox.conf was overwritten"; fi
grep -q "keeping the existing" "$T/make.log" && ok "make install says it kept it" || not_ok "make install did not say it kept pillarbox.conf"
if [ -f "$sample" ]; then ok "the new sample is installed beside it"; else not_ok "no sample beside"; fi

# ---- uninstall: all gone but the changed config
if mk uninstall DESTDIR="$D"; then ok "make uninstall"; else not_ok "make uninstall: $(tail -5 "$T/make.log")"; fi
expect "$(cd "$D" && find . -type f | sort)" "./${sysconfdir#/}/pillarbox/pillarbox.conf" \
	"uninstall leaves only the changed pillarbox.conf"
rm -f "$conf"
mk install DESTDIR="$D" && mk uninstall DESTDIR="$D"
expect "$(cd "$D" && find . -type f | wc -l)" 0 "uninstall of an unchanged install leaves no file"

echo "1..$n"
echo "$((n - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
