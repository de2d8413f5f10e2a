#!/usr/bin/env bash
# read-keyfile.sh: a session reads the master key that encrypts every
# secret at rest ([secrets] key_file), at a path outside the data
# directory, directly and through the daemon's descriptors. Landlock keeps
# it out of the session's view; the file is 0600 and, with a daemon
# started as root, owned by another uid than the worker's.
# Needs [secrets] key_file (the secrets branch).
. "$top_srcdir/tests/sandbox/lib.sh"

mkdir -p "$T/keys"
chown "$RUN_USER" "$T/keys"	# the daemon makes the key there
chmod 0700 "$T/keys"
CONF_EXTRA="[secrets]
key_file = $T/keys/secrets.key"
need_config "[secrets] key_file"

attempt_code <<'EOF2'
def daemon_fds(pid):
    for fd in range(64):
        try:
            if "secrets.key" in os.readlink("/proc/%d/fd/%d" % (pid, fd)):
                return read("/proc/%d/fd/%d" % (pid, fd))
        except FileNotFoundError:
            continue
    raise PermissionError(13, "no descriptor of the daemon could be read")


def attempt(event):
    key = args(event)["key"]
    probe("read the key file", read, key)
    probe("list its directory", os.listdir, os.path.dirname(key))
    probe("read it through the daemon", daemon_fds,
          int(os.environ["DAEMON_PID"]))
    return verdict()
EOF2
escape_deploy
wait_until 5 test -s "$T/keys/secrets.key" || fail "the daemon made no key file"
attempt "{\"key\": \"$T/keys/secrets.key\"}"
# (FileNotFoundError: a mount namespace where the directory is not there)
assert_blocked "(PermissionError: \[Errno 13\] Permission denied|FileNotFoundError: \[Errno 2\] No such file or directory): '$T/keys/secrets.key'"
assert_probe "list its directory" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
assert_probe "read it through the daemon" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
escape_finish
