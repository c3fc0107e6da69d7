#!/bin/sh
# End-to-end test of `pillarbox sieve` on a fresh store: put/list/get round
# trip byte for byte (UTF-8, a text: block, CRLF), compile errors and their
# exit code, the size limit, --activate, activate/deactivate shown by list,
# the active script's delete refused, rename, check, extensions, an unknown
# user, and delivery running the script put here.
# Needs $top_builddir (set by `make check`). As root it runs the store as user
# `pillarbox` (created here if missing, as quickstart does).
NAME=sieve
. "$(dirname "$0")/cli_lib.sh"

TAB=$(printf '\t')
conf="$T/pillarbox.conf"
cat >"$conf" <<EOF
hostname = mail.example.test
user = $RUNAS
store = $T/store
watchdog_seconds = 60
password_cost = 1
EOF
chmod 644 "$conf"
pb() { "$PB" --config "$conf" "$@"; }
# put USER NAME [--activate] < FILE
put() { f=$1; shift; pb sieve put "$@" <"$f"; }

B=bob@example.test

# ---- help (no store needed)
check "sieve --help" 0 pb sieve --help
expect_grep "it lists put" "^  sieve put USER NAME \[--activate\]" "$out"
check "sieve put --help" 0 pb sieve put --help
expect_grep "a verb's --help is the noun's" "^  sieve check \[FILE\]" "$out"
check "pillarbox --help lists sieve" 0 "$PB" --help
expect_grep "... its verbs" "^  sieve rename USER OLD NEW" "$out"
check "sieve without a verb" 64 pb sieve
check "sieve with an unknown verb" 64 pb sieve frob
check "sieve get with one argument" 64 pb sieve get $B
check "sieve rename with two" 64 pb sieve rename $B a

# ---- a store with two users
check "store init" 0 pb store init
check "domain add" 0 pb domain add example.test
check "user add bob" 0 sh -c 'printf "bob secret\n" | "$@"' sh "$PB" --config "$conf" user add $B
check "user add ann" 0 sh -c 'printf "ann secret\n" | "$@"' sh "$PB" --config "$conf" \
	user add ann@example.test

# ---- extensions, check
check "sieve extensions" 0 pb sieve extensions
expect_grep "fileinto is one" "^fileinto\$" "$out"
expect_grep "comparator-i;ascii-numeric is one" "^comparator-i;ascii-numeric\$" "$out"
expect_grep "one a line" "^mailbox\$" "$out"

# UTF-8 in strings and a comment, a text: block with a dot-stuffed line,
# CRLF on one line, and no line end after the last line.
printf '# Zoë'\''s filter ☃\r\nrequire ["fileinto", "mailbox", "imap4flags"];\n' >"$T/good.sieve"
printf 'if header :contains "subject" "Grüße" {\n\tfileinto :create "Grüße/2025";\n}\n' \
	>>"$T/good.sieve"
printf 'if header :is "x-note" text:\nline one ☃\n..dot\n.\n{\n\taddflag "\\\\Seen";\n}\n' \
	>>"$T/good.sieve"
printf 'if header :contains "subject" "[list]" { fileinto :create "Lists"; stop; }' \
	>>"$T/good.sieve"
chmod 644 "$T/good.sieve"
size=$(wc -c <"$T/good.sieve")

check "sieve check FILE" 0 pb sieve check "$T/good.sieve"
expect_out "says ok" "ok"
check "sieve check from stdin" 0 sh -c '"$@" <"$0"' "$T/good.sieve" \
	"$PB" --config "$conf" sieve check
expect_out "says ok" "ok"
check "sieve check -" 0 sh -c '"$@" <"$0"' "$T/good.sieve" "$PB" --config "$conf" sieve check -
printf 'require "fileinto";\nif true {\n  frobnicate;\n}\n' >"$T/bad.sieve"
chmod 644 "$T/bad.sieve"
check "sieve check of a bad script" 65 pb sieve check "$T/bad.sieve"
expect_grep "the error names the file and the line" \
	"^pillarbox: $T/bad.sieve: line 3: .*frobnicate" "$err"
