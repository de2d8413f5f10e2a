#!/usr/bin/env bash
# foreign-abi-i386.sh: a session makes an i386 system call with int 0x80
# from machine code it mapped executable with ctypes. The filter describes
# the native (x86_64) calls only; the i386 table has other numbers, so
# libseccomp's architecture check kills the process (SIGSYS) before any
# rule is looked at. The session ends in ERROR saying so.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
import mmap


def attempt(event):
    # mov eax, 20 (i386 getpid); int 0x80; ret
    code = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE |
                  mmap.PROT_EXEC)
    m.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    print("calling int 0x80")
    return "survived: %d" % ctypes.CFUNCTYPE(ctypes.c_long)(addr)()
EOF2
escape_deploy
attempt
assert_not_contains "$SLOG" "survived" "the i386 call did not return"
assert_match "$SLOG" "PRINT +calling int 0x80" "the code got as far as the call"
assert_eq error "$STATE" "the attempt's session ended in error"
assert_match "$SLOG" "STATE +error: the worker was killed by signal 31 \(SIGSYS\): the sandbox forbids a system call the session made$" \
    "the session log says the sandbox killed the worker (SIGSYS)"
assert_not_contains "$(cat "$LOG")" "resuming on a new worker" \
    "the session was not retried"
escape_finish
