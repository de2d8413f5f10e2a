"""ak_runner: build and run a project's Python code inside autokitteh-worker.

The worker's C code (workers/worker-python.c) calls three functions, each
in a sandboxed, single-use worker process:

  enter(env, tmpdir)   set the session's environment variables
  build(files)         compile every .py -> (ok, artifact, exports, errors)
  run(artifact, entrypoint, event_json, session_id, durable=False,
      history=(), max_result_size=1 << 20)
                       -> (ok, value_json, error, traceback)
                       (value_json goes into DONE as "value")

Build rewrites every call inside a function body into _ak_call(f, ...),
which in a durable session decides per call: direct, an activity (CALL,
run, RESULT, wait for ACK; answered from the history on replay) or the
sleep syscall (docs/DURABILITY.md). In a non-durable session every call is
direct. The SDK's server functions (subscribe, next_event, signal, the
store, http_outcome, ...) are syscalls through _syscall, in durable and
non-durable sessions alike (the latter have no history: always live).

An artifact is marshal.dumps({"magic", "sources", "code"}): the decoded
sources and their compiled code objects, valid while "magic" equals this
interpreter's importlib.util.MAGIC_NUMBER (otherwise run() recompiles the
sources). At run time user modules come only from the artifact, through a
sys.meta_path finder: program.py is module "program", pkg/mod.py is
"pkg.mod". Output of print() and sys.stdout/sys.stderr goes to the session
log, one PRINT frame per line (per print() call), without the newline.
"""

import ast
import base64
import builtins
import functools
import importlib.machinery
import importlib.util
import inspect
import io
import json
import linecache
import marshal
import math
import os
import pickle
import reprlib
import sys
import time
import traceback
import types

import _ak
import autokitteh

MAGIC = importlib.util.MAGIC_NUMBER
PRINT_CHUNK = 1 << 20          # characters per PRINT frame, far below the frame limit
KEEP_ENV = ("PATH", "LANG")    # inherited variables a session keeps


def enter(env, tmpdir):
    """Replace os.environ with the session's: PATH and LANG, the project's
    variables, and HOME/TMPDIR = the session's private directory."""
    want = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
    want.update(env)
    want["HOME"] = want["TMPDIR"] = tmpdir
    # Only what differs: each change is a putenv or unsetenv, and
    # clearing everything first cost four times as long.
    for k in [k for k in os.environ if k not in want]:
        del os.environ[k]
    for k, v in want.items():
        if os.environ.get(k) != v:
            os.environ[k] = v
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = None


# --- build --------------------------------------------------------------

def module_name(path):
    """program.py -> program, pkg/mod.py -> pkg.mod, pkg/__init__.py -> pkg."""
    name = path[:-len(".py")].replace("/", ".")
    if name.endswith(".__init__"):
        name = name[:-len(".__init__")]
    return name


def _path_problem(path):
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        return "file names must be relative paths without '.' or '..' parts"
    if path == "__init__.py":
        return "a top-level __init__.py cannot be imported"
    return None


def _syntax_error(path, e):
    return f"{path}:{e.lineno or 1}:{e.offset or 1}: {e.msg}"


# Calls whose meaning depends on the calling frame: never intercepted.
_FRAME_CALLS = frozenset({"super", "locals", "globals", "vars", "dir", "eval",
                          "exec", "breakpoint"})


class CallRewriter(ast.NodeTransformer):
    """Rewrite every call inside a function body, f(a, *b, k=v, **kw) into
    _ak_call(f, a, *b, k=v, **kw), and `await f(x)` into
    `await _ak_acall(f, x)` (reference/autokitteh.md 4.2). Module-level
    and class-body calls, decorators and class bases are left alone, and
    so are the frame-dependent builtins (zero-argument super() needs the
    compiler's __class__ cell). Lambdas are not function bodies: their
    calls are rewritten only when the lambda is inside a function."""

    def __init__(self):
        self.in_function = False

    def _function(self, node):
        saved = self.in_function
        node.args = self.visit(node.args)       # defaults: the enclosing scope
        self.in_function = True
        node.body = [self.visit(stmt) for stmt in node.body]
        self.in_function = saved
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node):
        saved = self.in_function
        self.in_function = False
        node.body = [self.visit(stmt) for stmt in node.body]
        self.in_function = saved
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if not self.in_function:
            return node
        if isinstance(node.func, ast.Name) and node.func.id in _FRAME_CALLS:
            return node
        call = ast.Call(func=ast.Name(id="_ak_call", ctx=ast.Load()),
                        args=[node.func] + node.args, keywords=node.keywords)
        ast.copy_location(call.func, node.func)
        return ast.copy_location(call, node)

    def visit_Await(self, node):
        self.generic_visit(node)
        v = node.value
        if (isinstance(v, ast.Call) and isinstance(v.func, ast.Name)
                and v.func.id == "_ak_call"):
            v.func.id = "_ak_acall"
        return node