expect_out "nothing on stdout" ""
check "sieve check of a missing file" 66 pb sieve check "$T/nonexistent.sieve"
expect_grep "it says why" "nonexistent.sieve: No such file" "$err"
check "sieve check of a directory" 66 pb sieve check "$T"
printf 'fileinto "x";\n' >"$T/norequire.sieve"
chmod 644 "$T/norequire.sieve"
check "sieve check without require" 65 pb sieve check "$T/norequire.sieve"
expect_grep "... line 1" "^pillarbox: .*norequire.sieve: line 1: " "$err"

# ---- an unknown user
check "sieve list of an unknown user" 67 pb sieve list nobody@example.test
expect_grep "no such user" "^pillarbox: nobody@example.test: no such user\$" "$err"
check "sieve put for an unknown user" 67 put "$T/good.sieve" nobody@example.test f
check "sieve activate for an unknown user" 67 pb sieve activate nobody@example.test f
check "sieve put for a foreign domain" 67 put "$T/good.sieve" bob@elsewhere.test f

# ---- put, list, get
check "sieve list with none" 0 pb sieve list $B
expect_out "an empty list" ""
check "sieve put" 0 put "$T/good.sieve" $B "Mes filtres ☃"
expect_grep "it says so" "^pillarbox: sieve script \"Mes filtres ☃\" of $B saved\$" "$err"
check "sieve list" 0 pb sieve list $B
expect_out "one script, inactive, its size" "Mes filtres ☃${TAB}${size}${TAB}-"
check "sieve get" 0 pb sieve get $B "Mes filtres ☃"
expect_same "get gives what put was given, byte for byte" "$T/good.sieve"
check "sieve get of another user's name" 65 pb sieve get ann@example.test "Mes filtres ☃"
expect_grep "... is no script of theirs" "no script named" "$err"
check "sieve list of the other user" 0 pb sieve list ann@example.test
expect_out "the other user has none" ""
check "sieve get of a missing script" 65 pb sieve get $B nope
expect_grep "it names the user and the script" "^pillarbox: $B: no script named \"nope\"\$" "$err"
check "sieve get of a name with a control byte" 65 pb sieve get $B "$(printf 'a\033b')"
expect_grep "the control byte escaped" 'no script named "a\\x1bb"$' "$err"

check "sieve put of a bad script" 65 put "$T/bad.sieve" $B broken
expect_grep "refused with the compiler's line" "^pillarbox: broken: line 3: .*frobnicate" "$err"
check "sieve list after the bad put" 0 pb sieve list $B
expect_out "the bad one was not kept" "Mes filtres ☃${TAB}${size}${TAB}-"
check "sieve put with an unknown option" 64 put "$T/good.sieve" $B other --activ
check "sieve put with an empty name" 65 put "$T/good.sieve" $B ""
expect_grep "the name's rule" "1 to 128 octets" "$err"
check "sieve put with a 129-octet name" 65 \
	put "$T/good.sieve" $B "$(printf '%0129d' 0)"
check "sieve put with a 128-octet name" 0 \
	put "$T/good.sieve" $B "$(printf '%0128d' 0)"
check "sieve delete of it" 0 pb sieve delete $B "$(printf '%0128d' 0)"

# The limit: a script of SIEVE_SCRIPT_MAX (65536) octets, then one more.
{ printf '#'; head -c 65534 /dev/zero | tr '\0' x; printf '\n'; } >"$T/max.sieve"
{ cat "$T/max.sieve"; printf '\n'; } >"$T/over.sieve"
check "sieve put of 65536 octets" 0 put "$T/max.sieve" $B max
check "sieve get of it" 0 pb sieve get $B max
expect_same "all of it" "$T/max.sieve"
check "sieve put of 65537 octets" 65 put "$T/over.sieve" $B max
expect_grep "too long" "^pillarbox: max: longer than 65536 bytes\$" "$err"
check "sieve get after the refused replace" 0 pb sieve get $B max
expect_same "the old text stays" "$T/max.sieve"
check "sieve check of 65537 octets" 65 sh -c '"$@" <"$0"' "$T/over.sieve" "$PB" --config "$conf" \
	sieve check
check "sieve delete max" 0 pb sieve delete $B max

