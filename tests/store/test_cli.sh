#!/bin/sh
# End-to-end test of the admin CLI `pillarbox` on a fresh store: help and
# usage errors, store init (as root: the directory made for the store user),
# domains, users (passwords from stdin), aliases (a domain alias too),
# deliver + mailbox list, quota, exit codes, check/stats/maintain/backup/
# restore, DKIM keys (a pending key, --activate, --delete [--pending],
# carried by backup/restore).
# Needs $top_builddir (set by `make check`). As root it runs the store as user
# `pillarbox` (created here if missing, as quickstart does).
NAME=cli
. "$(dirname "$0")/cli_lib.sh"

TAB=$(printf '\t')
conf="$T/pillarbox.conf"
cat >"$conf" <<EOF
hostname = mail.example.test
user = $RUNAS
store = $T/store/sub
max_message_size = 64K
watchdog_seconds = 60
password_cost = 1
EOF
chmod 644 "$conf"
pb() { "$PB" --config "$conf" "$@"; }

# ---- help, version, usage errors (no store needed)
check "--help" 0 "$PB" --help
expect_grep "--help shows the synopsis" "Usage: pillarbox \[--config FILE\] NOUN VERB" "$out"
expect_grep "--help documents exit codes" "75  temporary failure" "$out"
expect_grep "--help lists mailbox list" "mailbox list USER" "$out"
check "--version" 0 "$PB" --version
expect_grep "--version prints the version" "^pillarbox (Pillarbox) [0-9]" "$out"
check "user --help" 0 "$PB" user --help
expect_grep "user --help lists passwd" "user passwd ADDRESS" "$out"
check "no command" 64 "$PB"
check "unknown command" 64 "$PB" frobnicate
check "unknown option" 64 "$PB" --frob store init
check "missing verb" 64 pb user
check "unknown verb" 64 pb user frob
check "missing argument" 64 pb user add
check "too many arguments" 64 pb domain add a.test b.test
check "--config without a file" 64 "$PB" --config
check "missing config file" 78 "$PB" --config "$T/nonexistent.conf" domain list
expect_grep "missing config names the file" "nonexistent.conf: No such file" "$err"
printf 'max_message_size = lots\n' >"$T/bad.conf"
chmod 644 "$T/bad.conf"
check "bad config value" 78 "$PB" --config "$T/bad.conf" domain list
expect_grep "bad config: FILE:LINE: what" "bad.conf:1: max_message_size: expected a size" "$err"

# ---- store init
check "store init" 0 pb store init
check "queue list" 0 pb queue list
check "queue delete bad id" 65 pb queue delete 0123
check "queue show unknown" 65 pb queue show 00000000000000000000000000000000
check "queue flush unknown" 65 pb queue flush 00000000000000000000000000000000
expect_grep "queue flush unknown says so" "^pillarbox: 00000000000000000000000000000000: no such queue entry\$" "$err"
check "queue flush of an empty queue" 0 pb queue flush
if [ "$(id -u)" -eq 0 ]; then
	perms=$(stat -c '%U:%G %a' "$T/store/sub")
	if [ "$perms" = "pillarbox:pillarbox 2770" ]; then
		ok "store directory owned by pillarbox, mode 2770"
	else
		not_ok "store directory: $perms"
	fi
	root_files=$(find "$T/store/sub" -user root | wc -l)
	if [ "$root_files" -eq 0 ]; then ok "no file in the store is root's"; else not_ok "$root_files root-owned files"; fi
fi
check "store init again refuses" 73 pb store init

# ---- domains
check "domain add" 0 pb domain add example.test
expect_grep "domain add says postmaster needs an alias or the postmaster key" \
	"^pillarbox: postmaster@example.test must reach a person: pillarbox alias add postmaster@example.test ADDRESS, or set postmaster in $conf\$" "$err"
check "domain add again" 65 pb domain add example.test
expect_grep "domain add again names the domain once" "^pillarbox: domain example.test exists already\$" "$err"
check "domain add second" 0 pb domain add other.test
check "domain list" 0 pb domain list
expect_out "domain list output" "example.test
other.test"
# a typo in the configuration is shown at the terminal, not only in syslog
{ cat "$conf"; echo "max_mesage_size = 10M"; } >"$T/typo.conf"
chmod 644 "$T/typo.conf"
check "a configuration with an unknown key still works" 0 "$PB" --config "$T/typo.conf" domain list
expect_grep "... and the unknown key is named on stderr, as the tool's other messages" \
	"^pillarbox: warning: .*typo.conf:7: unknown key \"max_mesage_size\" ignored: did you mean \"max_message_size\"?\$" "$err"

# ---- users
check "user add (password from stdin)" 0 sh -c 'printf "first secret\n" | "$@"' sh \
	"$PB" --config "$conf" user add bob@example.test
expect_no_grep "a password of 12 characters: no warning" "warning" "$err"
check "user add with a short password works" 0 sh -c 'printf "x\n" | "$@"' sh \
	"$PB" --config "$conf" user add short@example.test
expect_grep "... with a warning" \
	"^pillarbox: warning: the password is 1 character long; the webmail asks users for at least 10\$" "$err"
