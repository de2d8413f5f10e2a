"""The autokitteh SDK as seen by user code running in autokitteh-c.

The names and signatures follow AutoKitteh's Python SDK (the `autokitteh`
package on PyPI), so programs written for AutoKitteh import unchanged.

What works: AttrDict, Event, Signal, the errors, get_webhook_url, the
durable-session controls activity, inhibit_activities and
register_no_activity (read by ak_runner's call intercept; in non-durable
sessions every call runs directly and they change nothing), and the
functions that ask the server: subscribe, next_event, unsubscribe, start,
signal, next_signal, the value store (get_value ... list_values_keys, and
`store`) and http_outcome. Each of those is one syscall
(ak_runner._syscall, docs/DURABILITY.md): recorded in a durable session's
history and answered from it on replay; refused inside an activity.
Arguments and results travel as JSON.

outcome, publish_value, unpublish_value and get_store_public_url raise
AutoKittehError("<name> is not supported yet").
"""

import base64 as _base64
from collections.abc import MutableMapping
from dataclasses import dataclass, field
import datetime as _datetime
import json as _json
import math as _math
import os
from typing import Any

from . import errors
from .errors import AutoKittehError

__all__ = [
    "AttrDict", "AutoKittehError", "errors", "get_webhook_url",
    "http_outcome", "outcome", "start",
    "activity", "inhibit_activities", "register_no_activity",
    "Event", "next_event", "subscribe", "unsubscribe",
    "next_signal", "signal", "Signal",
    "add_values", "check_and_set_value", "del_value", "get_value",
    "list_values_keys", "mutate_value", "set_value", "store",
    "publish_value", "unpublish_value", "get_store_public_url",
]


class AttrDict(dict):
    """A dict whose keys are also attributes; nested dicts come back as
    AttrDicts. A missing key raises AttributeError."""

    def __getattr__(self, name):
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        if isinstance(value, dict) and not isinstance(value, AttrDict):
            value = AttrDict(value)
        return value

    def __setattr__(self, name, value):
        raise NotImplementedError("AttrDict does not support setting attributes")


@dataclass
class Event:
    """What a handler receives: the event's data, and its identity."""
    data: AttrDict = field(default_factory=AttrDict)
    session_id: str = ""
    event_id: str = ""
    event_type: str = ""


@dataclass
class Signal:
    """A signal received by next_signal()."""
    name: str
    payload: Any = None


# Marks and state shared with the durable runtime (ak_runner._ak_call).
ACTIVITY_MARK = "__ak_activity__"
INHIBIT_MARK = "__ak_inhibit_activities__"


class _Durable:
    """Counters the runtime reads on every intercepted call."""
    inhibit = 0                 # depth of @inhibit_activities functions
    no_activity_ids = set()     # id() of registered callables and classes
    no_activity_objs = []       # ... kept alive here
    no_activity_modules = set() # registered module names


_durable = _Durable


def activity(fn):
    """Run the whole function as one activity in durable sessions: its
    inner calls run directly, and only its return value (or exception)
    is recorded, so it must pickle. Called from code the runtime does not
    intercept (module level), it simply runs."""
    setattr(fn, ACTIVITY_MARK, True)
    return fn


def inhibit_activities(fn):
    """Make no activities inside the function in durable sessions: every
    call in it runs directly, again on replay."""
    import functools
    import inspect

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):
            _Durable.inhibit += 1
            try:
                return await fn(*args, **kwargs)
            finally:
                _Durable.inhibit -= 1
    else:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            _Durable.inhibit += 1
            try:
                return fn(*args, **kwargs)
            finally:
                _Durable.inhibit -= 1
    setattr(wrapper, INHIBIT_MARK, True)
    return wrapper


def register_no_activity(items):
    """Never turn calls of these callables, classes (their constructors
    and methods) or modules (everything in them) into activities."""
    import types

    if callable(items) or isinstance(items, types.ModuleType):
        items = [items]
    for item in items:
        if isinstance(item, types.ModuleType):
            _Durable.no_activity_modules.add(item.__name__)
        elif callable(item):
            _Durable.no_activity_ids.add(id(item))
            _Durable.no_activity_objs.append(item)
        else:
            raise TypeError(f"register_no_activity: {item!r} is not a callable, class or module")


def get_webhook_url(trigger_name):
    """The URL of a webhook trigger of this project."""
    url = os.environ.get(f"{trigger_name}__webhook_url")
    if not url:
        raise AutoKittehError(f"Webhook URL not found for trigger {trigger_name!r}")
    return url


def _unsupported(name, hint=""):
    def fn(*args, **kwargs):
        raise AutoKittehError(f"{name} is not supported yet{hint}")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{name}: not supported yet by autokitteh-c; raises AutoKittehError."
    return fn


