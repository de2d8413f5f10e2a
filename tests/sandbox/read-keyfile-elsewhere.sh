#!/usr/bin/env bash
# read-keyfile-elsewhere.sh: the master key at a path outside the data
# directory and outside every hidden directory, with Landlock taken away
# (AUTOKITTEH_SANDBOX_DISABLE), so that what keeps it from a session whose
# worker shares the daemon's uid is the mount namespace: the controller
# lists the key file among what to hide, and the worker binds /dev/null
# over it (workers/sandbox-mount.c).
. "$top_srcdir/tests/sandbox/lib.sh"

K=$top_builddir/tests/sandbox/keys-$$
mkdir -p "$K"
chown "$RUN_USER" "$K"
chmod 0755 "$K"
trap 'rm -rf "$K"; cleanup' EXIT
CONF_EXTRA="[secrets]
key_file = $K/secrets.key"
export AUTOKITTEH_SANDBOX_DISABLE=landlock

attempt_code <<'EOF2'
def read_key(path):
    data = read(path)
    if data == b"":
        raise PermissionError(13, "it reads empty: %s is covered" % path)
    return data


def attempt(event):
    key = args(event)["key"]
    probe("read the key file", read_key, key)
    return verdict()
EOF2
escape_deploy
wait_until 5 test -s "$K/secrets.key" || fail "the daemon made no key file"
run ak status -j
[ "$(jget "$OUT" '.sandbox.mechanisms[] | select(.name == "mount_namespace") | .state')" = enforced ] ||
    skip "no mount namespace here: the key file is kept from sessions by its mode and Landlock only"
attempt "{\"key\": \"$K/secrets.key\"}"
assert_blocked "(PermissionError: \[Errno 13\] (Permission denied|it reads empty)|FileNotFoundError)"
escape_finish
