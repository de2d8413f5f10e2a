#!/usr/bin/env bash
# fill-tmpdir.sh: a session fills its temp dir with a file that grows past
# any sensible size. RLIMIT_FSIZE caps a file at 256 MiB (SIGXFSZ, or EFBIG
# where it is ignored); the directory is removed when the session ends.
# (A total cap for the directory needs a size-limited file system for it:
# see docs/SECURITY.md.)
. "$top_srcdir/tests/sandbox/lib.sh"

attempt_code <<'EOF2'
def attempt(event):
    chunk = b"\0" * (1 << 20)
    with open("fill", "wb") as f:
        for _ in range(8):          # 8 MiB for real ...
            f.write(chunk)
        f.flush()
        print("wrote %d MiB" % (f.tell() >> 20))
        f.seek(300 << 20)           # ... then the rest without the I/O
        f.write(chunk)
        f.flush()
    return "wrote %d MiB" % (os.path.getsize("fill") >> 20)
EOF2
escape_deploy
attempt "" 60
assert_eq error "$STATE" "the attempt's session ended in error"
assert_match "$SLOG" "PRINT +wrote 8 MiB" "the session wrote 8 MiB"
assert_match "$SLOG" "STATE +error: (the worker was killed by signal 25 \(SIGXFSZ\): the session wrote past the file size limit|OSError: \[Errno 27\] File too large)" \
    "the session log says the file size limit stopped it"
wait_until 5 sh -c "! ls -d /tmp/autokitteh-$DAEMON_PID-w* 2>/dev/null | xargs -r du -s | awk '\$1 > 1024 { exit 0 } END { exit 1 }'" ||
    fail "a temp dir over 1 MiB is still there: $(du -s /tmp/autokitteh-"$DAEMON_PID"-w* 2>/dev/null)"
ok "the filled temp dir was removed"
escape_finish