# ---- activate, deactivate, delete, rename
check "sieve put --activate of a bad script" 65 put "$T/norequire.sieve" $B other --activate
printf 'keep;\n' >"$T/keep.sieve"
check "sieve put --activate" 0 put "$T/keep.sieve" $B other --activate
expect_grep "it says active" "^pillarbox: sieve script \"other\" of $B saved and active\$" "$err"
check "sieve list" 0 pb sieve list $B
expect_out "other is the active one" "Mes filtres ☃${TAB}${size}${TAB}-
other${TAB}6${TAB}active"
check "sieve activate" 0 pb sieve activate $B "Mes filtres ☃"
check "sieve list" 0 pb sieve list $B
expect_out "one active at a time" "Mes filtres ☃${TAB}${size}${TAB}active
other${TAB}6${TAB}-"
check "sieve activate of a missing script" 65 pb sieve activate $B nope
expect_grep "it says so" "no script named \"nope\"" "$err"
check "sieve delete of the active script" 65 pb sieve delete $B "Mes filtres ☃"
expect_grep "refused: deactivate first" \
	"^pillarbox: $B: \"Mes filtres ☃\" is the active script: deactivate it first\$" "$err"
check "sieve delete of a missing script" 65 pb sieve delete $B nope
check "sieve rename onto an existing name" 65 pb sieve rename $B other "Mes filtres ☃"
expect_grep "it says so" "a script named \"Mes filtres ☃\" exists" "$err"
check "sieve rename of a missing script" 65 pb sieve rename $B nope new
check "sieve rename of the active script" 0 pb sieve rename $B "Mes filtres ☃" main
check "sieve list" 0 pb sieve list $B
expect_out "renamed, still active" "main${TAB}${size}${TAB}active
other${TAB}6${TAB}-"
check "sieve get by the new name" 0 pb sieve get $B main
expect_same "the same text" "$T/good.sieve"
check "sieve get by the old name" 65 pb sieve get $B "Mes filtres ☃"

# ---- delivery runs the active script put here
msg=$(printf 'From: a@remote.test\r\nTo: %s\r\nSubject: [list] news\r\n\r\nhi\r\n' $B)
check "deliver to a filtered user" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver $B
check "mailbox list" 0 pb mailbox list $B
expect_grep "fileinto :create made Lists and filed it there" "^Lists${TAB}1${TAB}" "$out"
expect_grep "the INBOX got none" "^INBOX${TAB}0${TAB}" "$out"
check "sieve deactivate" 0 pb sieve deactivate $B
check "sieve list" 0 pb sieve list $B
expect_out "none active" "main${TAB}${size}${TAB}-
other${TAB}6${TAB}-"
check "deliver with no script active" 0 sh -c 'printf "%s" "$0" | "$@"' "$msg" \
	"$PB" --config "$conf" deliver $B
check "mailbox list" 0 pb mailbox list $B
expect_grep "to INBOX now" "^INBOX${TAB}1${TAB}" "$out"
check "sieve deactivate again" 0 pb sieve deactivate $B
check "sieve delete of the formerly active script" 0 pb sieve delete $B main
check "sieve list" 0 pb sieve list $B
expect_out "one left" "other${TAB}6${TAB}-"

# ---- a name whose key is as long as a session id's, through maintenance
# (which expires sessions), store check, backup and restore
n20=abcdefghijklmnopqrst
check "sieve put of a 20-octet name" 0 put "$T/keep.sieve" $B $n20 --activate
check "store maintain" 0 pb store maintain
check "store check with scripts" 0 pb store check
check "sieve list after them" 0 pb sieve list $B
expect_out "the script is there, still active" "$n20${TAB}6${TAB}active
other${TAB}6${TAB}-"
check "store backup" 0 pb store backup "$T/backup"
sed "s|^store = .*|store = $T/restored|" "$conf" >"$T/restored.conf"
chmod 644 "$T/restored.conf"
check "store restore" 0 "$PB" --config "$T/restored.conf" store restore "$T/backup"
check "sieve list of the restored store" 0 "$PB" --config "$T/restored.conf" sieve list $B
expect_out "the scripts and the active mark restored" "$n20${TAB}6${TAB}active
other${TAB}6${TAB}-"
check "sieve deactivate" 0 pb sieve deactivate $B
check "sieve delete of the 20-octet name" 0 pb sieve delete $B $n20

# ---- deleting the user deletes the scripts
check "sieve activate other" 0 pb sieve activate $B other
check "user del" 0 pb user del $B
check "user add bob again" 0 sh -c 'printf "bob secret\n" | "$@"' sh \
	"$PB" --config "$conf" user add $B
check "sieve list of the new bob" 0 pb sieve list $B
expect_out "no scripts of the old one" ""
check "store check" 0 pb store check

tap_end