def compile_source(source, path):
    """(tree, code object of the rewritten tree). The rewrite changes only
    what is inside statements: the top-level defs (the exports: names and
    lines) are the original ones. Raises SyntaxError/ValueError like
    compile()."""
    tree = ast.parse(source, path)
    tree = ast.fix_missing_locations(CallRewriter().visit(tree))
    return tree, compile(tree, path, "exec", dont_inherit=True)


def build(files):
    """Compile every .py file. Other files are ignored for now."""
    sources, code, exports, errors = {}, {}, [], []
    for path in sorted(files):
        if not path.endswith(".py"):
            continue
        problem = _path_problem(path)
        if problem:
            errors.append(f"{path}:1:1: {problem}")
            continue
        try:
            source = importlib.util.decode_source(files[path])
            tree, compiled = compile_source(source, path)
        except SyntaxError as e:
            errors.append(_syntax_error(path, e))
            continue
        except (UnicodeDecodeError, ValueError) as e:
            errors.append(f"{path}:1:1: {e}")
            continue
        sources[path] = source
        code[path] = compiled
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                exports.append({"file": path, "name": node.name, "line": node.lineno})
    if errors:
        return False, None, exports, errors
    artifact = marshal.dumps({"magic": MAGIC, "sources": sources, "code": code})
    return True, artifact, exports, []


# --- run: loading user modules from the artifact --------------------------

class ArtifactFinder:
    """sys.meta_path finder and loader for the modules in an artifact.
    Directories without an __init__.py become empty packages."""

    def __init__(self, artifact):
        self.sources = artifact["sources"]
        self.code = artifact["code"] if artifact.get("magic") == MAGIC else {}
        self.modules = {module_name(p): p for p in self.sources}
        self.packages = set()
        for p in self.sources:
            parts = p.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                self.packages.add(".".join(parts[:i]))

    def find_spec(self, fullname, path=None, target=None):
        origin = self.modules.get(fullname)
        if origin is None and fullname not in self.packages:
            return None
        is_package = fullname in self.packages
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=origin,
                                              is_package=is_package)
        spec.has_location = origin is not None
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        path = module.__spec__.origin
        if path is None:
            return                      # a directory without __init__.py
        code = self.code.get(path)
        if code is None:
            code = compile_source(self.sources[path], path)[1]
        module.__dict__["_ak_call"] = _ak_call
        module.__dict__["_ak_acall"] = _ak_acall
        exec(code, module.__dict__)


# --- run: durable sessions (docs/DURABILITY.md) ---------------------------

class _S:
    """The session's durable state (one session per worker process)."""
    durable = False
    session_id = ""
    history = []                # [{seq, name, value|error|result}]
    max_result_size = 1 << 20
    seq = 0                     # the last call number handed out
    replaying = False           # seq < len(history): prints are not sent
    activity = 0                # > 0 inside an activity (or our own work)
    user_modules = frozenset()
    fatal = None                # the message of a session the runtime ended
    fatal_exc = None


class _SessionEnded(BaseException):
    """The runtime ends the session (nondeterminism, unpicklable result):
    a BaseException so that `except Exception` does not swallow it, and
    sticky: every later intercepted call raises it again, and run()
    reports it whatever the handler does with it."""


def _end(message):
    if _S.fatal is None:
        _S.fatal = message
    e = _SessionEnded(_S.fatal)
    if _S.fatal_exc is None:
        _S.fatal_exc = e
    raise e


_real_sleep = time.sleep
_DIRECT, _ACTIVITY, _SLEEP = 0, 1, 2

