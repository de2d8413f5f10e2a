#!/usr/bin/env bash
# admin-socket.sh: a session connects to the daemon's admin socket (the
# Unix socket admits root, the daemon's own uid and group autokitteh by
# their peer credentials, so a worker sharing the daemon's uid would be
# admitted as an administrator), and calls the TCP API without a token.
# seccomp lets a worker make no AF_UNIX socket at all (only a socketpair);
# the TCP API wants a bearer token.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
import socket
import urllib.request


def admin(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
    return s.recv(64)


def api():
    req = urllib.request.Request(
        "http://127.0.0.1:%s/autokitteh.projects.v1.ProjectsService/List"
        % os.environ["PORT"], data=b"{}",
        headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=10).read()


def attempt(event):
    probe("connect to the admin socket", admin, os.environ["SOCK"])
    probe("socket(AF_UNIX) by number", syscall, 41, socket.AF_UNIX,
          socket.SOCK_DGRAM, 0)
    probe("the TCP API without a token", api)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_probe "socket\(AF_UNIX\) by number" "PermissionError: \[Errno 1\]"
assert_probe "the TCP API without a token" "HTTPError: HTTP Error 401"
escape_finish
