#!/bin/bash
# A hot backup taken under load is complete and restorable:
#  - LOADERS background loops run `pillarbox deliver` (the real CLI, one
#    process a message, each with a unique Subject tag) and append the tag
#    to their ack file only after deliver exited 0;
#  - the ack files are copied the moment before `pillarbox store backup DIR`
#    starts: those deliveries were acknowledged before the backup began;
#  - the backup runs while the loops go on (they are checked to be alive
#    when it starts and ends), then the loops stop;
#  - `store restore` into an empty directory, `store check` of the restored
#    store passes, and an export of the restored INBOX holds every tag
#    acknowledged before the backup began, each once, and nothing that was
#    never delivered.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
export LC_ALL=C # sort and comm agree

LOADERS=${LOADERS:-3}
WARMUP_S=${WARMUP_S:-2}   # load before the backup starts
AFTER_S=${AFTER_S:-1}     # load after it ended
MAX_PER_LOADER=2000       # a bound in case the stop file is never seen
PB=$top_builddir/admin/pillarbox
RCPT=bob@backup.test
CONF=$WORK/pillarbox.conf
RCONF=$WORK/restored.conf

[ -x "$PB" ] || die "$PB is not built"
make_store "$CONF" "$WORK/store" "watchdog_seconds = 60" "password_cost = 1"
make_store "$RCONF" "$WORK/restored" "watchdog_seconds = 60"
rmdir "$WORK/restored" # restore makes it (and prepares it as root)
pb() { "$PB" --config "$CONF" "$@"; }

pb store init >"$WORK/init.out" 2>&1 || die "store init: $(cat "$WORK/init.out")"
pb domain add backup.test >/dev/null 2>&1 || die "domain add failed"
printf 'secret\n' | pb user add "$RCPT" >/dev/null 2>&1 || die "user add failed"

# loader N: delivers until $WORK/stop exists; "N-i" is appended to acked.N
# after deliver exited 0, other exits to failed.N.
loader() {
	local n=$1 i=0 rc
	while [ ! -e "$WORK/stop" ] && [ "$i" -lt "$MAX_PER_LOADER" ]; do
		i=$((i + 1))
		printf 'From: load@backup.test\nTo: %s\nSubject: load %s-%s\nMessage-ID: <%s-%s@backup.test>\n\nDelivery %s of loader %s.\n' \
			"$RCPT" "$n" "$i" "$n" "$i" "$i" "$n" |
			"$PB" --config "$CONF" deliver "$RCPT" >/dev/null 2>>"$WORK/deliver.$n.err"
		rc=$?
		if [ "$rc" = 0 ]; then
			echo "$n-$i" >>"$WORK/acked.$n"
		else
			echo "$n-$i exit $rc" >>"$WORK/failed.$n"
		fi
		echo "$n-$i" >>"$WORK/tried.$n"
	done
}

loaders=""
for n in $(seq 1 "$LOADERS"); do
	: >"$WORK/acked.$n"
	: >"$WORK/tried.$n"
	loader "$n" &
	STARTED="$STARTED $!"
	loaders="$loaders $!"
done
sleep "$WARMUP_S"

for pid in $loaders; do alive "$pid" || fail "a loader ended before the backup began"; done
cat "$WORK"/acked.[0-9]* | sort >"$WORK/acked-before"
t0=$(now_ms)
pb store backup "$WORK/backup" >"$WORK/backup.out" 2>&1 || fail "store backup: $(cat "$WORK/backup.out")"
t1=$(now_ms)
cat "$WORK"/acked.[0-9]* | sort >"$WORK/acked-after-backup"
for pid in $loaders; do alive "$pid" || fail "a loader ended during the backup"; done
sleep "$AFTER_S"
touch "$WORK/stop"
for pid in $loaders; do reap "$pid"; done

before=$(wc -l <"$WORK/acked-before")
during=$(( $(wc -l <"$WORK/acked-after-backup") - before ))
total=$(cat "$WORK"/acked.[0-9]* | wc -l)
failures=$(cat "$WORK"/failed.[0-9]* 2>/dev/null | wc -l)
note "$before deliveries acknowledged before the backup, $during during it ($(( t1 - t0 )) ms)," \
	"$total in all; $failures failed"
[ "$before" -gt 0 ] || fail "no delivery was acknowledged before the backup began"
[ "$failures" = 0 ] || fail "deliveries failed: $(head -3 "$WORK"/failed.* | tr '\n' ' ')" \
	"$(tail -3 "$WORK"/deliver.*.err | tr '\n' ' ')"

