"""The autokitteh SDK as seen by user code running in autokitteh-c.

The names and signatures follow AutoKitteh's Python SDK (the `autokitteh`
package on PyPI), so programs written for AutoKitteh import unchanged.

What works today: AttrDict, Event, Signal, the errors, get_webhook_url,
and the durable-session controls activity, inhibit_activities and
register_no_activity (read by ak_runner's call intercept; in non-durable
sessions every call runs directly and they change nothing).

Everything that needs the server (events, signals, child sessions, the
value store, outcomes) raises AutoKittehError("<name> is not supported
yet") rather than pretending to work.
"""

from collections.abc import MutableMapping
from dataclasses import dataclass, field
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


def _unsupported(name):
    def fn(*args, **kwargs):
        raise AutoKittehError(f"{name} is not supported yet")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{name}: not supported yet by autokitteh-c; raises AutoKittehError."
    return fn


subscribe = _unsupported("subscribe")
next_event = _unsupported("next_event")
unsubscribe = _unsupported("unsubscribe")
start = _unsupported("start")
signal = _unsupported("signal")
next_signal = _unsupported("next_signal")
get_value = _unsupported("get_value")
set_value = _unsupported("set_value")
del_value = _unsupported("del_value")
add_values = _unsupported("add_values")
check_and_set_value = _unsupported("check_and_set_value")
mutate_value = _unsupported("mutate_value")
list_values_keys = _unsupported("list_values_keys")
publish_value = _unsupported("publish_value")
unpublish_value = _unsupported("unpublish_value")
get_store_public_url = _unsupported("get_store_public_url")
http_outcome = _unsupported("http_outcome")
outcome = _unsupported("outcome")


class _Store(MutableMapping):
    """autokitteh.store: the project's value store as a dict (not yet)."""

    def _fail(self, *args, **kwargs):
        raise AutoKittehError("store is not supported yet")

    __getitem__ = __setitem__ = __delitem__ = __iter__ = __len__ = _fail
    __contains__ = keys = items = values = get = _fail


store = _Store()
