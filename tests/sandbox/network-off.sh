#!/usr/bin/env bash
# network-off.sh: with [workers] network = off, a session reaches for the
# network: the daemon's own HTTP port on 127.0.0.1, an address outside,
# a name lookup, and a raw IPv6 connection. Each worker then has a network
# namespace of its own with only a loopback interface, so nothing outside
# it answers. (With the default, network = on, sessions call APIs:
# allowed.sh reaches the daemon's /healthz.)
# Needs [workers] network (the sbx-ns branch).
. "$top_srcdir/tests/sandbox/lib.sh"

CONF_EXTRA='[workers]
network = off'
need_config "[workers] network"

attempt_code <<'EOF2'
import socket
import urllib.request


def connect(host, port, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, port))
    return "connected to %s:%d" % (host, port)


def attempt(event):
    port = int(os.environ["PORT"])
    probe("the daemon's port on 127.0.0.1", connect, "127.0.0.1", port)
    probe("an address outside", connect, "192.0.2.1", 443)
    probe("IPv6 outside", connect, "2001:db8::1", 443, socket.AF_INET6)
    probe("urllib to the daemon", urllib.request.urlopen,
          "http://127.0.0.1:%d/healthz" % port, timeout=5)
    probe("a name lookup", socket.getaddrinfo, "example.com", 443)
    return verdict()
EOF2
escape_deploy
attempt "" 60
assert_blocked "(ConnectionRefusedError|OSError): \[Errno (101|111)\]"
assert_probe "an address outside" "OSError: \[Errno 101\] Network is unreachable"
assert_probe "IPv6 outside" "OSError: \[Errno (101|99)\]"
assert_probe "urllib to the daemon" "URLError"
assert_probe "a name lookup" "gaierror"
escape_finish
