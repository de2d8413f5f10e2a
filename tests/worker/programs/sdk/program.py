import datetime
import random
import time

import autokitteh
from autokitteh import AutoKittehError


def events(event):
    sid = autokitteh.subscribe("conn", "data.x > 1")
    ev = autokitteh.next_event(sid, timeout=datetime.timedelta(seconds=1.5))
    full = autokitteh.next_event([sid, "sub_2"], full=True)
    none = autokitteh.next_event(sid, timeout=2)
    autokitteh.unsubscribe(sid)
    return [sid, type(ev).__name__, ev.body.bytes.decode(), ev.n,
            type(full).__name__, full.event_id, full.event_type, full.data.n,
            full.session_id, none]


def sessions(event):
    child = autokitteh.start("program.py:child", {"a": 1}, memo={"m": "x"})
    autokitteh.signal(child, "go", {"p": [1, 2]})
    s = autokitteh.next_signal("done", timeout=5)
    n = autokitteh.next_signal(["a", "b"])
    return [child, type(s).__name__, s.name, s.payload, n]


def values(event):
    out = [autokitteh.set_value("k", {"a": [1]}),
           autokitteh.get_value("k"),
           autokitteh.add_values("n", 2),
           autokitteh.check_and_set_value("k", {"a": [1]}, "new"),
           autokitteh.mutate_value("k", "get"),
           autokitteh.del_value("k"),
           autokitteh.list_values_keys()]
    store = autokitteh.store
    out.append(store["n"])
    try:
        store["missing"]
    except KeyError as e:
        out.append(f"KeyError {e}")
    out.append("z" in store)
    out.append(len(store))
    out.append([k for k in store])
    store["w"] = 1
    del store["w"]
    out.append(store.get("missing", "dflt"))
    try:
        autokitteh.get_value("big")
    except AutoKittehError as e:
        out.append(f"AutoKittehError {e}")
    return out


def outcomes(event):
    autokitteh.http_outcome(201, "hi", headers={"X-A": "b"}, more=True)
    autokitteh.http_outcome(body=b"\x00\x01")
    autokitteh.http_outcome(json=None, event_id="evt_1")
    autokitteh.http_outcome(json={"a": 1})
    autokitteh.http_outcome(body={"k": [1]})
    out = []
    try:
        autokitteh.http_outcome(body="x", json={})
    except TypeError as e:
        out.append(str(e))
    try:
        autokitteh.outcome(1)
    except AutoKittehError as e:
        out.append(str(e))
    return out


def errors(event):
    try:
        autokitteh.subscribe("nope")
    except AutoKittehError as e:
        return f"{type(e).__name__}: {e}"
    return "no error"


@autokitteh.activity
def inside():
    out = []
    for f, args in ((autokitteh.subscribe, ("c",)), (autokitteh.get_value, ("k",)),
                    (autokitteh.next_signal, ("s",)), (autokitteh.http_outcome, ())):
        try:
            f(*args)
        except AutoKittehError as e:
            out.append(str(e))
    return out


def in_activity(event):
    return inside()


def not_json(event):
    out = []
    for f, args in ((autokitteh.set_value, ("k", object())),
                    (autokitteh.signal, ("s", "n", {1, 2})),
                    (autokitteh.start, ("p.py:f", {"x": float("nan")})),
                    (autokitteh.http_outcome, (200, None, {"b": b"x"}))):
        try:
            f(*args)
        except TypeError as e:
            out.append(str(e))
    return out


def act_first(event):
    return random.random()


def sys_first(event):
    return autokitteh.subscribe("conn")


def nondurable(event):
    sid = autokitteh.subscribe("conn")
    try:
        autokitteh.next_signal("s")
    except AutoKittehError as e:
        return [sid, str(e)]
    return [sid, "no error"]


def sleeper(event):
    time.sleep(0.01)
    return "slept"