check "user add --name with a control character is refused before the password" 65 \
	pb user add named@example.test --name "$(printf 'Ann\tLee')" </dev/null
expect_grep "... saying why" "^pillarbox: --name: the name must be one line of text" "$err"
check "user add --name without a name is a usage error" 64 pb user add named@example.test --name
check "user add --name" 0 sh -c 'printf "named secret\n" | "$@"' sh \
	"$PB" --config "$conf" user add named@example.test --name "Ann Lee"
check "user del named" 0 pb user del named@example.test
check "user sent of a user who sent nothing" 0 pb user sent bob@example.test
expect_out "... prints the count and the limit (none set)" "0${TAB}unlimited"
check "user sent --reset" 0 pb user sent bob@example.test --reset
check "user sent of nobody" 67 pb user sent nobody@example.test
check "user sent with a stray argument" 64 pb user sent bob@example.test --force
# ten wrong passwords throttle an address (and count against the client's
# IP); user unlock lets its right password in at once, and says so
login_bob() {
	PILLARBOX_AUTH_DELAY_MS=0 "$top_builddir/tests/store/storetool" status --config "$conf" \
		--user bob@example.test --password "$1" --quiet
}
for i in 1 2 3 4 5 6 7 8 9 10; do login_bob wrong 2>/dev/null; done
check "ten wrong passwords: the right one is refused too" 1 login_bob "first secret"
expect_grep "... as throttled" "try again later" "$err"
check "user unlock" 0 pb user unlock BOB@example.test
expect_grep "... says the address may log in again" \
	"^pillarbox: BOB@example.test may log in again at once (1 failed-login count removed)\$" "$err"
check "... and the right password works again" 0 login_bob "first secret"
check "user unlock with nothing counted" 0 pb user unlock bob@example.test
expect_grep "... says there was nothing to unlock" "had no failed logins counted" "$err"
check "user unlock --ip of a client" 0 pb user unlock bob@example.test --ip 2001:db8::1
check "user unlock --ip of no IP address" 65 pb user unlock bob@example.test --ip localhost
expect_grep "... naming it" "^pillarbox: localhost: not an IP address\$" "$err"
check "user unlock of no address" 65 pb user unlock "not an address"
check "user unlock with a stray argument" 64 pb user unlock bob@example.test --force
# a new SRS secret; the old one's addresses verify for 21 days, or not
check "srs rotate" 0 pb srs rotate
expect_grep "... says until when the old addresses are accepted" \
	"^pillarbox: new SRS secret: bounces to addresses made with the old one are accepted until 20[0-9-]* [0-9:]* UTC, then refused\$" "$err"
check "srs rotate again" 0 pb srs rotate
expect_grep "... says the secret before is dropped" "the secret before the old one, which still verified, is dropped" "$err"
check "srs rotate --drop-previous" 0 pb srs rotate --drop-previous
expect_grep "... says they are refused now" "made with the old one are refused from now on" "$err"
check "srs rotate with a stray argument" 64 pb srs rotate --force
for i in 1 2 3 4 5 6 7 8 9 10; do login_bob wrong 2>/dev/null; done
check "user passwd of a throttled address" 0 sh -c 'printf "first secret\n" | "$@"' sh \
	"$PB" --config "$conf" user passwd bob@example.test
expect_grep "... forgets its failed logins" "its failed logins are forgotten" "$err"
check "... so its new password works at once" 0 login_bob "first secret"
# at a terminal (script(1) gives it one) user del says what goes and asks
check "user del at a terminal, answered n" 65 sh -c 'printf "n\n" | script -qec "$*" /dev/null' sh \
	"$PB" --config "$conf" user del short@example.test
expect_grep "... asks first, saying what goes" \
	"Delete short@example.test and all their mail (0 messages, 0 bytes)? This cannot be undone. \[y/N\]" "$out"
expect_grep "... and keeps the user" "pillarbox: user short@example.test kept" "$out"
check "... who is still there" 0 sh -c '"$@" | grep -q "^short@example.test"' sh "$PB" --config "$conf" user list
check "user del with a stray argument" 64 pb user del short@example.test --force
check "user del at a terminal, answered y" 0 sh -c 'printf "y\n" | script -qec "$*" /dev/null' sh \
	"$PB" --config "$conf" user del short@example.test
expect_grep "... deletes" "user short@example.test deleted, with all their mail" "$out"
check "user add short again" 0 sh -c 'printf "x\n" | "$@"' sh \
	"$PB" --config "$conf" user add short@example.test
check "user del --yes at a terminal asks nothing" 0 sh -c 'script -qec "$*" /dev/null </dev/null' sh \
	"$PB" --config "$conf" user del short@example.test --yes
