#!/usr/bin/env bash
# unshare-mount.sh: a session makes a user namespace (where it would be
# root) and a mount namespace, mounts a tmpfs over its view, joins the
# namespaces of its parent with setns, chroots, pivots the root, and tries
# the new mount API. seccomp denies all of them (logged in the daemon's
# log); the worker has no capabilities either.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
CLONE_NEWNS, CLONE_NEWUSER = 0x20000, 0x10000000
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]


def mount():
    if libc.mount(b"none", os.getcwd().encode(), b"tmpfs", 0, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return "mounted"


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    return syscall(308, fd, 0)


def attempt(event):
    probe("unshare(CLONE_NEWUSER)", syscall, 272, CLONE_NEWUSER)
    probe("unshare(CLONE_NEWNS) by number", syscall, 272, CLONE_NEWNS)
    probe("mount a tmpfs", mount)
    probe("setns into the zygote's mount namespace", setns,
          "/proc/%d/ns/mnt" % args(event)["zygote"])
    probe("setns into its own user namespace", setns, "/proc/self/ns/user")
    probe("chroot", os.chroot, ".")
    probe("pivot_root", syscall, 155, 0, 0)
    path = ctypes.create_string_buffer(b"/")
    probe("open_tree", syscall, 428, -100, ctypes.addressof(path), 1)
    name = ctypes.create_string_buffer(b"tmpfs")
    probe("fsopen", syscall, 430, ctypes.addressof(name), 0)
    return verdict()
EOF2
escape_deploy
attempt "{\"zygote\": $(zygote_pid)}"
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_probe "unshare\(CLONE_NEWNS\) by number" "PermissionError: \[Errno 1\]"
assert_probe "mount a tmpfs" "PermissionError: \[Errno 1\]"
# (FileNotFoundError: a PID namespace where the zygote is not there)
assert_probe "setns into the zygote's mount namespace" "(PermissionError: \[Errno (1|13)\]|FileNotFoundError)"
assert_probe "setns into its own user namespace" "PermissionError: \[Errno 1\]"
for p in chroot pivot_root open_tree fsopen; do
	assert_probe "$p" "PermissionError: \[Errno 1\]"
done
for c in unshare mount setns chroot pivot_root open_tree fsopen; do
	assert_seccomp_logged "$c"
done
escape_finish