# --- syscalls ------------------------------------------------------------
# ak_runner installs the session's hooks here when it starts; outside a
# session worker the SDK functions raise AutoKittehError.

class _Runtime:
    syscall = None      # syscall(name, fn_name, args) -> value (ak_runner._syscall)
    durable = None      # durable() -> bool
    make_event = None   # make_event({data, event_id, event_type}) -> Event


def _call(fn, name, args):
    if _Runtime.syscall is None:
        raise AutoKittehError(f"{fn} needs an autokitteh session")
    return _Runtime.syscall(name, fn, args)


def _json_check(fn, what, value):
    """value, after checking that it is JSON-serialisable."""
    try:
        _json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as e:
        reason = " ".join(str(e).splitlines()) or type(e).__name__
        raise TypeError(f"{fn}: {what} must be JSON-serialisable ({reason})") from None
    return value


def _str_arg(fn, what, value, empty_ok=False):
    if not isinstance(value, str):
        raise TypeError(f"{fn}: {what} must be a str, not {type(value).__name__}")
    if not value and not empty_ok:
        raise ValueError(f"{fn}: {what} must not be empty")
    return value


def _names_arg(fn, what, value):
    """A str or a list/tuple of str -> [str] (not empty)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{fn}: {what} must be a str or a list of str, "
                        f"not {type(value).__name__}")
    if not items:
        raise ValueError(f"{fn}: {what} must not be empty")
    return [_str_arg(fn, what, v) for v in items]


def _timeout_arg(fn, timeout):
    """None, seconds (int/float) or a timedelta -> float seconds or None."""
    if timeout is None:
        return None
    if isinstance(timeout, _datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"{fn}: timeout {timeout!r} should be a timedelta or number of seconds")
    if not _math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{fn}: timeout must be a finite, non-negative number of seconds")
    return seconds


def subscribe(source: str, filter: str = "") -> str:
    """Subscribe to the events of a connection or trigger (by name); filter
    is a CEL expression. Returns the subscription ID."""
    return _call("subscribe", "subscribe", {
        "source": _str_arg("subscribe", "source", source),
        "filter": _str_arg("subscribe", "filter", filter, empty_ok=True)})


def unsubscribe(subscription_id: str) -> None:
    """End a subscription."""
    _call("unsubscribe", "unsubscribe",
          {"id": _str_arg("unsubscribe", "subscription_id", subscription_id)})


def next_event(subscription_id, *, timeout=None, full: bool = False):
    """The next event of the subscription(s): its data as an AttrDict, or
    the whole Event with full=True; None after timeout (seconds or a
    timedelta; None waits for ever)."""
    value = _call("next_event", "next_event", {
        "ids": _names_arg("next_event", "subscription_id", subscription_id),
        "timeout": _timeout_arg("next_event", timeout)})
    if value is None:
        return None
    if not isinstance(value, dict):
        raise AutoKittehError(f"next_event: the server sent a bad event: {value!r:.80}")
    event = _Runtime.make_event(value)
    return event if full else event.data


def start(loc: str, data: dict | None = None, memo: dict | None = None,
          project: str = "") -> str:
    """Start a child session at loc ("file.py:function") of this project
    (or of project) with data as its event's data. Returns its ID."""
    _str_arg("start", "loc", loc)
    file, sep, function = loc.rpartition(":")
    if not sep or not file.endswith(".py") or not function:
        raise ValueError(f"start: bad loc {loc!r}: expected file.py:function")
    data = {} if data is None else data
    memo = {} if memo is None else memo
    if not isinstance(data, dict):
        raise TypeError(f"start: data must be a dict, not {type(data).__name__}")
    if not isinstance(memo, dict):
        raise TypeError(f"start: memo must be a dict, not {type(memo).__name__}")
    return _call("start", "start", {
        "loc": loc, "data": _json_check("start", "data", data),
        "memo": _json_check("start", "memo", memo),
        "project": _str_arg("start", "project", project, empty_ok=True)})


def signal(session_id: str, name: str, payload: Any = None) -> None:
    """Send the signal name, with payload, to a session."""
    _call("signal", "signal", {
        "session_id": _str_arg("signal", "session_id", session_id),
        "name": _str_arg("signal", "name", name),
        "payload": _json_check("signal", "payload", payload)})


def next_signal(name, *, timeout=None):
    """The next signal sent to this session with one of the names, as a
    Signal; None after timeout. Durable sessions only."""
    names = _names_arg("next_signal", "name", name)
    seconds = _timeout_arg("next_signal", timeout)
    if _Runtime.durable is not None and not _Runtime.durable():
        raise AutoKittehError("next_signal needs a durable session")
    value = _call("next_signal", "next_signal", {"names": names, "timeout": seconds})
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise AutoKittehError(f"next_signal: the server sent a bad signal: {value!r:.80}")
    return Signal(value["name"], value.get("payload"))