"$PB" --config "$RCONF" store restore "$WORK/backup" >"$WORK/restore.out" 2>&1 ||
	die "store restore: $(cat "$WORK/restore.out")"
"$PB" --config "$RCONF" store check >"$WORK/check.out" 2>&1 ||
	fail "store check of the restored store: $(cat "$WORK/check.out")"
pb store check >"$WORK/check-live.out" 2>&1 ||
	fail "store check of the live store: $(cat "$WORK/check-live.out")"

# What the restored store holds, read through the CLI.
"$PB" --config "$RCONF" export mbox "$RCPT" INBOX - >"$WORK/restored.mbox" 2>"$WORK/export.err" ||
	die "export of the restored INBOX: $(cat "$WORK/export.err")"
sed -n 's/^Subject: load \([0-9]*-[0-9]*\)$/\1/p' "$WORK/restored.mbox" | sort >"$WORK/restored-tags"
restored=$(wc -l <"$WORK/restored-tags")
missing=$(comm -23 "$WORK/acked-before" "$WORK/restored-tags" | wc -l)
[ "$missing" = 0 ] || fail "$missing deliveries acknowledged before the backup are missing:" \
	"$(comm -23 "$WORK/acked-before" "$WORK/restored-tags" | head -5 | tr '\n' ' ')"
dups=$(uniq -d "$WORK/restored-tags" | wc -l)
[ "$dups" = 0 ] || fail "$dups messages restored twice"
cat "$WORK"/tried.[0-9]* | sort >"$WORK/tried"
unknown=$(comm -13 "$WORK/tried" "$WORK/restored-tags" | wc -l)
[ "$unknown" = 0 ] || fail "$unknown restored messages were never delivered"
boxline=$("$PB" --config "$RCONF" mailbox list "$RCPT" | grep '^INBOX	')
[ "$(echo "$boxline" | cut -f2)" = "$restored" ] ||
	fail "restored INBOX counts $(echo "$boxline" | cut -f2) messages, export has $restored"
note "restored store: $restored messages (all $before acknowledged before the backup among them)"

# ---- A maintenance run during a backup (the timer runs it every minute)
# must not remove a log file the backup has still to copy: gdb holds the
# backup after it copied the databases, before it lists the log files;
# meanwhile deliveries fill more than a log file (set_lg_max 8 MB) and
# `store maintain` checkpoints and removes the logs it no longer needs.
# The backup must still restore every delivery acknowledged before it went
# on to copy the logs.
if ! command -v gdb >/dev/null; then
	note "gdb is not installed (apt-get install gdb): the maintenance part not run"
else
	MCONF=$WORK/maint.conf
	MRCONF=$WORK/maint-restored.conf
	make_store "$MCONF" "$WORK/maint" "watchdog_seconds = 60"
	make_store "$MRCONF" "$WORK/maint-restored" "watchdog_seconds = 60"
	rmdir "$WORK/maint-restored"
	"$TOOL" init --config "$MCONF" --domain backup.test --user "$RCPT" || die "storetool init failed"
	cat > "$WORK/during.sh" <<EOF
#!/bin/sh
"$TOOL" deliver --config "$MCONF" --to "$RCPT" --count 800 --size 14000 --tag held --quiet \\
	> "$WORK/held.acks" 2> "$WORK/held.err" || echo "deliver: exit \$?" >> "$WORK/held.err"
"$PB" --config "$MCONF" store maintain > "$WORK/held-maintain.out" 2>&1
EOF
	chmod 755 "$WORK/during.sh"
	{
		echo "set pagination off"
		echo "set confirm off"
		echo "handle SIGALRM nostop noprint pass"
		# LeakSanitizer cannot work under ptrace (it would fail the exit).
		echo "set environment ASAN_OPTIONS detect_leaks=0"
		echo "set breakpoint pending on"
		echo "break __log_archive"
		echo "run"
		echo "shell $WORK/during.sh"
		echo "delete"
		echo "continue"
	} > "$WORK/backup-gdb.cmds"
	timeout 300 gdb -q -batch -nx -x "$WORK/backup-gdb.cmds" --args "$PB" --config "$MCONF" \
		store backup "$WORK/maint-backup" > "$WORK/maint-backup.out" 2>&1
	grep -q 'exited normally' "$WORK/maint-backup.out" ||
		fail "the held backup failed: $(tail -3 "$WORK/maint-backup.out")"
	[ -s "$WORK/held.err" ] && fail "deliveries during the backup: $(cat "$WORK/held.err")"
	held=$("$PB" --config "$MCONF" mailbox list "$RCPT" 2>&1 | grep '^INBOX	' | cut -f2)
	if "$PB" --config "$MRCONF" store restore "$WORK/maint-backup" > "$WORK/maint-restore.out" 2>&1; then
		"$PB" --config "$MRCONF" store check > "$WORK/maint-check.out" 2>&1 ||
			fail "store check of the backup taken across a maintenance run:" \
			"$(head -5 "$WORK/maint-check.out")"
		got=$("$PB" --config "$MRCONF" mailbox list "$RCPT" 2>&1 | grep '^INBOX	' | cut -f2)
		[ "$got" = "$held" ] ||
			fail "the backup taken across a maintenance run restores ${got:-no} messages, not $held"
	else
		fail "the backup taken across a maintenance run does not restore:" \
			"$(head -3 "$WORK/maint-restore.out")"
	fi
	note "backup across a maintenance run: $held messages, $(ls "$WORK/maint-backup/env" | grep -c '^log\.') log files"
