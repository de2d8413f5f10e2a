#!/usr/bin/env bash
# fill-tmpdir-quota.sh: a session fills its temp dir with many files, each
# under the file size limit, to fill the host's disk. With a mount
# namespace the temp dir is a tmpfs of [workers] tmp_size, so writing
# stops with ENOSPC at that size and the host's /tmp never sees the data.
# (fill-tmpdir.sh covers one file past the file size limit.)
# Needs [workers] tmp_size (the sbx-ns branch).
. "$top_srcdir/tests/sandbox/lib.sh"

CONF_EXTRA='[workers]
tmp_size = 16MiB'
need_config "[workers] tmp_size"

attempt_code <<'EOF2'
def fill():
    chunk = b"\1" * (1 << 20)
    written = 0
    try:
        while written < (256 << 20):
            with open("fill-%d" % (written >> 23), "ab") as f:
                f.write(chunk)
            written += len(chunk)
    finally:
        print("wrote %d MiB" % (written >> 20))
    return "wrote %d MiB" % (written >> 20)


def attempt(event):
    probe("fill the temp dir", fill)
    return verdict()
EOF2
escape_deploy
attempt "" 60
assert_blocked "OSError: \[Errno 28\] No space left on device"
written=$(printf '%s\n' "$SLOG" | sed -n 's/.*PRINT  *wrote \([0-9]*\) MiB.*/\1/p' | head -n1)
[ -n "$written" ] && [ "$written" -le 16 ] ||
    fail "the session wrote ${written:-?} MiB, over tmp_size (16 MiB)"
ok "the session wrote $written MiB, no more than tmp_size"
escape_finish
