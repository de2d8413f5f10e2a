#!/usr/bin/env bash
# exec-setuid.sh: a session executes setuid-root programs (passwd, su,
# mount) hoping to run as root. seccomp denies execve and execveat (a
# session runs no program but its own Python; logged in the daemon's
# log), and no_new_privs, set on every worker, would keep a setuid bit
# from raising privileges anyway.
. "$top_srcdir/tests/sandbox/lib.sh"

attempt_code <<'EOF2'
def attempt(event):
    for line in open("/proc/self/status"):
        if line.startswith(("NoNewPrivs", "Seccomp:")):
            print(line.strip())
    for prog in ("/usr/bin/passwd", "/bin/su", "/bin/mount"):
        if os.path.exists(prog):
            probe("exec " + prog, os.execv, prog, [prog, "--help"])
    fd = os.open("/bin/su", os.O_RDONLY)
    probe("execveat su by descriptor", os.execve, fd, ["su"], {})
    return verdict()
EOF2
escape_deploy
[ -u /bin/su ] || [ -u /usr/bin/passwd ] ||
    echo "# no setuid su or passwd here: exec is still denied"
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_match "$SLOG" "PRINT +NoNewPrivs:[[:space:]]+1" "the worker has no_new_privs"
assert_match "$SLOG" "PRINT +Seccomp:[[:space:]]+2" "the worker has a seccomp filter"
assert_probe "exec /bin/su" "PermissionError: \[Errno 1\]"
assert_probe "execveat su by descriptor" "PermissionError: \[Errno 1\]"
assert_seccomp_logged execve
assert_seccomp_logged execveat
escape_finish
