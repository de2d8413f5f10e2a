#!/usr/bin/env bash
# process-vm-readv.sh: a session reads and writes the memory of the
# controller, the zygote and a sibling session's worker with
# process_vm_readv(2)/process_vm_writev(2). The sibling and the zygote
# share the worker's memory layout (all are forks of the zygote), so the
# addresses are real. seccomp denies both calls (logged in the daemon's
# log); the kernel's ptrace-access check (uid, Landlock) stands behind it.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def vm(nr, pid):
    buf = ctypes.create_string_buffer(64)
    local = iovec(ctypes.addressof(buf), 64)
    remote = iovec(id(os), 64)      # the os module: at the same address
    syscall(nr, pid, ctypes.addressof(local), 1, ctypes.addressof(remote),
            1, 0)
    return buf.raw


def attempt(event):
    targets = [("the controller", int(os.environ["DAEMON_PID"])),
               ("the zygote", args(event)["zygote"]),
               ("a sibling", args(event)["sibling"])]
    for who, pid in targets:
        probe("process_vm_readv " + who, vm, 310, pid)
        probe("process_vm_writev " + who, vm, 311, pid)
    return verdict()
EOF2
escape_deploy
start_holder
attempt "{\"sibling\": $HOLDER_PID, \"zygote\": $(zygote_pid)}"
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
for who in "the controller" "the zygote" "a sibling"; do
	assert_probe "process_vm_readv $who" "PermissionError: \[Errno 1\]"
	assert_probe "process_vm_writev $who" "PermissionError: \[Errno 1\]"
done
assert_seccomp_logged process_vm_readv
assert_seccomp_logged process_vm_writev
release_holder
escape_finish
