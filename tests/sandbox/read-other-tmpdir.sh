#!/usr/bin/env bash
# read-other-tmpdir.sh: a session reads the files of another session that
# is running at the same time (its temp dir holds whatever that session
# downloaded or computed). Landlock gives each worker only its own temp
# dir; each temp dir is 0700 and, with a daemon started as root, owned by
# that worker's own uid. /tmp itself cannot even be listed.
. "$top_srcdir/tests/sandbox/lib.sh"

attempt_code <<'EOF2'
def attempt(event):
    other = args(event)["dir"]
    probe("read the other session's file", read, other + "/secret.txt")
    probe("list the other session's dir", os.listdir, other)
    probe("list /tmp to find it", os.listdir, "/tmp")
    probe("plant a file there", write, other + "/planted.txt")
    return verdict()
EOF2
escape_deploy
start_holder
attempt "{\"dir\": \"$HOLDER_DIR\"}"
# PermissionError: Landlock and the uid; FileNotFoundError: a mount
# namespace where the other session's dir is not there at all.
assert_blocked "(PermissionError: \[Errno 13\] Permission denied|FileNotFoundError: \[Errno 2\] No such file or directory): '$HOLDER_DIR/secret.txt'"
assert_probe "list the other session's dir" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
assert_probe "list /tmp to find it" "PermissionError: \[Errno 13\]"
assert_probe "plant a file there" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
[ ! -e "$(holder_path planted.txt)" ] || fail "a file was planted in $HOLDER_DIR"
ok "nothing was planted in the other session's dir"
assert_eq holder-secret "$(cat "$(holder_path secret.txt)")" "the other session's file is intact"
release_holder
escape_finish