expect_no_grep "... no question" "Delete short" "$out"
check "user add again" 65 sh -c 'printf "x\n" | "$@"' sh "$PB" --config "$conf" user add bob@example.test
expect_grep "user add again names the address once" "^pillarbox: user bob@example.test exists already\$" "$err"
# The address is checked before the password is asked: stdin at its end
# would give "empty password refused".
check "user add of an existing user, no input" 65 "$PB" --config "$conf" user add bob@example.test </dev/null
expect_grep "existing user refused before the password" "^pillarbox: user bob@example.test exists already\$" "$err"
check "user add of an invalid address, no input" 65 "$PB" --config "$conf" user add bad-address </dev/null
expect_grep "invalid address refused before the password" "^pillarbox: bad-address: invalid address\$" "$err"
check "user add of an invalid local part, no input" 65 "$PB" --config "$conf" user add 'a b@example.test' </dev/null
expect_grep "invalid local part refused before the password" "^pillarbox: a b@example.test: invalid address\$" "$err"
check "user add in a foreign domain, no input" 65 "$PB" --config "$conf" user add eve@elsewhere.test </dev/null
expect_grep "foreign domain refused before the password" "^pillarbox: domain elsewhere.test is not a local domain\$" "$err"
check "user add in a foreign domain" 65 sh -c 'printf "x\n" | "$@"' sh \
	"$PB" --config "$conf" user add eve@elsewhere.test
check "user add with an empty password" 65 sh -c 'printf "\n" | "$@"' sh \
	"$PB" --config "$conf" user add carol@example.test
check "user add with no input" 65 "$PB" --config "$conf" user add carol@example.test </dev/null
check "user add with a hash from stdin" 0 sh -c 'printf "%s\n" "$0" | "$@"' \
	'$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1' \
	"$PB" --config "$conf" user add carol@example.test --hash
check "user add with a bad hash" 65 sh -c 'printf "plaintext\n" | "$@"' sh \
	"$PB" --config "$conf" user add dave@example.test --hash
check "user list" 0 pb user list
expect_out "user list output" "bob@example.test${TAB}enabled${TAB}0${TAB}0${TAB}0${TAB}0
carol@example.test${TAB}enabled${TAB}0${TAB}0${TAB}0${TAB}0"
check "user list of a domain" 0 pb user list other.test
expect_out "user list of an empty domain" ""
check "user list of a foreign domain" 65 pb user list nowhere.test
check "user passwd from stdin" 0 sh -c 'printf "second secret\r\n" | "$@"' sh \
	"$PB" --config "$conf" user passwd bob@example.test
check "user passwd of an unknown user" 67 sh -c 'printf "x\n" | "$@"' sh \
	"$PB" --config "$conf" user passwd nobody@example.test
check "user passwd of an unknown user, no input" 67 "$PB" --config "$conf" user passwd nobody@example.test </dev/null
expect_grep "unknown user refused before the password" "^pillarbox: nobody@example.test: no such user\$" "$err"
long=$(head -c 600 /dev/zero | tr '\0' 'p')
check "user passwd too long" 65 sh -c 'printf "%s\n" "$0" | "$@"' "$long" \
	"$PB" --config "$conf" user passwd bob@example.test
check "domain del refused while users exist" 65 pb domain del example.test
expect_grep "domain del says how many users" \
	"^pillarbox: domain example.test still has 2 users: delete them first\$" "$err"

# ---- aliases
check "alias add" 0 pb alias add postmaster@example.test bob@example.test carol@example.test
expect_no_grep "alias add to users: no warning" "warning" "$err"
check "alias list" 0 pb alias list
expect_out "alias list output" "postmaster@example.test${TAB}bob@example.test
postmaster@example.test${TAB}carol@example.test"
pb store stats >"$T/out" 2>&1
expect_grep "stats count each target of an alias" "^aliases.db records: 2\$" "$(cat "$T/out")"
check "alias del one target" 0 pb alias del postmaster@example.test carol@example.test
check "domain del refused while users and an alias exist" 65 pb domain del example.test
expect_grep "domain del counts users and aliases, singular and plural" \
	"^pillarbox: domain example.test still has 2 users and 1 alias: delete them first\$" "$err"
check "alias list after del" 0 pb alias list
expect_out "alias list shows the rest" "postmaster@example.test${TAB}bob@example.test"
# A local target that is nobody is said (the admin may create it next);
# a remote one is not checked.
check "alias add to a local nobody" 0 pb alias add x@example.test ghost@example.test
expect_grep "it is said: mail to the alias is refused" \
	"^pillarbox: warning: ghost@example.test is no user or alias here: mail to x@example.test will be refused until that user or alias exists\$" "$err"
check "alias add to a user and a local nobody" 0 pb alias add y@example.test bob@example.test ghost@example.test
expect_grep "the nobody gets nothing, the alias works" \
	"^pillarbox: warning: ghost@example.test is no user or alias here: it gets none of the mail to y@example.test until that user or alias exists\$" "$err"
check "alias add to a remote address" 0 pb alias add z@example.test someone@remote.test
expect_no_grep "a remote target: no warning" "warning" "$err"
check "alias del of the three" 0 sh -c '"$@" x@example.test && "$@" y@example.test && "$@" z@example.test' \
	sh "$PB" --config "$conf" alias del
# An alias on a user's own address takes its mail: said, with the way to
# keep a copy; not said once the user is a target too
check "alias add on a user's address" 0 pb alias add bob@example.test carol@example.test
expect_grep "it is said that the alias takes the user's mail" \
	"^pillarbox: warning: bob@example.test is a user: the alias takes its mail, which now goes to the alias's targets and not to that mailbox; to keep a copy there: pillarbox alias add bob@example.test bob@example.test\$" "$err"