fi

# ---- A body expunged while a backup copies: gdb holds the backup after its
# first pass over the body files, before the databases; a message whose
# body is a file (over 15 KB) is delivered then, and expunged (POP3 DELE)
# once the databases are copied, before the second pass. The copy refers to
# it, so the second pass must still find its file.
if command -v gdb >/dev/null; then
	ECONF=$WORK/exp.conf
	ERCONF=$WORK/exp-restored.conf
	make_store "$ECONF" "$WORK/exp" "watchdog_seconds = 60" "allow_plaintext_auth = yes" \
		"password_cost = 1"
	make_store "$ERCONF" "$WORK/exp-restored" "watchdog_seconds = 60"
	rmdir "$WORK/exp-restored"
	"$TOOL" init --config "$ECONF" --domain backup.test --user "$RCPT" --password secret ||
		die "storetool init failed"
	cat > "$WORK/exp-deliver.sh" <<EOF
#!/bin/sh
"$TOOL" deliver --config "$ECONF" --to "$RCPT" --count 1 --size 40000 --tag big --quiet \\
	> /dev/null 2> "$WORK/exp.err" || echo "deliver: exit \$?" >> "$WORK/exp.err"
EOF
	cat > "$WORK/exp-expunge.sh" <<EOF
#!/bin/sh
printf 'USER $RCPT\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n' |
	"$top_builddir/inetd/pop3d" --config "$ECONF" > "$WORK/exp-pop3.out" 2>> "$WORK/exp.err"
EOF
	chmod 755 "$WORK/exp-deliver.sh" "$WORK/exp-expunge.sh"
	{
		echo "set pagination off"
		echo "set confirm off"
		echo "handle SIGALRM nostop noprint pass"
		echo "set environment ASAN_OPTIONS detect_leaks=0"
		echo "set breakpoint pending on"
		echo "break __db_backup_pp"
		echo "run"
		echo "shell $WORK/exp-deliver.sh"
		echo "delete"
		echo "finish"
		echo "shell $WORK/exp-expunge.sh"
		echo "continue"
	} > "$WORK/exp-gdb.cmds"
	timeout 300 gdb -q -batch -nx -x "$WORK/exp-gdb.cmds" --args "$PB" --config "$ECONF" \
		store backup "$WORK/exp-backup" > "$WORK/exp-backup.out" 2>&1
	grep -q 'exited normally' "$WORK/exp-backup.out" ||
		fail "the held backup failed: $(tail -3 "$WORK/exp-backup.out")"
	[ -s "$WORK/exp.err" ] && fail "during the backup: $(cat "$WORK/exp.err")"
	grep -q '^+OK Bye, 1 message deleted' "$WORK/exp-pop3.out" ||
		fail "the expunge during the backup: $(tr -d '\r' < "$WORK/exp-pop3.out")"
	if "$PB" --config "$ERCONF" store restore "$WORK/exp-backup" > "$WORK/exp-restore.out" 2>&1; then
		"$PB" --config "$ERCONF" store check > "$WORK/exp-check.out" 2>&1 ||
			fail "store check of the backup taken across an expunge: $(head -5 "$WORK/exp-check.out")"
	else
		fail "the backup taken across an expunge does not restore: $(head -3 "$WORK/exp-restore.out")"
	fi
	# The file the expunge left is an orphan for maintenance to collect.
	"$TOOL" maintain --config "$ECONF" --orphan-age 0 > /dev/null || fail "maintain failed"
	"$TOOL" orphans --config "$ECONF" | grep -q 'has no body record' &&
		fail "maintenance left the expunged body's file"
	note "backup across an expunge: restored and checked"
fi

[ "$FAILED" = 0 ] && note "PASS"
exit "$FAILED"
