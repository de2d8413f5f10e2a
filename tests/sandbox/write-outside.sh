#!/usr/bin/env bash
# write-outside.sh: a session writes outside its temp dir: /tmp, the data
# directory, the SDK every session imports, the system's directories,
# /dev/shm; it changes the database's mode and hard-links it into its own
# dir. Landlock allows writes only in the session's temp dir; it does not
# handle chmod, which seccomp allows only through a descriptor (a worker
# that shares the daemon's uid could otherwise chmod its database).
. "$top_srcdir/tests/sandbox/lib.sh"

attempt_code <<'EOF2'
def append(path):
    open(path, "ab").close()    # opening is enough; nothing is written
    return "opened %s for writing" % path


def attempt(event):
    pid = os.getpid()
    probe("write /tmp", write, "/tmp/escape-%d" % pid)
    probe("write the data directory", write,
          os.environ["DATA_DIR"] + "/escape-%d" % pid)
    probe("append to the database", append, os.environ["DB"])
    probe("append to the SDK", append,
          os.environ["SDK"] + "/autokitteh/__init__.py")
    probe("write /etc", write, "/etc/escape-%d" % pid)
    probe("write dist-packages", write,
          "/usr/lib/python3/dist-packages/escape_%d.py" % pid)
    probe("write /dev/shm", write, "/dev/shm/escape-%d" % pid)
    probe("mkdir in /tmp", os.mkdir, "/tmp/escape-dir-%d" % pid)
    probe("chmod the database", os.chmod, os.environ["DB"], 0o666)
    probe("hard-link the database here", os.link, os.environ["DB"], "db")
    return verdict()
EOF2
escape_deploy
mode=$(stat -c %a "$DATA/autokitteh.db")
sdk_sum=$(cksum <"$AUTOKITTEH_PYTHONPATH/autokitteh/__init__.py")
attempt
# EACCES: Landlock; EROFS and ENOENT: a mount namespace with a read-only
# view of the system and no data dir.
blocked="(PermissionError: \[Errno 13\]|OSError: \[Errno 30\]|FileNotFoundError)"
assert_blocked "(PermissionError: \[Errno 13\] Permission denied|OSError: \[Errno 30\] Read-only file system): '/tmp/escape-[0-9]+'"
for p in "write the data directory" "append to the database" \
    "append to the SDK" "write /etc" "write dist-packages" "write /dev/shm" \
    "mkdir in /tmp"; do
	assert_probe "$p" "$blocked"
done
assert_probe "chmod the database" "PermissionError: \[Errno 1\]"
assert_seccomp_logged chmod
assert_probe "hard-link the database here" "((PermissionError|OSError): \[Errno (1|13|18)\]|FileNotFoundError)"
assert_eq "$mode" "$(stat -c %a "$DATA/autokitteh.db")" "the database's mode is unchanged"
assert_eq "$sdk_sum" "$(cksum <"$AUTOKITTEH_PYTHONPATH/autokitteh/__init__.py")" "the SDK is unchanged"
left=$(ls -d /tmp/escape-* "$DATA"/escape-* /etc/escape-* /dev/shm/escape-* \
    /usr/lib/python3/dist-packages/escape_* 2>/dev/null || true)
rm -rf $left
assert_eq "" "$left" "no file was created outside the temp dir"
escape_finish