# Deterministic code that runs directly (reference/autokitteh.md 4.3): whole
# modules, or "module.qualname" prefixes; _DENY wins over _ALLOW.
_ALLOW = frozenset("""
    abc array asyncio base64 binascii bisect bz2 calendar cmath codecs collections
    colorsys contextlib copy copyreg csv dataclasses datetime decimal difflib enum
    fnmatch fractions functools graphlib gzip hashlib heapq hmac html inspect
    ipaddress itertools json keyword logging lzma math numbers operator pickle
    pprint re reprlib shlex statistics string struct sys textwrap traceback types
    typing typing_extensions unicodedata urllib.parse warnings weakref xml.dom
    xml.etree xml.parsers xml.sax.saxutils zlib zoneinfo
    _abc _bisect _blake2 _bz2 _codecs _collections _collections_abc _csv
    _datetime _decimal _functools _hashlib _heapq _json _lzma _md5 _operator
    _pickle _sha1 _sha2 _sha256 _sha3 _sha512 _sre _statistics _string _struct
    _weakref _weakrefset _zoneinfo
    _io.StringIO _io.BytesIO io.StringIO io.BytesIO uuid.UUID
    posixpath.join posixpath.basename posixpath.dirname posixpath.split
    posixpath.splitext posixpath.normpath posixpath.isabs
""".split())
_DENY = frozenset("""
    datetime.datetime.now datetime.datetime.utcnow datetime.datetime.today
    datetime.date.today
""".split())


def _describe(fn):
    """(module, name): the module whose code fn is, deciding direct or
    activity, and the call's name "module.qualname" ("module.Class.method"
    for a bound method, named after the instance's class)."""
    if isinstance(fn, types.MethodType):
        owner, func = fn.__self__, fn.__func__
        cls = owner if isinstance(owner, type) else type(owner)
        module = getattr(func, "__module__", None) or cls.__module__
        return module, f"{cls.__module__}.{cls.__qualname__}.{getattr(func, '__name__', '?')}"
    if isinstance(fn, (types.BuiltinFunctionType, types.MethodWrapperType)):
        owner = fn.__self__
        if owner is None or isinstance(owner, types.ModuleType):
            module = owner.__name__ if owner is not None else (fn.__module__ or "builtins")
            return module, f"{module}.{fn.__name__}"
        cls = owner if isinstance(owner, type) else type(owner)
        return cls.__module__, f"{cls.__module__}.{cls.__qualname__}.{fn.__name__}"
    if isinstance(fn, (types.WrapperDescriptorType, types.MethodDescriptorType,
                       types.ClassMethodDescriptorType)):
        cls = fn.__objclass__
        return cls.__module__, f"{cls.__module__}.{cls.__qualname__}.{fn.__name__}"
    if isinstance(fn, type):
        return fn.__module__, f"{fn.__module__}.{fn.__qualname__}"
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return module, f"{module}.{qualname}"
    cls = type(fn)                      # a callable instance
    return cls.__module__, f"{cls.__module__}.{cls.__qualname__}"


def _prefixes(dotted):
    parts = dotted.split(".")
    return (".".join(parts[:i]) for i in range(1, len(parts) + 1))


def _marked(fn, mark):
    try:
        return getattr(fn, mark, False) is True
    except Exception:
        return False


def _registered(fn, module):
    reg = autokitteh._durable
    if not reg.no_activity_ids and not reg.no_activity_modules:
        return False
    ids = reg.no_activity_ids
    if id(fn) in ids:
        return True
    owner = getattr(fn, "__self__", None) if not isinstance(fn, type) else None
    if owner is not None and not isinstance(owner, types.ModuleType):
        cls = owner if isinstance(owner, type) else type(owner)
        if id(owner) in ids or id(cls) in ids:
            return True
    objclass = getattr(fn, "__objclass__", None)
    if objclass is not None and id(objclass) in ids:
        return True
    return any(p in reg.no_activity_modules for p in _prefixes(module))


