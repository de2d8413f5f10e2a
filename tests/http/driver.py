#!/usr/bin/python3
"""driver.py: replay the hostile-HTTP corpus (tests/http/cases/*.case)
against a running autokittehd, over raw sockets, and print TAP.

Run by tests/http/http-corpus.sh, which starts the daemon and deploys the
project the cases use. Each case file is

    # comments
    key: value          (expect, mode, and the mode's parameters)
    ---
    the raw request: line breaks in the file are not part of it; write
    \\r \\n \\t \\0 \\xHH \\\\ for bytes, {TEXT*N} for TEXT repeated N times
    (innermost first), {WEBHOOK} and {BIG} for the deployed webhook paths.

Every case must end (an answer or a close) before the configured deadline,
http.request_timeout plus a margin; "expect" lists what may end it: status
codes, "4xx", or "close" (closed without an answer). After the answer the
server must close the connection without a second answer: bytes sent after
a refused request (a smuggled request) are never served.

Modes: send (the default: send it all, read the answer), slowloris,
flood, vanish, stall. The last four run background probers (GET /healthz
over TCP and the admin socket, POST to the webhook over TCP) while the
attack goes on, and check what they saw; see run_* below.
"""
import argparse
import glob
import os
import re
import socket
import struct
import sys
import threading
import time

ARGS = None
RESULTS = []            # (ok, name, message)
WEBHOOK_ACCEPTED = [0]  # 202s the daemon gave to good webhook requests
WEBHOOK_UNKNOWN = [0]   # good webhook requests that got no answer in time
LOCK = threading.Lock()


# ---- case files ----

def expand(text, subst):
    for k, v in subst.items():
        text = text.replace("{" + k + "}", v)
    rep = re.compile(r"\{([^{}*]*)\*(\d+)\}")
    while True:
        new = rep.sub(lambda m: m.group(1) * int(m.group(2)), text)
        if new == text:
            return new
        text = new


def unescape(text):
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = text[i + 1]
        if n == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
            continue
        out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0",
                "\\": b"\\"}[n]
        i += 2
    return bytes(out)


def load_case(path, subst):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, sep, body = text.partition("\n---\n")
    if not sep:
        raise ValueError("%s: no --- line before the request" % path)
    params = {}
    for line in head.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition(":")
        params[k.strip()] = v.strip()
    raw = "".join(body.splitlines())
    params["request"] = unescape(expand(raw, subst))
    params["name"] = os.path.basename(path)[:-len(".case")]
    return params


# ---- plain HTTP over a socket ----

def tcp_connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(ARGS.deadline)
    s.connect(("127.0.0.1", ARGS.port))
    return s


def unix_connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(ARGS.deadline)
    s.connect(ARGS.socket)
    return s


def read_answer(s, until):
    """Read one answer; return (status or None, bytes after it, how it
    ended: "eof", "reset", "timeout" or "answer")."""
    return read_answer_from(s, b"", until)


def read_answer_from(s, buf, until):
    """read_answer, with buf already read."""
    while True:
        if parse_answer(buf) is not None:
            total = parse_answer(buf)
            return status_of(buf), buf[total:], "answer"
        left = until - time.monotonic()
        if left <= 0:
            return None, buf, "timeout"
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            return None, buf, "timeout"
        except ConnectionResetError:
            return status_of(buf), b"", "reset"
        if not b:
            return status_of(buf), b"", "eof"
        buf += b