check "alias add of the user to its own alias" 0 pb alias add bob@example.test bob@example.test
expect_no_grep "the user keeps a copy: no warning" "warning" "$err"
check "alias del of it" 0 pb alias del bob@example.test
# ... and a user added where an alias already is
check "alias add before the user" 0 pb alias add later@example.test bob@example.test
check "user add where an alias is" 0 sh -c 'printf "a long secret\n" | "$@"' sh \
	"$PB" --config "$conf" user add later@example.test
expect_grep "it is said that the alias takes the new user's mail" \
	"^pillarbox: warning: an alias of later@example.test takes the mail to this address: the new mailbox gets none of it until the alias names it too (pillarbox alias add later@example.test later@example.test) or is deleted (pillarbox alias del later@example.test)\$" "$err"
check "cleaned up" 0 sh -c '"$@" alias del later@example.test && "$@" user del later@example.test' \
	sh "$PB" --config "$conf"

# ---- deliver and mailbox list
msg='From: Alice <alice@remote.test>
To: bob@example.test
Subject: hello

Hi Bob.
'
check "deliver" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver -f alice@remote.test bob@example.test
check "mailbox list" 0 pb mailbox list bob@example.test
inbox=$(printf '%s\n' "$out" | grep "^INBOX$TAB")
messages=$(printf '%s' "$inbox" | cut -f2)
unseen=$(printf '%s' "$inbox" | cut -f3)
bytes=$(printf '%s' "$inbox" | cut -f4)
if [ "$messages" = 1 ] && [ "$unseen" = 1 ] && [ "${bytes:-0}" -ge 82 ]; then
	ok "INBOX has the message: $inbox"
else
	not_ok "INBOX line: [$inbox]"
fi
for box in Sent Drafts Trash Junk Archive; do
	expect_grep "mailbox $box exists and is empty" "^$box${TAB}0${TAB}0${TAB}0\$" "$out"
done
check "deliver through an alias" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver postmaster@example.test
check "deliver mbox From line, CRLF input" 0 sh -c 'printf "From alice@remote.test Mon Jan  1 00:00:00 2024\r\nSubject: x\r\n\r\nbody\r\n" | "$@"' \
	sh "$PB" --config "$conf" deliver bob@example.test
pb mailbox list bob@example.test >"$T/out" 2>&1
expect_grep "INBOX now has three" "^INBOX${TAB}3${TAB}3${TAB}" "$(cat "$T/out")"
# a domain alias: every address at other.test is the same one at example.test
check "alias add of a domain to a domain" 0 pb alias add @other.test @example.test
expect_no_grep "a domain alias: no warning" "warning" "$err"
check "alias add of a domain to an address refused" 65 pb alias add bob@other.test @example.test
expect_grep "says a domain leads only from a domain" "can only be the target of a domain" "$err"
check "alias add of a domain to a domain not local refused" 65 pb alias add @other.test @remote.test
check "deliver through the domain alias" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver CAROL@other.test
pb mailbox list carol@example.test >"$T/out" 2>&1
expect_grep "carol@example.test got it" "^INBOX${TAB}1${TAB}1${TAB}" "$(cat "$T/out")"
check "deliver to nobody through the domain alias" 67 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver nobody@other.test
check "store check with a domain alias" 0 pb store check
check "alias del of the domain alias" 0 pb alias del @other.test @example.test
check "deliver to an unknown user" 67 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver nobody@example.test
check "deliver to a foreign domain" 67 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver bob@elsewhere.test
check "deliver a message with a NUL byte" 65 sh -c 'printf "Subject: x\n\n\000\n" | "$@"' \
	sh "$PB" --config "$conf" deliver bob@example.test
check "deliver an empty message" 65 "$PB" --config "$conf" deliver bob@example.test </dev/null
head -c 70000 /dev/zero | tr '\0' 'x' >"$T/big"
check "deliver over max_message_size" 65 "$PB" --config "$conf" deliver bob@example.test <"$T/big"
check "deliver with a bad address" 65 "$PB" --config "$conf" deliver 'bob example.test' </dev/null
check "deliver usage" 64 pb deliver
check "mailbox list of an unknown user" 67 pb mailbox list nobody@example.test

# ---- quota
check "user quota" 0 pb user quota bob@example.test 10 5
check "user quota shown in list" 0 pb user list example.test
expect_grep "quota in user list" "^bob@example.test${TAB}enabled${TAB}3${TAB}[0-9]*${TAB}5${TAB}10\$" "$out"
check "deliver over quota" 73 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver bob@example.test
expect_grep "over quota names the address once" "^pillarbox: bob@example.test: quota exceeded: " "$err"
check "user quota keeps MESSAGES when omitted" 0 pb user quota bob@example.test 1M
pb user list example.test >"$T/out" 2>&1
expect_grep "quota bytes with suffix" "^bob@example.test${TAB}enabled${TAB}3${TAB}[0-9]*${TAB}5${TAB}1048576\$" "$(cat "$T/out")"
check "user quota bad size" 64 pb user quota bob@example.test lots
check "user quota unknown user" 67 pb user quota nobody@example.test 0
check "user quota unlimited" 0 pb user quota bob@example.test 0 0