def _decide(fn):
    """(_DIRECT | _ACTIVITY | _SLEEP, name)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if not callable(fn):
        return _DIRECT, None            # fn(...) raises the usual TypeError
    if fn is _real_sleep:
        return _SLEEP, "sleep"
    try:
        module, name = _describe(fn)
    except Exception:
        module, name = "?", repr(type(fn))
    if _marked(fn, autokitteh.ACTIVITY_MARK):
        return _ACTIVITY, name
    if _marked(fn, autokitteh.INHIBIT_MARK):
        return _DIRECT, name
    fname = getattr(fn, "__name__", None)
    if isinstance(fname, str) and getattr(builtins, fname, None) is fn:
        return _DIRECT, name            # len, print, open, isinstance, ...
    if isinstance(fn, type) and issubclass(fn, BaseException):
        return _DIRECT, name            # making an exception
    if not isinstance(module, str):
        module = "?"
    top = module.partition(".")[0]
    if (module == "builtins" or module in _S.user_modules
            or top in ("autokitteh", "ak_runner")):
        return _DIRECT, name
    if _registered(fn, module):
        return _DIRECT, name
    if name in _DENY:
        return _ACTIVITY, name
    if any(p in _ALLOW for p in _prefixes(module)) or any(p in _ALLOW for p in _prefixes(name)):
        return _DIRECT, name
    return _ACTIVITY, name


def _ak_call(fn, /, *args, **kwargs):
    """Every call in a function body of the project's code comes here."""
    if not _S.durable or _S.activity or autokitteh._durable.inhibit:
        return fn(*args, **kwargs)
    if _S.fatal is not None:
        _end(_S.fatal)
    kind, name = _decide(fn)
    if kind == _DIRECT:
        return fn(*args, **kwargs)
    if kind == _SLEEP:
        return _durable_sleep(*args, **kwargs)
    return _activity(fn, name, args, kwargs)


