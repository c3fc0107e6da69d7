#!/bin/bash
# `pillarbox setup` as root on a clean system: creates the store user and
# group (a throwaway name, removed afterwards), the store directory (2770,
# theirs) under parents that do not exist yet, the store itself, gives the
# TLS key to the group (0640) and makes the webmail CGI setuid to the user
# (4755, never root), names the per-name keys (tls_cert_dir) the user cannot
# read; a second run changes nothing; not root: exit 77.
# Skipped (77) unless run as root.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: setup creates a system user: run as root"
	exit 77
fi
. "$(dirname "$0")/lib.sh"

PB=$top_builddir/admin/pillarbox
SUSER=pbsetuptest
CONF=$WORK/pillarbox.conf
STORE=$WORK/var/lib/pillarbox
CGI=$WORK/libexec/webmail.cgi
[ -x "$PB" ] || die "$PB is not built"

remove_user() {
	if id "$SUSER" >/dev/null 2>&1; then userdel "$SUSER" 2>/dev/null; fi
	if getent group "$SUSER" >/dev/null; then groupdel "$SUSER" 2>/dev/null; fi
}
trap 'remove_user; cleanup' EXIT
remove_user
id "$SUSER" >/dev/null 2>&1 && die "cannot remove the leftover user $SUSER"

cat >"$CONF" <<EOF
hostname = setup.test
user = $SUSER
store = $STORE
tls_cert = $WORK/cert.pem
tls_key = $WORK/key.pem
password_cost = 1
EOF
chmod 644 "$CONF"
printf 'not really a key\n' >"$WORK/key.pem"
printf 'not really a certificate\n' >"$WORK/cert.pem"
chmod 600 "$WORK/key.pem"
chmod 644 "$WORK/cert.pem"
mkdir -p "$WORK/libexec"
cp /bin/true "$CGI"
chmod 755 "$CGI"

"$PB" --config "$CONF" setup --webmail-cgi "$CGI" >"$WORK/setup.out" 2>&1 ||
	fail "setup: exit $?: $(cat "$WORK/setup.out")"
id "$SUSER" >/dev/null 2>&1 || fail "setup did not create the user $SUSER"
uid=$(id -u "$SUSER")
[ "$uid" -lt 1000 ] || fail "$SUSER is not a system user (uid $uid)"
shell=$(getent passwd "$SUSER" | cut -d: -f7)
case $shell in */nologin|/bin/false) ;; *) fail "$SUSER has a login shell: $shell" ;; esac
[ "$(id -gn "$SUSER")" = "$SUSER" ] || fail "$SUSER's group is $(id -gn "$SUSER")"
[ "$(stat -c '%U:%G %a' "$STORE")" = "$SUSER:$SUSER 2770" ] ||
	fail "store directory: $(stat -c '%U:%G %a' "$STORE")"
[ -n "$(ls -A "$STORE")" ] || fail "the store was not created"
[ "$(find "$STORE" -user root | wc -l)" = 0 ] || fail "root-owned files in the store"
[ "$(stat -c '%U:%G %a' "$WORK/key.pem")" = "root:$SUSER 640" ] ||
	fail "TLS key: $(stat -c '%U:%G %a' "$WORK/key.pem")"
[ "$(stat -c '%U:%G %a' "$WORK/cert.pem")" = "root:root 644" ] || fail "the certificate was changed"
[ "$(stat -c '%U:%G %a' "$CGI")" = "$SUSER:$SUSER 4755" ] ||
	fail "webmail.cgi: $(stat -c '%U:%G %a' "$CGI")"
"$PB" --config "$CONF" store check >"$WORK/check.out" 2>&1 ||
	fail "store check after setup: $(cat "$WORK/check.out")"
"$PB" --config "$CONF" domain add setup.test >/dev/null 2>&1 || fail "the new store is not usable"

# Again: nothing to do, nothing changed.
before=$(stat -c '%U:%G %a %Y' "$STORE" "$WORK/key.pem" "$CGI"; ls -A "$STORE" | sort)
"$PB" --config "$CONF" setup --webmail-cgi "$CGI" >"$WORK/setup2.out" 2>&1 ||
	fail "setup again: exit $?: $(cat "$WORK/setup2.out")"