# ---- disable / enable
check "user disable" 0 pb user disable bob@example.test
pb user list example.test >"$T/out" 2>&1
expect_grep "disabled in list" "^bob@example.test${TAB}disabled${TAB}" "$(cat "$T/out")"
check "user enable" 0 pb user enable bob@example.test
check "user disable unknown" 67 pb user disable nobody@example.test
expect_grep "user disable unknown names the address once" "^pillarbox: no such user nobody@example.test\$" "$err"

# ---- store maintenance
check "store stats" 0 pb store stats
expect_grep "stats are key: value lines" "^[a-z_ ]*: " "$out"
# Counted, not the zero a fast stat gives: bob and carol; a queue too.
expect_grep "stats count the users" "^accounts.db users: 2\$" "$out"
expect_grep "stats count the addresses" "^accounts.db addresses: 2\$" "$out"
expect_grep "stats count the quota records" "^quota.db records: 2\$" "$out"
# tests/bench/bench_store.sh reads these by name.
for name in "log flushes" "log bytes written" "log bytes since checkpoint" "lock waits"; do
	expect_grep "stats show $name" "^$name: [0-9][0-9]*\$" "$out"
done
# env/FORMAT spares a process opening meta.db for the format version; a
# store without it (made before it existed) is read from meta.db's record,
# and `store maintain` writes the file again.
format_file=$T/store/sub/env/FORMAT
out=$(cat "$format_file" 2>&1)
expect_out "store init writes env/FORMAT" 2
rm -f "$format_file"
check "a store without env/FORMAT opens" 0 pb mailbox list bob@example.test
out=$(cat "$format_file" 2>&1)
expect_grep "opening the store leaves env/FORMAT to maintain" "No such file" "$out"
check "store maintain" 0 pb store maintain
out=$(cat "$format_file" 2>&1)
expect_out "store maintain writes env/FORMAT again" 2
check "store check" 0 pb store check
check "store backup" 0 pb store backup "$T/backup/one"
check "store backup into a non-empty dir" 73 pb store backup "$T/backup/one"
expect_grep "store backup wants a new or empty dir" "a backup needs a new or empty directory\$" "$err"
mkdir "$T/backup/empty"
check "store backup into an empty dir" 0 pb store backup "$T/backup/empty"
sed "s|^store = .*|store = $T/restored|" "$conf" >"$T/restored.conf"
chmod 644 "$T/restored.conf"
check "store restore" 0 "$PB" --config "$T/restored.conf" store restore "$T/backup/one"
check "restored store lists the mailbox" 0 "$PB" --config "$T/restored.conf" mailbox list bob@example.test
expect_grep "restored INBOX" "^INBOX${TAB}3${TAB}" "$out"
out=$(cat "$T/restored/env/FORMAT" 2>&1)
expect_out "backup and restore keep env/FORMAT" 2

# ---- deleting
check "alias del all" 0 pb alias del postmaster@example.test
check "alias del again" 65 pb alias del postmaster@example.test
pb alias add info@other.test BOB@example.test >/dev/null 2>&1
check "user del" 0 pb user del bob@example.test
expect_grep "user del names the alias left pointing at the user" \
	"^pillarbox: alias info@other.test -> BOB@example.test is left (a new user BOB@example.test would get its mail): pillarbox alias del info@other.test BOB@example.test\$" "$err"
check "alias del of the alias left" 0 pb alias del info@other.test
check "user del again" 67 pb user del bob@example.test
expect_grep "user del again names the address once" "^pillarbox: no such user bob@example.test\$" "$err"
check "domain del refused while a user exists" 65 pb domain del example.test
expect_grep "domain del says one user" \
	"^pillarbox: domain example.test still has 1 user: delete it first\$" "$err"
check "user del carol" 0 pb user del carol@example.test
check "domain del" 0 pb domain del example.test
check "domain del unknown" 65 pb domain del example.test
check "domain list after del" 0 pb domain list
expect_out "one domain left" "other.test"

# ---- postmaster and subaddresses (RFC 5321 4.5.1, RFC 5233)
pmconf="$T/postmaster.conf"
{ cat "$conf"; echo "postmaster = admin@other.test"; } >"$pmconf"
nodelim="$T/nodelim.conf"
{ cat "$pmconf"; echo "recipient_delimiter ="; } >"$nodelim"
chmod 644 "$pmconf" "$nodelim"
pm() { "$PB" --config "$pmconf" "$@"; }
check "domain add with postmaster set, nobody there yet" 0 pm domain add third.test
expect_grep "domain add says the postmaster address reaches nobody" \
	"^pillarbox: postmaster@third.test reaches nobody yet: admin@other.test (postmaster in $pmconf) is no user or alias here\$" "$err"
check "user add admin" 0 sh -c 'printf "pw\n" | "$@"' sh "$PB" --config "$pmconf" user add admin@other.test
check "domain add with postmaster set" 0 pm domain add fourth.test
expect_grep "domain add says where postmaster goes" \
	"^pillarbox: postmaster@fourth.test goes to admin@other.test (postmaster in $pmconf)\$" "$err"