class _Ready:
    """An awaitable already resolved: `await activity(...)`."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __await__(self):
        return self.value
        yield                           # a generator: pylint: disable=unreachable


def _ak_acall(fn, /, *args, **kwargs):
    """`await f(...)` in a function body: as _ak_call, but an activity's
    (or a replayed) value comes back awaitable."""
    if not _S.durable or _S.activity or autokitteh._durable.inhibit:
        return fn(*args, **kwargs)
    if _S.fatal is not None:
        _end(_S.fatal)
    kind, name = _decide(fn)
    if kind == _DIRECT:
        return fn(*args, **kwargs)
    if kind == _SLEEP:
        return _Ready(_durable_sleep(*args, **kwargs))
    return _Ready(_activity(fn, name, args, kwargs))


class _Internal:
    """Our own work on user objects (repr, pickling): their methods are
    intercepted code too, and must run directly."""

    def __enter__(self):
        _S.activity += 1

    def __exit__(self, *exc):
        _S.activity -= 1


_internal = _Internal()
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 80
_repr.maxlevel = 3
SUMMARY_MAX = 200


def _cut(text):
    text = " ".join(text.splitlines())
    return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1] + "\u2026"


def _safe_repr(v):
    try:
        return _repr.repr(v)
    except Exception:
        return f"<{type(v).__name__} object>"


def _args_summary(args, kwargs):
    with _internal:
        parts = [_safe_repr(a) for a in args]
        parts += [f"{k}={_safe_repr(v)}" for k, v in kwargs.items()]
        return _cut(", ".join(parts))


def _type_name(v):
    t = type(v)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _next_seq():
    _S.seq += 1
    _S.replaying = _S.seq < len(_S.history)
    return _S.seq


def _recorded(seq, name, field):
    """The history entry for call seq, checked against this call."""
    rec = _S.history[seq - 1]
    if rec["name"] != name or field not in rec:
        _end(f"nondeterminism at call #{seq}: history has {rec['name']}, code called {name}")
    return rec


def _replay(seq, name, rec):
    with _internal:
        try:
            if "value" in rec:
                return pickle.loads(rec["value"])
            err = pickle.loads(rec["error"])
        except Exception as e:
            _end(f"the recorded result of call #{seq} ({name}) cannot be unpickled: "
                 f"{_error_line(e)}")
    if not isinstance(err, BaseException):
        _end(f"the recorded error of call #{seq} ({name}) is not an exception")
    raise err


def _run_coro(coro):
    """Run a coroutine an activity returned to completion, even under a
    running event loop (an async handler): then in a thread of its own."""
    import asyncio
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import threading
    box = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as e:          # pylint: disable=broad-except
            box["error"] = e

    t = threading.Thread(target=target, name="ak-activity")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _pickle_value(name, value):
    try:
        blob = pickle.dumps(value, protocol=5)
        return blob, pickle.loads(blob)
    except Exception as e:
        reason = " ".join(str(e).splitlines()) or type(e).__name__
        _end(f"the result of {name} (a {_type_name(value)}) cannot be pickled: {reason}; "
             "wrap the code that makes and uses it in one function decorated with "
             "@autokitteh.activity")


def _pickle_error(exc):
    try:
        blob = pickle.dumps(exc, protocol=5)
        copy = pickle.loads(blob)
        if type(copy) is type(exc):
            return blob, copy
    except Exception:
        pass
    substitute = autokitteh.AutoKittehError(_error_line(exc))
    return pickle.dumps(substitute, protocol=5), substitute


def _activity(fn, name, args, kwargs):
    seq = _next_seq()
    if seq <= len(_S.history):
        return _replay(seq, name, _recorded(seq, name, "value" if "value" in
                                            _S.history[seq - 1] else "error"))
    _ak.call(seq, name, _args_summary(args, kwargs))
    exc = value = None
    _S.activity += 1
    try:
        value = fn(*args, **kwargs)
        if inspect.iscoroutine(value):
            value = _run_coro(value)
    except Exception as e:              # BaseExceptions end the session
        exc = e
    finally:
        _S.activity -= 1
    with _internal:
        if exc is None:
            blob, copy = _pickle_value(name, value)
            summary = _cut(_safe_repr(copy))
        else:
            blob, copy = _pickle_error(exc)
            summary = _cut(_error_line(exc))
    if len(blob) > _S.max_result_size:
        _end(f"the result of {name} is {len(blob)} bytes, over workers.max_result_size "
             f"({_S.max_result_size} bytes)")
    if exc is None:
        _ak.result(seq, name, summary, value=blob)
        return copy
    _ak.result(seq, name, summary, error=blob)
    try:
        raise copy.with_traceback(exc.__traceback__)
    finally:
        exc = copy = None               # no reference cycle through this frame


def _durable_sleep(*args, **kwargs):
    """time.sleep(seconds) in a durable session: the sleep syscall."""
    if kwargs or len(args) != 1 or type(args[0]) not in (int, float, bool) \
            or not math.isfinite(args[0]) or args[0] < 0:
        return _real_sleep(*args, **kwargs)     # the usual TypeError/ValueError
    seconds = args[0] if type(args[0]) is not bool else int(args[0])
    _syscall("sleep", "time.sleep", {"seconds": seconds})
    return None


def _syscall(name, fn, args):
    """One SDK syscall (docs/DURABILITY.md): name and args (a JSON-able
    dict) go to the controller as SYSCALL{seq, name, args}; its result is
    JSON text, {"value": X} -> X or {"error": "sentence"} ->
    AutoKittehError(sentence). In a durable session the result is recorded
    and, on replay, taken from the history. fn names the SDK function for
    the messages."""
    if _S.fatal is not None:
        _end(_S.fatal)
    if _S.activity:
        raise autokitteh.AutoKittehError(f"{fn} cannot be called inside an activity")
    text = json.dumps(args, allow_nan=False)    # the SDK checked the values
    seq = _next_seq()
    if seq <= len(_S.history):
        result = _recorded(seq, name, "result")["result"]
    else:
        result = _ak.syscall(seq, name, text)
    return _syscall_value(seq, name, result)


def _syscall_value(seq, name, text):
    try:
        r = json.loads(text)
    except (TypeError, ValueError):
        r = ValueError
    if isinstance(r, dict) and len(r) == 1:
        if "value" in r:
            return r["value"]
        if "error" in r:
            raise autokitteh.AutoKittehError(str(r["error"]))
    if name == "sleep" and r is None:
        return None                     # histories before {"value": null}
    _end(f"the result of syscall #{seq} ({name}) is malformed: {_cut(repr(text))}")


def _event_of(value):
    """next_event's value {data, event_id, event_type} -> an Event."""
    return _make_event(value, _S.session_id)


def _is_durable():
    return _S.durable


