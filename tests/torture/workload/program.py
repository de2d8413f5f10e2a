"""The torture workload (tests/torture/run, docs/RELIABILITY.md).

Every run of an activity appends a line to an external ledger opened
O_APPEND (the LEDGER project var): that file is the outside world, which a
crash cannot roll back. The checker compares it with what the daemon
recorded. Lines (fields separated by spaces; t is time.time_ns()):

    run SESSION PID T            the session (re)starts on worker PID
    act SESSION K PID T TOKEN    activity K runs (TOKEN names this run)
    ack SESSION K TOKEN T        activity K returned TOKEN to the session

"run" and "ack" lines come from note(), which runs directly and again on
every replay; "act" lines come only from live runs of the activity. Besides
activities a session sleeps (the durable sleep syscall), waits for an event
the driver sends to the "feed" webhook, adds to the value "count" (whose
final value must equal the sum of every session's increments: a syscall
takes effect once), and starts a child session whose end it waits for as
a signal.
"""
import os
import time

import autokitteh


def worker_id():
    """pid@temp-dir: in its own PID namespace every session is pid 1, and
    the driver finds the host's pid by the temp dir (the worker's cwd)."""
    return f"{os.getpid()}@{os.getcwd()}"


@autokitteh.inhibit_activities
def note(kind, *fields):
    """Append one ledger line, directly (not an activity)."""
    if kind == "run":
        fields = fields + (worker_id(), time.time_ns())
    elif kind == "ack":
        fields = fields + (time.time_ns(),)
    line = " ".join([kind] + [str(f) for f in fields]) + "\n"
    fd = os.open(os.environ["LEDGER"], os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@autokitteh.activity
def work(sid, k, seconds):
    """One unit of work with an effect outside: a ledger line."""
    pid, t = worker_id(), time.time_ns()
    token = f"{pid}.{t}"
    fd = os.open(os.environ["LEDGER"], os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, f"act {sid} {k} {pid} {t} {token}\n".encode())
    finally:
        os.close(fd)
    time.sleep(seconds)
    return token


def on_run(event, session_id):
    params = event.data.body.json
    acts, seconds = params["acts"], params["seconds"]
    note("run", session_id)
    sub = autokitteh.subscribe("feed")
    tokens, adds, got_event, child, child_value = [], 0, False, None, None
    for k in range(1, acts + 1):
        token = work(session_id, k, seconds)
        note("ack", session_id, k, token)
        tokens.append(token)
        if k % 4 == 1:
            time.sleep(0.1)                 # the durable sleep syscall
        if k % 3 == 0:
            autokitteh.add_values("count", 1)   # the value store
            adds += 1
        if k == 2 and params.get("child"):
            child = autokitteh.start("program.py:on_child",
                                     {"acts": 2, "seconds": seconds})
        if k == acts // 2:
            # No timeout: the driver keeps sending events; a lost one
            # leaves the session unfinished, which the driver reports.
            got_event = autokitteh.next_event(sub) is not None
    if child is not None:
        # No timeout: a child may wait long behind older sessions.
        sig = autokitteh.next_signal(child)
        child_value = None if sig is None else sig.payload
    return {"tokens": tokens, "adds": adds, "event": got_event, "child": child, "child_value": child_value}


def on_child(event, session_id):
    data = event.data
    note("run", session_id)
    tokens = []
    for k in range(1, data.acts + 1):
        token = work(session_id, k, data.seconds)
        note("ack", session_id, k, token)
        tokens.append(token)
    return {"tokens": tokens}