check "deliver to postmaster@ without postmaster set" 67 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver postmaster@third.test
check "deliver to postmaster@ with postmaster set" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$pmconf" deliver Postmaster@Third.test
check "deliver to abuse@ with postmaster set" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$pmconf" deliver abuse@fourth.test
check "deliver to a subaddress" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver admin+lists@other.test
check "deliver to a subaddress without recipient_delimiter" 67 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$nodelim" deliver admin+lists@other.test
pb mailbox list admin@other.test >"$T/out" 2>&1
expect_grep "postmaster, abuse and the subaddress reached admin's INBOX" "^INBOX${TAB}3${TAB}3${TAB}" "$(cat "$T/out")"
printf 'postmaster = admin\n' >"$T/badpm.conf"
chmod 644 "$T/badpm.conf"
check "postmaster that is no address" 78 "$PB" --config "$T/badpm.conf" domain list
expect_grep "postmaster that is no address: FILE:LINE: what" "badpm.conf:1: postmaster: expected an address" "$err"

# ---- internationalized domain names (IDNA2008: either form is one domain)
U=$(printf 'm\303\274ller-bau.test')   # müller-bau.test
A=xn--mller-bau-q9a.test
check "domain add in U-labels" 0 pb domain add "$U"
expect_grep "domain add says both forms" "^pillarbox: domain $A ($U) added\$" "$err"
check "domain add of its A-label" 65 pb domain add "$A"
expect_grep "it is the same domain" "^pillarbox: domain $A exists already\$" "$err"
check "user add in U-labels" 0 sh -c 'printf "pw\n" | "$@"' sh "$PB" --config "$conf" user add "sam@$U"
check "user add in A-labels is the same user" 65 "$PB" --config "$conf" user add "Sam@$A" </dev/null
expect_grep "the user exists" "^pillarbox: user Sam@$A exists already\$" "$err"
check "user add of an invalid IDN, no input" 65 "$PB" --config "$conf" \
	user add "x@a$(printf '\342\230\203').test" </dev/null
expect_grep "an invalid IDN is refused with the reason" "IDNA2008: string contains a disallowed" "$err"
check "user list of the domain in U-labels" 0 pb user list "$U"
expect_grep "user list shows the address as stored" "^sam@$A${TAB}enabled${TAB}" "$out"
check "alias add in A-labels" 0 pb alias add "info@$A" "sam@$U"
check "deliver in U-labels through the alias" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver "info@$U"
check "domain list with an IDN" 0 pb domain list
expect_grep "domain list: the A-label, a tab, the U-label" "^$A${TAB}$U\$" "$out"
expect_grep "ASCII domains as before" "^other.test\$" "$out"
# A store from before IDNA kept the domain in U-labels: out of reach now.
check "legacy store made" 0 "$top_builddir/tests/store/storetool" legacy --config "$conf" --domain "$A"
check "a user of a U-label domain is out of reach" 67 pb mailbox list "sam@$U"
check "store check finds the U-label domain" 65 pb store check
expect_grep "store check says how to move it" \
	"^domain $U is stored in U-labels (from before IDNA): its users and aliases get no mail until moved to $A: pillarbox domain migrate $U\$" "$out"
check "domain migrate of an ASCII domain" 65 pb domain migrate other.test
check "domain migrate" 0 pb domain migrate "$U"
expect_grep "domain migrate says where" "^pillarbox: domain $U moved to $A with its users and aliases\$" "$err"
check "store check after the migration" 0 pb store check
check "the moved user's mail" 0 pb mailbox list "sam@$U"
expect_grep "the moved user has the message" "^INBOX${TAB}1${TAB}" "$out"

# ---- DKIM keys: a new key is pending (its record published first), then
# --activate makes it sign; the old record is named for removal.
D=other.test
check "domain dkim without a key" 65 pb domain dkim $D
expect_grep "it says there is none" "^pillarbox: $D has no DKIM key\$" "$err"
check "domain dkim of a domain not local" 65 pb domain dkim nowhere.test --new
expect_grep "not local" "not a local domain" "$err"
check "--new --activate is refused: publish in between" 64 pb domain dkim $D --new --activate
check "--pending without --delete" 64 pb domain dkim $D --pending
check "--activate and --delete" 64 pb domain dkim $D --activate --delete
check "--activate without a key" 65 pb domain dkim $D --activate
check "the first key" 0 pb domain dkim $D --new --algorithm ed25519 --selector s1
expect_grep "the first key is pending" "selector s1 (ed25519-sha256), pending: nothing is signed with it yet (mail goes unsigned until then)" "$err"
expect_grep "--new says how to publish and check" \
	"publish this record, wait for it to be visible (e.g. dig TXT s1._domainkey.$D), then run: pillarbox domain dkim $D --activate\$" "$err"