autokitteh._Runtime.syscall = _syscall
autokitteh._Runtime.durable = _is_durable
autokitteh._Runtime.make_event = _event_of


def _start_session(durable, history, max_result_size, user_modules, session_id=""):
    _S.durable = bool(durable)
    _S.session_id = session_id
    _S.history = list(history) if durable else []
    _S.max_result_size = max_result_size
    _S.seq = 0
    _S.replaying = len(_S.history) > 0
    _S.activity = 0
    _S.user_modules = frozenset(user_modules)
    _S.fatal = _S.fatal_exc = None


# --- run: output --------------------------------------------------------

def _emit(text):
    if _S.replaying:
        return                  # printed already, before the replayed calls
    for i in range(0, max(len(text), 1), PRINT_CHUNK):
        _ak.send_print(text[i:i + PRINT_CHUNK])


class PrintStream(io.TextIOBase):
    """sys.stdout/sys.stderr: complete lines go to the session log."""

    def __init__(self, name):
        self.name = name
        self._pending = ""

    def writable(self):
        return True

    @property
    def encoding(self):
        return "utf-8"

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self._pending += s
        while "\n" in self._pending:
            line, _, self._pending = self._pending.partition("\n")
            _emit(line)
        if len(self._pending) >= PRINT_CHUNK:
            self.flush()
        return len(s)

    def flush(self):
        if self._pending:
            text, self._pending = self._pending, ""
            _emit(text)


_real_print = builtins.print


def ak_print(*args, sep=" ", end="\n", file=None, flush=False):
    """print(): one PRINT per call, its final newline dropped."""
    if file is not None and file is not sys.stdout and file is not sys.stderr:
        return _real_print(*args, sep=sep, end=end, file=file, flush=flush)
    for what, v in (("sep", sep), ("end", end)):
        if v is not None and not isinstance(v, str):
            raise TypeError(f"{what} must be None or a string, not {type(v).__name__}")
    text = (" " if sep is None else sep).join(map(str, args)) + ("\n" if end is None else end)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, PrintStream):
            stream.flush()
    _emit(text[:-1] if text.endswith("\n") else text)


# --- run: the handler call -----------------------------------------------

def _make_event(event, session_id):
    data = event.get("data") or {}
    body = data.get("body") if isinstance(data, dict) else None
    if isinstance(body, dict) and isinstance(body.get("bytes"), str):
        body["bytes"] = base64.b64decode(body["bytes"])     # AutoKitteh's fix_http_body
    return autokitteh.Event(data=autokitteh.AttrDict(data),
                            session_id=event.get("session_id") or session_id,
                            event_id=event.get("event_id", ""),
                            event_type=event.get("event_type", ""))


def _wants_session_id(fn):
    try:
        return "session_id" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _to_json(value):
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(repr(value))


def _error_line(e):
    """'Type: message' on one line, named as traceback would name it."""
    t = type(e)
    name = t.__qualname__
    if t.__module__ not in ("builtins", "__main__"):
        name = f"{t.__module__}.{name}"
    try:
        msg = str(e)
    except Exception:
        msg = "<exception str() failed>"
    line = f"{name}: {msg}" if msg else name
    return " ".join(line.splitlines())


def _user_traceback(e, user_files):
    """The traceback restricted to frames in the user's own files."""
    tb = e.__traceback__
    traceback.clear_frames(tb)          # free locals first (MemoryError)
    frames = [f for f in traceback.extract_tb(tb) if f.filename in user_files]
    text = "".join(traceback.format_exception_only(type(e), e))
    if not frames:
        return text
    return ("Traceback (most recent call last):\n"
            + "".join(traceback.format_list(frames)) + text)


def _load_entry(finder, path):
    """Import the entry module from the artifact, even if a module of the
    same name (e.g. from the stdlib) was imported already."""
    name = module_name(path)
    spec = finder.find_spec(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _fatal_result(user_files):
    """DONE for a session the runtime ended: its message, and where the
    user's code was (user frames only)."""
    e = _S.fatal_exc
    text = _S.fatal + "\n"
    frames = []
    if e is not None and e.__traceback__ is not None:
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename in user_files]
    if frames:
        text = ("Traceback (most recent call last):\n"
                + "".join(traceback.format_list(frames)) + text)
    return False, None, _S.fatal, text