grep -q "already there" "$WORK/setup2.out" || fail "setup again: $(cat "$WORK/setup2.out")"
after=$(stat -c '%U:%G %a %Y' "$STORE" "$WORK/key.pem" "$CGI"; ls -A "$STORE" | sort)
[ "$before" = "$after" ] || fail "setup again changed something"
"$PB" --config "$CONF" domain list 2>/dev/null | grep -q '^setup.test$' ||
	fail "setup again lost the store's data"

# A key that is not root's is left alone, but one every user can read is
# named (whoever reads it can pose as the server).
chown nobody "$WORK/key.pem" && chmod 644 "$WORK/key.pem"
"$PB" --config "$CONF" setup --webmail-cgi "$CGI" >"$WORK/setup5.out" 2>&1 ||
	fail "setup with a user's key: $(cat "$WORK/setup5.out")"
grep -q "readable by every user" "$WORK/setup5.out" ||
	fail "a world-readable key was not named: $(cat "$WORK/setup5.out")"
[ "$(stat -c '%U %a' "$WORK/key.pem")" = "nobody 644" ] || fail "a user's key was changed"
chown root "$WORK/key.pem" && chmod 600 "$WORK/key.pem"

# Per-name keys (tls_cert_dir): each the store user cannot read is named;
# nothing there is changed.
mkdir -p "$WORK/certs/mail.a.example" "$WORK/certs/mail.b.example" "$WORK/certs/empty"
for n in a b; do
	printf 'chain\n' >"$WORK/certs/mail.$n.example/fullchain.pem"
	printf 'key\n' >"$WORK/certs/mail.$n.example/privkey.pem"
done
chmod 600 "$WORK/certs/mail.a.example/privkey.pem"
chgrp "$SUSER" "$WORK/certs/mail.b.example/privkey.pem"
chmod 640 "$WORK/certs/mail.b.example/privkey.pem"
echo "tls_cert_dir = $WORK/certs" >>"$CONF"
"$PB" --config "$CONF" setup --webmail-cgi "$CGI" >"$WORK/setup6.out" 2>&1 ||
	fail "setup with tls_cert_dir: $(cat "$WORK/setup6.out")"
grep -q "mail.a.example/privkey.pem: Permission denied" "$WORK/setup6.out" ||
	fail "an unreadable per-name key was not named: $(cat "$WORK/setup6.out")"
grep -q "mail.b.example\|empty" "$WORK/setup6.out" &&
	fail "a readable key or a directory without one was named: $(cat "$WORK/setup6.out")"
[ "$(stat -c '%U:%G %a' "$WORK/certs/mail.a.example/privkey.pem")" = "root:root 600" ] ||
	fail "a per-name key was changed"
chmod 700 "$WORK/certs"
"$PB" --config "$CONF" setup --webmail-cgi "$CGI" >"$WORK/setup7.out" 2>&1 ||
	fail "setup with a closed tls_cert_dir: $(cat "$WORK/setup7.out")"
grep -q "tls_cert_dir .*Permission denied" "$WORK/setup7.out" ||
	fail "an unreadable tls_cert_dir was not named: $(cat "$WORK/setup7.out")"
sed -i '/^tls_cert_dir/d' "$CONF"

# A missing CGI is no error; not root is.
"$PB" --config "$CONF" setup --webmail-cgi "$WORK/nowhere.cgi" >"$WORK/setup3.out" 2>&1 ||
	fail "setup without a CGI: $(cat "$WORK/setup3.out")"
grep -q "not installed" "$WORK/setup3.out" || fail "setup without a CGI says: $(cat "$WORK/setup3.out")"
if command -v setpriv >/dev/null; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PB" --config "$CONF" setup \
		--webmail-cgi "$CGI" >"$WORK/setup4.out" 2>&1
	rc=$?
	[ "$rc" = 77 ] || fail "setup as nobody: exit $rc, expected 77: $(cat "$WORK/setup4.out")"
fi
"$PB" --config "$CONF" setup --frob >/dev/null 2>&1
rc=$?
[ "$rc" = 64 ] || fail "setup with a bad option: exit $rc, expected 64"

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