def parse_answer(buf):
    """The length of the complete answer at the start of buf, or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    m = re.search(rb"\r\ncontent-length: *(\d+)", buf[:end], re.I)
    if m is None:
        return None         # until EOF
    total = end + 4 + int(m.group(1))
    return total if len(buf) >= total else None


def status_of(buf):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", buf)
    return int(m.group(1)) if m else None


def request(sock, data, until):
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass        # answered and closed before we were done: fine
    return read_answer(sock, until)


def get(kind, path, method="GET", body=b"", timeout=None):
    """One request on a fresh connection: (status or None, seconds)."""
    t0 = time.monotonic()
    try:
        s = unix_connect() if kind == "unix" else tcp_connect()
    except OSError:
        return None, time.monotonic() - t0
    with s:
        req = ("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               "Content-Length: %d\r\n" % (method, path, len(body)))
        if body:
            req += "Content-Type: application/json\r\n"
        st, _, _ = request(s, req.encode() + b"\r\n" + body,
                           t0 + (timeout or ARGS.deadline))
    return st, time.monotonic() - t0


def gauge_connections():
    """autokitteh_http_connections from /metrics on the admin socket,
    less the connection asking."""
    s = unix_connect()
    with s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        buf = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
    m = re.search(rb"\nautokitteh_http_connections (\d+)", buf)
    return int(m.group(1)) - 1 if m else -1


def wait_gauge(at_most, seconds):
    """Wait until the daemon holds at most at_most other connections."""
    end = time.monotonic() + seconds
    n = gauge_connections()
    while n > at_most and time.monotonic() < end:
        time.sleep(0.1)
        n = gauge_connections()
    return n


# ---- background probers ----

class Prober(threading.Thread):
    """Repeats one good request every interval until stopped and keeps
    (status, seconds) of each."""

    def __init__(self, kind, path, method="GET", body=b"", interval=0.1):
        super().__init__(daemon=True)
        self.kind, self.path, self.method, self.body = kind, path, method, body
        self.interval = interval
        self.seen = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            st, dt = get(self.kind, self.path, self.method, self.body)
            self.seen.append((st, dt))
            if self.method == "POST" and st in (202, None):
                with LOCK:
                    (WEBHOOK_ACCEPTED if st else WEBHOOK_UNKNOWN)[0] += 1
            self.stop.wait(self.interval)

    def finish(self):
        self.stop.set()
        self.join()
        return self.seen

    def describe(self):
        codes = {}
        for st, _ in self.seen:
            codes[st] = codes.get(st, 0) + 1
        worst = max((dt for _, dt in self.seen), default=0)
        return "%s %s %s: %d probes %s, slowest %.2fs" % (
            self.kind, self.method, self.path, len(self.seen),
            " ".join("%s x%d" % (k, v) for k, v in sorted(
                codes.items(), key=lambda kv: str(kv[0]))), worst)


def probers():
    return [Prober("unix", "/healthz"),
            Prober("tcp", "/healthz"),
            Prober("tcp", ARGS.webhook, "POST", b'{"probe": true}', 0.3)]


def check_probers(ps, tcp_codes):
    """Every probe answered in time; the admin socket always 200; TCP
    probes one of tcp_codes (healthz) or 202/503 (the webhook)."""
    problems = []
    for p in ps:
        seen = p.finish()
        if len(seen) < 3:
            problems.append("%s: only %d probes ran" % (p.describe(),
                                                         len(seen)))
            continue
        if p.kind == "unix":
            ok = {200}
        elif p.method == "POST":
            ok = {202} if tcp_codes == {200} else {202, 503}
        else:
            ok = tcp_codes
        bad = [(st, dt) for st, dt in seen
               if st not in ok or dt > ARGS.probe_latency]
        if bad:
            problems.append("%s: %d bad (want %s within %.1fs)" % (
                p.describe(), len(bad), "/".join(map(str, sorted(ok))),
                ARGS.probe_latency))
        elif p.kind == "unix" or p.method == "GET":
            note(p.describe())
    return problems


def note(text):
    print("# " + text, flush=True)


# ---- modes ----

def expected(case):
    want = case.get("expect", "4xx").split()
    return want


def matches(want, status, how):
    for w in want:
        if w == "close" and status is None and how in ("eof", "reset"):
            return True
        if status is not None and (w == str(status) or (
                w.endswith("xx") and str(status)[0] == w[0])):
            return True
    return False


def run_send(case):
    """Send the request (in pieces when "pieces" says so), read the answer,
    then the close."""
    want = expected(case)
    data = case["request"]
    pieces = int(case.get("pieces", "1"))
    t0 = time.monotonic()
    until = t0 + ARGS.deadline
    s = tcp_connect()
    with s:
        try:
            step = max(1, len(data) // pieces)
            for i in range(0, len(data), step):
                s.sendall(data[i:i + step])
                if pieces > 1:
                    time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, extra, how = read_answer(s, until)
        took = time.monotonic() - t0
        if how == "timeout":
            return "no answer and no close within %.1fs" % ARGS.deadline
        if not matches(want, status, how):
            return "got %s (%s), want %s" % (status, how, " or ".join(want))
        if "before" in case and took > float(case["before"]):
            return "answered %s after %.2fs, want under %ss (not just " \
                "the request timeout)" % (status, took, case["before"])
        if "after" in case and took < float(case["after"]):
            return "answered %s after %.2fs, before %ss" % (
                status, took, case["after"])
        if how == "answer" and "then" in case:
            # A pipelined second request, answered in turn.
            status2, extra, how = read_answer_from(s, extra, until)
            if not matches(case["then"].split(), status2, how):
                return "answered %s, then %s (%s), want %s" % (
                    status, status2, how, case["then"])
            status = "%s then %s" % (status, status2)
        if how == "answer":
            # The connection must close, without a(nother) answer.
            _, more, how2 = read_answer(s, until)
            more = extra + more
            if how2 == "timeout":
                return "answered %s but kept the connection open" % status
            if more.startswith(b"HTTP/"):
                return "answered %s, then answered again: %r" % (
                    status, more[:60])
    note("%s: %s after %.2fs" % (case["name"], status or how, took))
    return None


def trickler(results, i, head, interval):
    """A slowloris connection: the request line, then a header line every
    interval seconds, never the end of the head."""
    t0 = time.monotonic()
    try:
        s = tcp_connect()
    except OSError as e:
        results[i] = ("connect failed: %s" % e, 0)
        return
    with s:
        s.settimeout(interval)
        try:
            s.sendall(head)
            n = 0
            while time.monotonic() - t0 < ARGS.deadline:
                try:
                    b = s.recv(4096)
                except socket.timeout:
                    n += 1
                    s.sendall(b"X-Trickle-%d: y\r\n" % n)
                    continue
                status = status_of(b)
                results[i] = (status if status else "close",
                              time.monotonic() - t0)
                return
            results[i] = ("still open", time.monotonic() - t0)
        except (BrokenPipeError, ConnectionResetError):
            results[i] = ("close", time.monotonic() - t0)


def run_slowloris(case):
    """"connections" clients trickle their heads. Each is answered 408
    (or 503 past max_connections) or closed within the deadline, none
    before request_timeout unless refused with 503, and meanwhile the
    probers are served (all 200/202 when the attack stays under
    max_connections)."""
    n = int(case["connections"])
    interval = float(case.get("interval", "0.5"))
    want = expected(case)
    ps = probers()
    results = [None] * n
    threads = [threading.Thread(target=trickler, args=(
        results, i, case["request"], interval), daemon=True)
        for i in range(n)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    for p in ps:
        p.start()
    for t in threads:
        t.join(ARGS.deadline + 5)
    tcp = {200} if n < ARGS.max_connections else {200, 503}
    problems = check_probers(ps, tcp)
    ends = {}
    for r in results:
        if r is None or r[0] == "still open" or str(r[0]).startswith(
                "connect"):
            problems.append("a trickling connection: %s" % (r,))
            continue
        st, dt = r
        ends[st] = ends.get(st, 0) + 1
        if not matches(want, st if st != "close" else None,
                       "eof" if st == "close" else "answer"):
            problems.append("a trickling connection ended with %s" % st)
        if st == 408 and dt < ARGS.timeout * 0.9:
            problems.append("408 after %.2fs, before request_timeout" % dt)
    if n > ARGS.max_connections and ends.get(503, 0) + ends.get(
            "close", 0) < n - ARGS.max_connections:
        problems.append("%d connections over max_connections (%d) but "
                        "only %d refused" % (n, ARGS.max_connections,
                                             ends.get(503, 0)))
    note("%s: %d trickling connections ended: %s" % (
        case["name"], n, " ".join("%s x%d" % (k, v)
                                  for k, v in ends.items())))
    return "; ".join(problems) if problems else None


def run_flood(case):
    """Open "connections" idle connections as fast as possible and hold
    them. The daemon refuses those past max_connections at once (503),
    cuts the rest at request_timeout (408), answers every probe promptly
    meanwhile (200 or 503 over TCP, always 200 on the admin socket), and
    serves TCP again once it has cut them, though the flood still holds
    its sockets."""
    n = int(case["connections"])
    base = gauge_connections()
    ps = probers()
    for p in ps:
        p.start()
    socks = []
    t0 = time.monotonic()
    for _ in range(n):
        try:
            socks.append(tcp_connect())
        except OSError as e:
            for p in ps:
                p.finish()
            return "connect %d failed: %s" % (len(socks) + 1, e)
    if case["request"]:
        for s in socks:
            try:
                s.sendall(case["request"])
            except OSError:
                pass
    # Every one of them must end: answered (503/408) or closed.
    ends = {}
    problems = []
    for s in socks:
        st, _, how = read_answer(s, t0 + ARGS.deadline)
        if how == "answer":
            _, _, how = read_answer(s, t0 + ARGS.deadline)
        if how == "timeout":
            problems.append("a flood connection stayed open past the "
                            "deadline")
            break
        ends[st or "close"] = ends.get(st or "close", 0) + 1
    took = time.monotonic() - t0
    # The flood still holds its sockets: TCP must be served again.
    st, dt = None, 0
    end = time.monotonic() + ARGS.deadline
    while time.monotonic() < end:
        st, dt = get("tcp", "/healthz")
        if st == 200:
            break
        time.sleep(0.1)
    if st != 200:
        problems.append("TCP /healthz is not 200 again while the flood's "
                        "sockets are cut but open (%s)" % st)
    problems += check_probers(ps, {200, 503})
    for s in socks:
        s.close()
    if ends.get(503, 0) < n - ARGS.max_connections:
        problems.append("%d connections, max_connections %d, but only %d "
                        "refused with 503" % (n, ARGS.max_connections,
                                              ends.get(503, 0)))
    left = wait_gauge(base, ARGS.deadline)
    if left > base:
        problems.append("the daemon still holds %d connections (was %d)"
                        % (left, base))
    note("%s: %d connections ended within %.2fs: %s" % (
        case["name"], n, took, " ".join("%s x%d" % (k, v)
                                        for k, v in ends.items())))
    return "; ".join(problems) if problems else None


def run_vanish(case):
    """Ask for a large answer, read "read" bytes of it, and go away: with
    an RST when "rst" is yes (SO_LINGER 0). "repeat" times. The daemon
    drops each connection and keeps serving."""
    base = gauge_connections()
    ps = probers()
    for p in ps:
        p.start()
    problems = []
    got_total = 0
    for _ in range(int(case.get("repeat", "1"))):
        s = tcp_connect()
        s.sendall(case["request"])
        want = int(case.get("read", "1"))
        got = b""
        until = time.monotonic() + ARGS.deadline + 20    # a session runs
        while len(got) < want and time.monotonic() < until:
            s.settimeout(max(0.1, until - time.monotonic()))
            try:
                b = s.recv(want - len(got))
            except socket.timeout:
                break
            if not b:
                break
            got += b
        if status_of(got) != 200:
            problems.append("the large answer began %r" % got[:60])
        got_total += len(got)
        if case.get("rst") == "yes":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        s.close()
    # The sessions go on streaming into the closed connections meanwhile.
    time.sleep(1.5)
    problems += check_probers(ps, {200})
    left = wait_gauge(base, ARGS.deadline)
    if left > base:
        problems.append("the daemon still holds %d connections (was %d)"
                        % (left, base))
    note("%s: read %d bytes of answers, then went away" % (
        case["name"], got_total))
    return "; ".join(problems) if problems else None


def run_stall(case):
    """Ask for a large answer on "connections" connections with a tiny
    receive buffer and never read: the daemon must give each up (its
    write timeout, http.request_timeout) and keep serving meanwhile."""
    base = gauge_connections()
    ps = probers()
    for p in ps:
        p.start()
    socks = []
    for _ in range(int(case.get("connections", "1"))):
        s = tcp_connect(rcvbuf=4096)
        s.sendall(case["request"])
        socks.append(s)
    t0 = time.monotonic()
    time.sleep(1)
    problems = []
    if gauge_connections() <= base:
        problems.append("the stalled connections were gone at once: the "
                        "answer was not large enough to stall")
    left = wait_gauge(base, 2 * ARGS.deadline + 20)
    took = time.monotonic() - t0
    if left > base:
        problems.append("the daemon still holds %d stalled connections "
                        "after %.1fs" % (left - base, took))
    problems += check_probers(ps, {200})
    for s in socks:
        s.close()
    note("%s: %d stalled readers dropped after %.2fs" % (
        case["name"], len(socks), took))
    return "; ".join(problems) if problems else None


MODES = {"send": run_send, "slowloris": run_slowloris, "flood": run_flood,
         "vanish": run_vanish, "stall": run_stall}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--webhook", required=True)
    ap.add_argument("--big", required=True)
    ap.add_argument("--timeout", type=float, required=True,
                    help="http.request_timeout in seconds")
    ap.add_argument("--max-connections", type=int, required=True)
    ap.add_argument("--margin", type=float, default=4.0)
    ap.add_argument("--probe-latency", type=float, default=2.0)
    ap.add_argument("--accepted-file")
    ap.add_argument("cases", nargs="+")
    ARGS = ap.parse_args()
    ARGS.deadline = ARGS.timeout + ARGS.margin
    subst = {"WEBHOOK": ARGS.webhook, "BIG": ARGS.big}
    cases = []
    for path in ARGS.cases:
        cases += sorted(glob.glob(path)) if "*" in path else [path]
    print("1..%d" % len(cases), flush=True)
    failed = 0
    for i, path in enumerate(cases, 1):
        try:
            case = load_case(path, subst)
            mode = case.get("mode", "send")
            t0 = time.monotonic()
            err = MODES[mode](case)
            if err is None:
                # Whatever the case did, a good request is served after.
                st, _ = get("tcp", "/healthz")
                if st != 200:
                    err = "after the case, GET /healthz answered %s" % st
        except Exception as e:     # a driver failure fails the case
            err = "%s: %s" % (type(e).__name__, e)
            case = {"name": os.path.basename(path)}
        name = case["name"]
        if err is None:
            print("ok %d - %s (%.1fs)" % (i, name, time.monotonic() - t0),
                  flush=True)
        else:
            failed += 1
            print("not ok %d - %s: %s" % (i, name, err), flush=True)
    if ARGS.accepted_file:
        with open(ARGS.accepted_file, "w") as f:
            f.write("%d %d\n" % (WEBHOOK_ACCEPTED[0], WEBHOOK_UNKNOWN[0]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
