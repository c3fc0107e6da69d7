#!/bin/sh
# The connection limits of each service are the same under xinetd and
# systemd: every dist/xinetd.d/NAME has a dist/systemd/NAME.socket with
# Accept=yes, instances = MaxConnections=, per_source =
# MaxConnectionsPerSource=, and neither has a connection rate limit that
# one client's burst turns into an outage for everyone: systemd closes a
# socket for good past TriggerLimitBurst= (200 in 2 s by default for
# Accept=yes, refused connections counted), xinetd shuts a service for 10 s
# past cps (50 a second by default). Then, where xinetd is installed, a
# real xinetd runs a shipped service file (port, user and server replaced)
# and answers 80 connections made one after the other within a second.
set -u
: "${top_srcdir:?top_srcdir must be set (run through make check)}"

n=0
failures=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $*"; }
expect() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got [$1], expected [$2]"; fi; }

# key FILE NAME: the value of "NAME=" (unit) or "NAME = " (xinetd), last one.
key() { sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" | tail -n 1; }

count=0
for x in "$top_srcdir"/dist/xinetd.d/*; do
	[ -f "$x" ] || continue
	name=$(basename "$x")
	case $name in *.*|*~) continue ;; esac
	count=$((count + 1))
	s=$top_srcdir/dist/systemd/$name.socket
	if [ ! -f "$s" ]; then
		not_ok "xinetd.d/$name has no systemd/$name.socket"
		continue
	fi
	expect "$(key "$s" Accept)" yes "$name.socket: Accept=yes (xinetd: wait = no)"
	expect "$(key "$x" wait)" no "xinetd.d/$name: wait = no"
	expect "$(key "$x" instances)" "$(key "$s" MaxConnections)" \
		"$name: xinetd instances = systemd MaxConnections="
	expect "$(key "$x" per_source)" "$(key "$s" MaxConnectionsPerSource)" \
		"$name: xinetd per_source = systemd MaxConnectionsPerSource="
	if [ "$(key "$s" TriggerLimitBurst)" = 0 ] || [ "$(key "$s" TriggerLimitIntervalSec)" = 0 ]; then
		ok "$name.socket: no trigger limit"
	else
		not_ok "$name.socket: a burst of connections past TriggerLimitBurst= closes the port until restarted"
	fi
	expect "$(key "$x" cps)" "0 0" "xinetd.d/$name: cps = 0 0 (no 10 s shutdown after a burst)"
done
[ "$count" -gt 0 ] || not_ok "no files in dist/xinetd.d"

# A real xinetd with the shipped POP3 file.
if ! command -v xinetd >/dev/null 2>&1; then
	echo "# xinetd not installed: burst not tried (apt-get install xinetd)"
elif ! command -v python3 >/dev/null 2>&1; then
	echo "# python3 not installed: burst not tried"
else
	T=$(mktemp -d "${TMPDIR:-/tmp}/pb-limits.XXXXXX") || exit 1
	trap 'if [ -n "${xpid:-}" ]; then kill "$xpid" 2>/dev/null; fi; rm -rf "$T"' EXIT
	trap 'exit 1' INT TERM HUP
	mkdir "$T/xinetd.d"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# as a listed service on another port it would be refused: UNLISTED;
	# the service runs as whoever runs this (the store user may not exist)
	user_line="s/^{/{\\
	user = $(id -un)/"
	sed -e 's/^service .*/service pbburst/' \
	    -e "s/^{/{\\
	type = UNLISTED\\
	port = $port\\
	bind = 127.0.0.1/" \
	    -e '/^[[:space:]]*user[[:space:]]*=/d' -e '/^[[:space:]]*group[[:space:]]*=/d' \
	    -e "$user_line" \
	    -e '/^[[:space:]]*server_args[[:space:]]*=/d' \
	    -e 's|^[[:space:]]*server[[:space:]]*=.*|	server = /bin/echo\
	server_args = hello|' \
	    "$top_srcdir/dist/xinetd.d/pop3" >"$T/xinetd.d/pbburst"
	printf 'defaults\n{\n}\nincludedir %s/xinetd.d\n' "$T" >"$T/xinetd.conf"
	xinetd -dontfork -filelog "$T/xinetd.log" -f "$T/xinetd.conf" -pidfile "$T/pid" \
		</dev/null >/dev/null 2>&1 &
	xpid=$!
	python3 - "$port" <<'EOF' >"$T/burst.out" 2>&1
import socket, sys, time
port = int(sys.argv[1])
end = time.time() + 10
while True:   # xinetd listening?
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        break
    except OSError:
        if time.time() > end:
            print("xinetd does not listen"); sys.exit(1)
        time.sleep(0.1)
answered = 0
for i in range(80):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        answered += s.recv(16).startswith(b"hello")
        s.close()
    except OSError:
        pass
print("%d of 80 answered" % answered)
EOF
	expect "$(tail -n 1 "$T/burst.out")" "80 of 80 answered" \
		"xinetd with xinetd.d/pop3's limits answers a burst of 80 connections"
	grep -i 'deactivating' "$T/xinetd.log" 2>/dev/null | sed 's/^/# /'
fi

echo "1..$n"
echo "$((n - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