# --- the value store ------------------------------------------------------

def _store(fn, op, key, args=()):
    if op != "list":
        _str_arg(fn, "key", key)
    for i, v in enumerate(args):
        _json_check(fn, "the value" if len(args) == 1 else f"argument {i + 1}", v)
    return _call(fn, "store", {"op": op, "key": key, "args": list(args)})


def get_value(key: str) -> Any:
    """The value stored under key, or None."""
    return _store("get_value", "get", key)


def set_value(key: str, value: Any) -> None:
    """Store value (JSON) under key."""
    _store("set_value", "set", key, (value,))


def del_value(key: str) -> None:
    """Delete key (nothing happens if it is not there)."""
    _store("del_value", "del", key)


def add_values(key: str, value: int | float) -> int | float:
    """Add value to the number stored under key (atomically; a missing key
    starts at 0). Returns the new value."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"add_values: value must be a number, not {type(value).__name__}")
    return _store("add_values", "add", key, (value,))


def check_and_set_value(key: str, expected_value: Any, new_value: Any) -> bool:
    """Atomically store new_value under key if its value is expected_value
    (None: the key is not there). Returns whether it did."""
    return _store("check_and_set_value", "check_and_set", key, (expected_value, new_value))


def mutate_value(key: str, op: str, *args: Any) -> Any:
    """The store operation op ("get", "set", "del", "add",
    "check_and_set") on key with args; returns its result."""
    _str_arg("mutate_value", "op", op)
    return _store("mutate_value", "mutate", key, (str(op),) + args)


def list_values_keys() -> list[str]:
    """The keys of the project's store, sorted."""
    return _store("list_values_keys", "list", "")


class _Store(MutableMapping):
    """autokitteh.store: the project's value store as a dict. Each access
    is a store call; read-modify-write sequences are not atomic (use
    add_values or check_and_set_value)."""

    def __getitem__(self, key):
        value = get_value(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        set_value(key, value)

    def __delitem__(self, key):
        del_value(key)

    def __iter__(self):
        return iter(list_values_keys())

    def __len__(self):
        return len(list_values_keys())

    def __contains__(self, key):
        return isinstance(key, str) and key in list_values_keys()

    def __repr__(self):
        return "<autokitteh.store>"


store = _Store()


# --- outcomes -------------------------------------------------------------

_UNSET = type("_Unset", (), {"__repr__": lambda self: "<unset>", "__bool__": lambda self: False})()


def http_outcome(status_code: int = 200, body: Any = None, json: Any = _UNSET,
                 headers: dict[str, str] | None = None, more: bool = False,
                 event_id: str | None = None) -> None:
    """Answer the webhook request of a sync webhook trigger (the event
    event_id, by default the one that started the session): status_code,
    body (str, bytes, or a dict or list sent as JSON) or json (any JSON
    value, sent with Content-Type application/json), headers. more=True:
    more chunks follow (status_code and headers count only in the first)."""
    fn = "http_outcome"
    if not isinstance(status_code, int) or isinstance(status_code, bool):
        raise TypeError(f"{fn}: status_code must be an int, not {type(status_code).__name__}")
    if not 100 <= status_code <= 599:
        raise ValueError(f"{fn}: status_code {status_code} is not an HTTP status")
    if body is not None and json is not _UNSET:
        raise TypeError(f"{fn}: body and json cannot be used together")
    args = {"status_code": status_code, "body": None}
    if isinstance(body, (bytes, bytearray, memoryview)):
        args["body_b64"] = _base64.b64encode(bytes(body)).decode("ascii")
    elif isinstance(body, (dict, list)):
        args["body"] = _json.dumps(_json_check(fn, "body", body))
    elif body is None or isinstance(body, str):
        args["body"] = body
    else:
        raise TypeError(f"{fn}: body must be str, bytes, dict, list or None, "
                        f"not {type(body).__name__}")
    if json is not _UNSET:
        args["json"] = _json_check(fn, "json", json)
        args["json_set"] = True
    headers = {} if headers is None else headers
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise TypeError(f"{fn}: headers must be a dict of str to str")
    args["headers"] = dict(headers)
    args["more"] = bool(more)
    if event_id is not None:
        _str_arg(fn, "event_id", event_id)
    args["event_id"] = event_id
    _call(fn, "outcome", args)


outcome = _unsupported("outcome", "; use http_outcome")
publish_value = _unsupported("publish_value")
unpublish_value = _unsupported("unpublish_value")
get_store_public_url = _unsupported("get_store_public_url")

# Connections' clients, as autokitteh.github and autokitteh.http (PyGithub
# is imported only when github_client is called).
from . import github, http  # noqa: E402
