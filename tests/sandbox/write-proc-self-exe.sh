#!/usr/bin/env bash
# write-proc-self-exe.sh: a session overwrites the worker binary, which
# the controller runs as the next zygote (and as root when the daemon is
# root): through /proc/self/exe, through its real path, and through the
# zygote's /proc/PID/exe. The binary is busy (ETXTBSY), outside the
# session's Landlock view, and owned by root; the zygote's /proc entry
# needs ptrace access.
. "$top_srcdir/tests/sandbox/lib.sh"

attempt_code <<'EOF2'
def overwrite(path):
    with open(path, "r+b") as f:
        f.write(b"\x7fELF")
    return "overwrote " + path


def attempt(event):
    probe("write /proc/self/exe", overwrite, "/proc/self/exe")
    probe("write the binary by its path", overwrite,
          os.readlink("/proc/self/exe"))
    probe("write the zygote's exe", overwrite,
          "/proc/%d/exe" % args(event)["zygote"])
    return verdict()
EOF2
escape_deploy
sum=$(cksum <"$top_builddir/autokitteh-worker")
attempt "{\"zygote\": $(zygote_pid)}"
# (FileNotFoundError: a mount or PID namespace where it is not there)
assert_blocked "(PermissionError: \[Errno 13\] Permission denied|OSError: \[Errno 26\] Text file busy): '/proc/self/exe'"
assert_probe "write the binary by its path" "(PermissionError: \[Errno 13\]|OSError: \[Errno 26\]|FileNotFoundError)"
assert_probe "write the zygote's exe" "(PermissionError: \[Errno 13\]|OSError: \[Errno 26\]|FileNotFoundError)"
assert_eq "$sum" "$(cksum <"$top_builddir/autokitteh-worker")" "the worker binary is unchanged"
escape_finish
