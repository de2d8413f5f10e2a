import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def sc(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return "ok" if r >= 0 else os.strerror(ctypes.get_errno())

def syscalls(event):
    out = {
        "ptrace": sc(101, 0, 0, 0, 0),            # PTRACE_TRACEME
        "mount": sc(165, 0, 0, 0, 0, 0),
        "io_uring_setup": sc(425, 1, 0),
        "bpf": sc(321, 0, 0, 0),
        "unshare": sc(272, 0x10000000),            # CLONE_NEWUSER
        "keyctl": sc(250, 0),
        "perf_event_open": sc(298, 0, 0, -1, -1, 0),
        "userfaultfd": sc(323, 0),
        "tiocsti": sc(16, 0, 0x5412, 0),
        "tiocsti_hi": sc(16, 0, 0x100005412, 0),
        "getpid_ok": sc(39),
        "setuid0": sc(105, 0),
    }
    try:
        open("/etc/shadow").read(); out["shadow"] = "readable!"
    except OSError as e:
        out["shadow"] = e.strerror
    try:
        open("/root/x", "w"); out["root_write"] = "writable!"
    except OSError as e:
        out["root_write"] = e.strerror
    out["fds"] = sorted(int(f) for f in os.listdir("/proc/self/fd"))
    out["dumpable"] = open("/proc/self/status").read().count("\n")
    return out

def x32(event):
    sc(39 | 0x40000000)   # getpid via the x32 ABI: must kill us
    return "survived x32"

def i386(event):
    # int 0x80 getpid: a foreign arch, must be killed
    import mmap
    code = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])  # mov eax,20; int 0x80; ret
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    f = ctypes.CFUNCTYPE(ctypes.c_long)(addr)
    return f()
