#!/usr/bin/env bash
# read-database.sh: a session reads the daemon's SQLite database (every
# project's code, events, sessions, variables and secrets): directly, with
# the sqlite3 module, by listing the data directory, and through the
# daemon's open descriptors in /proc/PID/fd. Landlock keeps the data
# directory out of the session's view; with a daemon started as root the
# worker's own uid (DAC) blocks it too, and /proc/PID/fd of another process
# needs ptrace access, which Landlock and the uid deny.
. "$top_srcdir/tests/sandbox/lib.sh"

attempt_code <<'EOF2'
import sqlite3


def query(db):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    return c.execute("SELECT count(*) FROM sqlite_master").fetchone()


def daemon_fds(pid):
    opened, last = [], None
    for fd in range(64):
        try:
            with open("/proc/%d/fd/%d" % (pid, fd), "rb") as f:
                opened.append((fd, f.read(16)))
        except FileNotFoundError:
            continue
        except OSError as e:
            last = e
    if opened:
        return opened
    raise last or FileNotFoundError(2, "no descriptor of the daemon is there")


def attempt(event):
    db = os.environ["DB"]
    pid = int(os.environ["DAEMON_PID"])
    probe("read the database", read, db)
    probe("open it with sqlite3", query, db)
    probe("read its WAL", read, db + "-wal")
    probe("list the data directory", os.listdir, os.environ["DATA_DIR"])
    probe("list the daemon's descriptors", os.listdir, "/proc/%d/fd" % pid)
    probe("open the daemon's descriptors", daemon_fds, pid)
    return verdict()
EOF2
escape_deploy
[ -f "$DATA/autokitteh.db" ] || fail "no database at $DATA/autokitteh.db"
attempt
# (FileNotFoundError: a mount namespace where the data dir is not there)
assert_blocked "(PermissionError: \[Errno 13\] Permission denied|FileNotFoundError: \[Errno 2\] No such file or directory): '$DATA/autokitteh.db'"
assert_probe "open it with sqlite3" "OperationalError: unable to open database file"
assert_probe "read its WAL" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
assert_probe "list the data directory" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
# (FileNotFoundError: a PID namespace where the daemon is not there)
assert_probe "list the daemon's descriptors" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
assert_probe "open the daemon's descriptors" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
escape_finish
