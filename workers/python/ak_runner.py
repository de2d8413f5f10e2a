"""ak_runner: build and run a project's Python code inside autokitteh-worker.

The worker's C code (workers/worker-python.c) calls three functions, each
in a sandboxed, single-use worker process:

  enter(env, tmpdir)   set the session's environment variables
  build(files)         compile every .py -> (ok, artifact, exports, errors)
  run(artifact, entrypoint, event_json, session_id)
                       -> (ok, value_json, error, traceback)
                       (value_json goes into DONE as "value")

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
import importlib.machinery
import importlib.util
import inspect
import io
import json
import linecache
import marshal
import os
import sys
import traceback

import _ak
import autokitteh

MAGIC = importlib.util.MAGIC_NUMBER
PRINT_CHUNK = 1 << 20          # characters per PRINT frame, far below the frame limit
KEEP_ENV = ("PATH", "LANG")    # inherited variables a session keeps


def enter(env, tmpdir):
    """Replace os.environ with the session's: PATH and LANG, the project's
    variables, and HOME/TMPDIR = the session's private directory."""
    keep = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
    os.environ.clear()
    os.environ.update(keep)
    os.environ.update(env)
    os.environ["HOME"] = os.environ["TMPDIR"] = tmpdir
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
            tree = ast.parse(source, path)
            compiled = compile(tree, path, "exec", dont_inherit=True)
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
            code = compile(self.sources[path], path, "exec", dont_inherit=True)
        exec(code, module.__dict__)


# --- run: output --------------------------------------------------------

def _emit(text):
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


def run(artifact, entrypoint, event_json, session_id):
    """Call the handler; never raises."""
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

    for p, source in finder.sources.items():
        linecache.cache[p] = (len(source), None, source.splitlines(True), p)
    sys.meta_path.insert(0, finder)
    builtins.print = ak_print
    sys.stdout, sys.stderr = PrintStream("<stdout>"), PrintStream("<stderr>")
    try:
        module = _load_entry(finder, path)
        fn = getattr(module, name, None)
        if fn is None or not callable(fn):
            return False, None, f"{path} has no function {name}", None
        kwargs = {"session_id": session_id} if _wants_session_id(fn) else {}
        result = fn(event, **kwargs)
        if inspect.iscoroutine(result):
            import asyncio
            result = asyncio.run(result)
        return True, _to_json(result), None, None
    except BaseException as e:      # SystemExit and KeyboardInterrupt too
        try:
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
    artifact = _WARM.get("artifact")
    if artifact is None:
        return
    finder = ArtifactFinder(marshal.loads(artifact))
    event = _make_event(json.loads(_WARM["event"]), "ses_warm")
    spec = finder.find_spec("warm")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = module.f
    _wants_session_id(fn)
    _to_json(fn(event))