def run(artifact, entrypoint, event_json, session_id, durable=False, history=(),
        max_result_size=1 << 20, wait_go=False):
    """Call the handler; never raises. A durable session replays history
    (a list of {seq, name, value|error|result}) before going live. With
    wait_go, everything up to the project's code is prepared, then
    _ak.wait_go() blocks until the controller has committed the session
    (protocol/PROTOCOL.md: GO)."""
    path, _, name = entrypoint.rpartition(":")
    if not path.endswith(".py") or not name:
        return False, None, f"bad entry point {entrypoint!r}: expected file.py:function", None
    try:
        loaded = marshal.loads(artifact)
        finder = ArtifactFinder(loaded)
    except Exception as e:
        return False, None, f"the build artifact is unreadable: {e}", None
    if path not in finder.sources:
        return False, None, f"{path} is not in the build", None
    event = _make_event(json.loads(event_json), session_id)
    _start_session(durable, history, max_result_size,
                   set(finder.modules) | finder.packages, session_id)

    for p, source in finder.sources.items():
        linecache.cache[p] = (len(source), None, source.splitlines(True), p)
    sys.meta_path.insert(0, finder)
    builtins.print = ak_print
    sys.stdout, sys.stderr = PrintStream("<stdout>"), PrintStream("<stderr>")
    try:
        if wait_go:
            _ak.wait_go()
        module = _load_entry(finder, path)
        fn = getattr(module, name, None)
        if fn is None or not callable(fn):
            return False, None, f"{path} has no function {name}", None
        kwargs = {"session_id": session_id} if _wants_session_id(fn) else {}
        result = _ak_call(fn, event, **kwargs)     # @activity: one activity
        if inspect.iscoroutine(result):
            import asyncio
            result = asyncio.run(result)
        if _S.fatal is not None:
            return _fatal_result(finder.sources)
        if _S.seq < len(_S.history):
            rec = _S.history[_S.seq]
            return (False, None, f"nondeterminism at call #{_S.seq + 1}: history has "
                    f"{rec['name']}, code returned", None)
        with _internal:
            return True, _to_json(result), None, None
    except BaseException as e:      # SystemExit and KeyboardInterrupt too
        if _S.fatal is not None:
            return _fatal_result(finder.sources)
        try:
            with _internal:
                return False, None, _error_line(e), _user_traceback(e, finder.sources)
        except MemoryError:
            return False, None, _error_line(e), None
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


# --- warming ------------------------------------------------------------
# A forked worker shares the zygote's memory until it writes to it, and
# CPython writes (reference counts) wherever it goes. prepare() runs once in
# the zygote; warm() runs in each worker while it waits for its job and
# walks the session path, so those copy-on-write faults are paid before a
# session arrives rather than by it.

_WARM = {}


def prepare():
    import gc
    ok, artifact, _, _ = build({"warm.py": b"def f(event):\n    return {'ok': True}\n"})
    if ok:
        _WARM["artifact"] = artifact
    _WARM["event"] = json.dumps({"data": {"body": {"bytes": None, "json": {"a": 1}},
                                          "headers": {"X": "y"}},
                                 "event_id": "evt", "event_type": "post"})
    gc.freeze()     # objects made so far are never traversed in workers


def warm():
    """A dress rehearsal: enter() and run() on a trivial handler, durable,
    so that the session's own pay as few faults as possible (enter alone
    took 62, 0.4 ms); then undo what they leave behind for the real
    session (the environment, the finder, print and the standard streams,
    the module, its source lines)."""
    artifact = _WARM.get("artifact")
    if artifact is None:
        return
    saved = (list(sys.meta_path), builtins.print, sys.stdout, sys.stderr)
    environ = dict(os.environ)
    try:
        try:
            enter({}, environ.get("TMPDIR", "/tmp"))
        finally:
            os.environ.clear()
            os.environ.update(environ)
        run(artifact, "warm.py:f", _WARM["event"], "ses_warm", durable=True)
    finally:
        sys.meta_path[:] = saved[0]
        builtins.print, sys.stdout, sys.stderr = saved[1:]
        sys.modules.pop("warm", None)
        linecache.cache.pop("warm.py", None)
        _start_session(False, (), 1 << 20, ())