expect_grep "--new prints the record" "^s1._domainkey.$D. IN TXT \"v=DKIM1; k=ed25519; p=" "$out"
check "domain dkim shows the pending key" 0 pb domain dkim $D
expect_grep "shown as pending" "^pillarbox: $D has a pending key, selector s1 " "$err"
expect_grep "and unsigned until --activate" "^pillarbox: mail from $D is not signed until the pending key is activated" "$err"
expect_grep "with its record" "^s1._domainkey.$D. IN TXT" "$out"
check "--activate" 0 pb domain dkim $D --activate
expect_grep "--activate says which selector signs" "^pillarbox: $D: mail is signed with selector s1 from now on\$" "$err"
check "--activate again: nothing pending" 65 pb domain dkim $D --activate
expect_grep "nothing pending" "^pillarbox: $D has no pending DKIM key\$" "$err"
check "--new with the active key's selector" 65 pb domain dkim $D --new --algorithm ed25519 --selector s1
expect_grep "refused: its record stays published" "selector s1 is the active DKIM key's" "$err"
check "a rotation: the new key" 0 pb domain dkim $D --new --algorithm ed25519 --selector s2
expect_grep "the active key goes on signing" "pending: nothing is signed with it yet; mail goes on being signed with selector s1 until then" "$err"
check "domain dkim shows both" 0 pb domain dkim $D
expect_grep "the active key" "^pillarbox: $D signs with selector s1 (ed25519-sha256, made [0-9-]*), active" "$err"
expect_grep "the pending key" "^pillarbox: $D has a pending key, selector s2 " "$err"
expect_grep "the active record" "^s1._domainkey.$D. IN TXT" "$out"
expect_grep "the pending record" "^s2._domainkey.$D. IN TXT" "$out"
check "domain dns" 0 pb domain dns $D
expect_grep "domain dns: the active record" "^s1._domainkey.$D. IN TXT" "$out"
expect_grep "domain dns: the pending record" "^s2._domainkey.$D. IN TXT" "$out"
expect_grep "domain dns: the pending one named" "the DKIM key of selector s2 is pending" "$err"
expect_grep "domain dns: MX to the host name" "^$D. IN MX 10 mail.example.test.\$" "$out"
expect_grep "domain dns: SPF for the host's name (bounces, SRS)" \
	'^mail.example.test. IN TXT "v=spf1 a -all"$' "$out"
{ cat "$conf"; echo "srs_domain = srs.example.test"; echo "relayhost = smart.example.net:587"; } \
	>"$T/srs.conf"
chmod 644 "$T/srs.conf"
check "domain dns, an SRS domain and a relayhost" 0 "$PB" --config "$T/srs.conf" domain dns $D
expect_grep "the SRS domain's MX: bounces of forwarded mail come back" \
	'^srs.example.test. IN MX 10 mail.example.test.$' "$out"
expect_grep "SPF for the SRS domain: the host sends its mail" \
	'^srs.example.test. IN TXT "v=spf1 a:mail.example.test -all"$' "$out"
expect_grep "the relayhost's senders are for the administrator to add" \
	"^pillarbox: mail leaves through relayhost smart.example.net:587: add its senders" "$err"
# A host or SRS name that is a local domain has that domain's records: one
# SPF record a name (RFC 7208 3.2), one MX.
sed "s/^hostname = .*/hostname = $D/" "$conf" >"$T/local-host.conf"
echo "srs_domain = $D" >>"$T/local-host.conf"
chmod 644 "$T/local-host.conf"
check "domain dns, the host and SRS names a local domain" 0 "$PB" --config "$T/local-host.conf" \
	domain dns $D
expect_grep "the domain's own SPF record" "^$D. IN TXT \"v=spf1 mx -all\"\$" "$out"
[ "$(grep -c "^$D. IN TXT \"v=spf1" <<<"$out")" = 1 ] && [ "$(grep -c "^$D. IN MX" <<<"$out")" = 1 ] &&
	ok "no second SPF record or MX for it" || not_ok "no second SPF record or MX for it: $out"
# MX, CNAME and SRV name hosts (RFC 2181 10.3): never an address.
{ cat "$conf"; echo "public_hostname = 127.0.0.1"; } >"$T/pubip.conf"
sed 's/^hostname = .*/hostname = 192.0.2.1/' "$T/pubip.conf" >"$T/bothip.conf"
chmod 644 "$T/pubip.conf" "$T/bothip.conf"
check "domain dns, public_hostname an address" 0 "$PB" --config "$T/pubip.conf" domain dns $D
expect_grep "it names hostname instead" "^$D. IN MX 10 mail.example.test.\$" "$out"
expect_no_grep "no address as a target" "127\.0\.0\.1" "$out"
expect_grep "and says so" "^pillarbox: public_hostname 127.0.0.1 is no host name .*: the records name hostname mail.example.test instead\$" "$err"
check "domain dns, both addresses" 0 "$PB" --config "$T/bothip.conf" domain dns $D
expect_grep "a placeholder host" "^$D. IN MX 10 mail.$D.\$" "$out"
expect_grep "an SRV record to it" "^_imap._tcp.$D. IN SRV 0 1 143 mail.$D.\$" "$out"
expect_grep "ManageSieve's SRV record (RFC 5804)" "^_sieve._tcp.$D. IN SRV 0 1 4190 mail.$D.\$" "$out"
expect_grep "a comment line says which key to set" \
	"^; mail.$D. below is a placeholder: set public_hostname in $T/bothip.conf to this server's host name\$" "$out"
expect_no_grep "no address as a target" "127\.0\.0\.1\|192\.0\.2\.1" "$out"
expect_grep "a warning names the key" "^pillarbox: warning: public_hostname 127.0.0.1 is no host name .*set public_hostname in" "$err"
check "store check with two keys" 0 pb store check
check "store backup with two keys" 0 pb store backup "$T/backup/dkim"
sed "s|^store = .*|store = $T/restored-dkim|" "$conf" >"$T/restored-dkim.conf"
chmod 644 "$T/restored-dkim.conf"
check "store restore with two keys" 0 "$PB" --config "$T/restored-dkim.conf" store restore "$T/backup/dkim"
check "the restored store has both" 0 "$PB" --config "$T/restored-dkim.conf" domain dkim $D
expect_grep "restored: the active record" "^s1._domainkey.$D. IN TXT" "$out"
expect_grep "restored: the pending record" "^s2._domainkey.$D. IN TXT" "$out"
check "another --new replaces the pending key" 0 pb domain dkim $D --new --algorithm ed25519 --selector s3
expect_grep "it names the replaced one" "replaces the pending key of selector s2, whose record is no longer needed" "$err"
check "--delete --pending" 0 pb domain dkim $D --delete --pending
check "domain dkim after --delete --pending" 0 pb domain dkim $D
expect_grep "the active key is kept" "^s1._domainkey.$D. IN TXT" "$out"
if printf '%s\n' "$out" | grep -q "^s3\."; then not_ok "the pending key is gone"; else ok "the pending key is gone"; fi
check "--delete --pending with none" 65 pb domain dkim $D --delete --pending
check "the next key" 0 pb domain dkim $D --new --algorithm ed25519 --selector s4
check "--activate of the next key" 0 pb domain dkim $D --activate
expect_grep "the new selector signs" "^pillarbox: $D: mail is signed with selector s4 from now on\$" "$err"
expect_grep "the old record may go" "the key of selector s1 is forgotten: its record s1._domainkey.$D may be removed after a few days" "$err"
check "domain dkim after the rotation" 0 pb domain dkim $D
expect_out "only the new record" "$(printf '%s\n' "$out" | grep '^s4\._domainkey')"
check "--delete" 0 pb domain dkim $D --delete
check "domain dkim after --delete" 65 pb domain dkim $D
check "store check after the DKIM keys" 0 pb store check

# a TLS file the configuration names that is missing is said by every command
cp "$conf" "$T/tls.conf"
printf 'tls_cert = %s\ntls_key = %s\n' "$T/cert.pem" "$T/key.pem" >>"$T/tls.conf"
check "a command with the TLS files missing still works" 0 "$PB" --config "$T/tls.conf" domain list
expect_grep "... and says the certificate is missing" \
	"^pillarbox: warning: $T/cert.pem: No such file or directory: IMAP, POP3, SMTP and pillarbox-webmaild offer no TLS until it is there\$" "$err"
: >"$T/cert.pem"
: >"$T/key.pem"
chmod 644 "$T/cert.pem" "$T/key.pem"
check "with the files there" 0 "$PB" --config "$T/tls.conf" domain list
expect_no_grep "... no warning" "warning" "$err"
# MTA-STS: with a certificate, the records that announce the policy
check "domain dns without TLS" 0 pb domain dns $D
expect_no_grep "... no MTA-STS records" "mta-sts" "$out"
expect_grep "... and says why" "^pillarbox: no MTA-STS policy (no records for it): it needs tls_cert" "$err"
check "domain dns with TLS" 0 "$PB" --config "$T/tls.conf" domain dns $D
expect_grep "... the policy host" "^mta-sts.$D. IN CNAME mail.example.test.\$" "$out"
expect_grep "... the policy's record and id" "^_mta-sts.$D. IN TXT \"v=STSv1; id=[0-9a-f]\{16\}\"\$" "$out"
expect_grep "... TLS reports to postmaster" "^_smtp._tls.$D. IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@$D\"\$" "$err$out"
expect_grep "... testing, and what comes next" "MTA-STS, mode testing: .*set mta_sts = enforce" "$err"
id1=$(sed -n 's/^_mta-sts.* id=\([0-9a-f]*\)"$/\1/p' <<<"$out")
echo "mta_sts = enforce" >>"$T/tls.conf"
check "domain dns with mta_sts = enforce" 0 "$PB" --config "$T/tls.conf" domain dns $D
id2=$(sed -n 's/^_mta-sts.* id=\([0-9a-f]*\)"$/\1/p' <<<"$out")
[ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ] && ok "... another policy, another id" ||
	not_ok "... another policy, another id ($id1 $id2)"
sed 's/^hostname = .*/hostname = Mail.Example.TEST/' "$T/tls.conf" >"$T/tls-case.conf"
chmod 644 "$T/tls-case.conf"
check "domain dns with TLS and a host name in capitals" 0 "$PB" --config "$T/tls-case.conf" domain dns $D
expect_grep "... the MTA-STS records all the same" "^_mta-sts.$D. IN TXT" "$out"
sed 's/^hostname = .*/hostname = 192.0.2.1/' "$T/tls.conf" >"$T/tls-ip.conf"
chmod 644 "$T/tls-ip.conf"
check "domain dns with TLS and no host name" 0 "$PB" --config "$T/tls-ip.conf" domain dns $D
expect_no_grep "... no MTA-STS records for a placeholder" "mta-sts" "$out"

tap_end
