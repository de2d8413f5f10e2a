/*
 * worker-python.c: the embedded CPython interpreter.
 *
 * The zygote initialises CPython once, isolated from the environment
 * (PyConfig_InitIsolatedConfig: no PYTHON* variables, no user site dir),
 * posing as Debian's /usr/bin/python3 so that sys.prefix, the stdlib and
 * /usr/lib/python3/dist-packages are the system's. Our own directory
 * (AUTOKITTEH_PYTHONPATH: the `autokitteh` SDK and ak_runner.py) goes first
 * on sys.path, and both are imported before any fork.
 *
 * A session worker turns one job frame into a call of ak_runner.build() or
 * ak_runner.run() and the result into BUILT or DONE. All the Python-level
 * logic lives in ak_runner.py; this file only converts between msgpack and
 * Python objects. The builtin module `_ak` gives the runner send_print(),
 * which turns print() and writes to sys.stdout/stderr into PRINT frames,
 * and, for durable sessions, call() (CALL), result() (RESULT, then block
 * for its ACK) and syscall() (SYSCALL, then block for SYSCALL_RESULT, or
 * exit at once on SUSPEND): see PROTOCOL.md and docs/DURABILITY.md.
 */
#define PY_SSIZE_T_CLEAN
#include "worker.h"

#include <Python.h>

#include <stdlib.h>
#include <string.h>

#define PYTHON_EXECUTABLE	"/usr/bin/python3"

static PyObject	*python_runner;		/* the ak_runner module */
static int	 python_ipc_fd = -1;	/* where PRINT goes; -1 in the zygote */
static uint32_t	 python_request_id;	/* RUN's id, echoed by PRINT */
static struct worker_conn *python_conn;	/* RUN's connection (durable replies) */

#define PYTHON_DEFAULT_MAX_RESULT	(1024 * 1024)

/* str -> UTF-8 bytes, never failing on lone surrogates. New reference. */
static PyObject *
python_utf8(PyObject *s)
{
	if (!PyUnicode_Check(s)) {
		PyObject *r = PyObject_Str(s), *b;

		if (r == NULL)
			return NULL;
		b = PyUnicode_AsEncodedString(r, "utf-8", "backslashreplace");
		Py_DECREF(r);
		return b;
	}
	return PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
}

/* The pending Python exception as one line of text (allocated). */
static char *
python_error_text(void)
{
	PyObject	*type, *exc, *tb, *b;
	char		*text;

	PyErr_Fetch(&type, &exc, &tb);
	if (type == NULL)
		return xstrdup("unknown error");
	PyErr_NormalizeException(&type, &exc, &tb);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	if (exc == NULL)
		return xstrdup("unknown error");
	b = python_utf8(exc);
	if (b == NULL) {
		PyErr_Clear();
		xasprintf(&text, "%s", Py_TYPE(exc)->tp_name);
	} else {
		xasprintf(&text, "%s: %s", Py_TYPE(exc)->tp_name,
		    PyBytes_AS_STRING(b));
		Py_DECREF(b);
	}
	Py_DECREF(exc);
	return text;
}

static void
python_pack_pystr(struct frame_builder *fb, const char *key, PyObject *s)
{
	PyObject	*b = python_utf8(s);

	if (b == NULL) {
		PyErr_Clear();
		frame_pack_str(fb, key, "(unprintable)");
		return;
	}
	frame_pack_strn(fb, key, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
	Py_DECREF(b);
}

/* _ak.send_print(text): one PRINT frame. */
static PyObject *
ak_send_print(PyObject *self, PyObject *text)
{
	struct frame_builder	 fb;

	(void)self;
	if (python_ipc_fd == -1) {
		PyErr_SetString(PyExc_RuntimeError, "not in a session worker");
		return NULL;
	}
	frame_begin(&fb, FRAME_PRINT, python_request_id, 1);
	python_pack_pystr(&fb, "text", text);
	worker_send(python_ipc_fd, &fb);
	Py_RETURN_NONE;
}

/*
 * Block until the controller's next frame, which must be of type want (or,
 * if suspend_ok, SUSPEND); what names what we wait for in the log. EOF,
 * anything else or a violation ends the worker: a session cannot go on
 * without it.
 */
static void
ak_wait_frame(uint16_t want, int suspend_ok, const char *what,
    struct frame_msg *msg)
{
	char		*cause = NULL;
	int		 rc;

	Py_BEGIN_ALLOW_THREADS
	rc = worker_conn_recv(python_conn, msg, &cause);
	Py_END_ALLOW_THREADS
	if (rc == 0) {
		log_warning("worker %ld: EOF waiting for %s; exiting",
		    (long)getpid(), what);
		_exit(1);
	}
	if (rc == -1) {
		log_error("worker %ld: waiting for %s: %s", (long)getpid(),
		    what, cause);
		_exit(1);
	}
	if (msg->header.type != want &&
	    !(suspend_ok && msg->header.type == FRAME_SUSPEND)) {
		log_error("worker %ld: got %s while waiting for %s",
		    (long)getpid(), frame_type_name(msg->header.type), what);
		_exit(1);
	}
}

/*
 * Block until the controller's reply to seq: a frame of type want (or,
 * if suspend_ok, SUSPEND, which exits at once). Returns the message (the
 * caller frees it). Anything else, EOF or a violation ends the worker: a
 * durable session cannot continue without its reply.
 */
static void
ak_wait_reply(uint16_t want, uint64_t seq, int suspend_ok,
    struct frame_msg *msg)
{
	uint64_t	 got;
	char		*cause = NULL, what[64];

	snprintf(what, sizeof what, "%s %llu", frame_type_name(want),
	    (unsigned long long)seq);
	ak_wait_frame(want, suspend_ok, what, msg);
	if (frame_get_uint(msg, "seq", 1, &got, &cause) != 0) {
		log_error("worker %ld: %s", (long)getpid(), cause);
		_exit(1);
	}
	if (got != seq) {
		log_error("worker %ld: got %s %llu while waiting for %s %llu",
		    (long)getpid(), frame_type_name(msg->header.type),
		    (unsigned long long)got, frame_type_name(want),
		    (unsigned long long)seq);
		_exit(1);
	}
	if (msg->header.type == FRAME_SUSPEND) {
		if (frame_msg_end(msg, &cause) != 0) {
			log_error("worker %ld: %s", (long)getpid(), cause);
			_exit(1);
		}
		log_debug("worker %ld: suspended at %llu", (long)getpid(),
		    (unsigned long long)seq);
		_exit(0);	/* resumed later by replay; nothing to flush */
	}
}

static int
ak_check_durable(void)
{
	if (python_ipc_fd == -1 || python_conn == NULL) {
		PyErr_SetString(PyExc_RuntimeError,
		    "not in a session worker");
		return -1;
	}
	return 0;
}

/* _ak.call(seq, name, args): CALL, an activity starts. */
static PyObject *
ak_call(PyObject *self, PyObject *args)
{
	struct frame_builder	 fb;
	unsigned long long	 seq;
	PyObject		*name, *summary;

	(void)self;
	if (!PyArg_ParseTuple(args, "KUU", &seq, &name, &summary) ||
	    ak_check_durable() != 0)
		return NULL;
	frame_begin(&fb, FRAME_CALL, python_request_id, 3);
	frame_pack_uint(&fb, "seq", seq);
	python_pack_pystr(&fb, "name", name);
	python_pack_pystr(&fb, "args", summary);
	worker_send(python_ipc_fd, &fb);
	Py_RETURN_NONE;
}

/* _ak.result(seq, name, summary, value=None, error=None): RESULT, then
 * block until its ACK. */
static PyObject *
ak_result(PyObject *self, PyObject *args, PyObject *kwargs)
{
	static char		*kwlist[] = { "seq", "name", "summary", "value",
				    "error", NULL };
	struct frame_builder	 fb;
	struct frame_msg	 msg;
	unsigned long long	 seq;
	PyObject		*name, *summary, *value = Py_None;
	PyObject		*error = Py_None, *blob;
	char			*cause = NULL;

	(void)self;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KUU|OO", kwlist,
	    &seq, &name, &summary, &value, &error) ||
	    ak_check_durable() != 0)
		return NULL;
	if ((value == Py_None) == (error == Py_None)) {
		PyErr_SetString(PyExc_TypeError,
		    "exactly one of value and error is needed");
		return NULL;
	}
	blob = value != Py_None ? value : error;
	if (!PyBytes_Check(blob)) {
		PyErr_SetString(PyExc_TypeError, "value/error must be bytes");
		return NULL;
	}
	frame_begin(&fb, FRAME_RESULT, python_request_id, 4);
	frame_pack_uint(&fb, "seq", seq);
	python_pack_pystr(&fb, "name", name);
	python_pack_pystr(&fb, "summary", summary);
	frame_pack_bin(&fb, value != Py_None ? "value" : "error",
	    PyBytes_AS_STRING(blob), (size_t)PyBytes_GET_SIZE(blob));
	worker_send(python_ipc_fd, &fb);

	ak_wait_reply(FRAME_ACK, seq, 0, &msg);
	if (frame_msg_end(&msg, &cause) != 0) {
		log_error("worker %ld: %s", (long)getpid(), cause);
		_exit(1);
	}
	frame_msg_free(&msg);
	Py_RETURN_NONE;
}

/* _ak.wait_go(): block until GO (a RUN with go: true); anything else exits. */
static PyObject *
ak_wait_go(PyObject *self, PyObject *unused)
{
	struct frame_msg	 msg;
	char			*cause = NULL;

	(void)self;
	(void)unused;
	if (ak_check_durable() != 0)
		return NULL;
	ak_wait_frame(FRAME_GO, 0, "GO", &msg);
	if (frame_msg_end(&msg, &cause) != 0) {
		log_error("worker %ld: %s", (long)getpid(), cause);
		_exit(1);
	}
	frame_msg_free(&msg);
	Py_RETURN_NONE;
}

/* _ak.syscall(seq, name, args_json) -> result JSON text; SUSPEND exits. */
static PyObject *
ak_syscall(PyObject *self, PyObject *args)
{
	struct frame_builder	 fb;
	struct frame_msg	 msg;
	unsigned long long	 seq;
	PyObject		*name, *json, *r;
	char			*cause = NULL, *result = NULL;

	(void)self;
	if (!PyArg_ParseTuple(args, "KUU", &seq, &name, &json) ||
	    ak_check_durable() != 0)
		return NULL;
	frame_begin(&fb, FRAME_SYSCALL, python_request_id, 3);
	frame_pack_uint(&fb, "seq", seq);
	python_pack_pystr(&fb, "name", name);
	python_pack_pystr(&fb, "args", json);
	worker_send(python_ipc_fd, &fb);

	ak_wait_reply(FRAME_SYSCALL_RESULT, seq, 1, &msg);
	if (frame_get_str(&msg, "result", 1, &result, &cause) != 0 ||
	    frame_msg_end(&msg, &cause) != 0) {
		log_error("worker %ld: %s", (long)getpid(), cause);
		_exit(1);
	}
	frame_msg_free(&msg);
	r = PyUnicode_DecodeUTF8(result, (Py_ssize_t)strlen(result),
	    "strict");
	free(result);
	return r;
}

static PyMethodDef ak_methods[] = {
	{ "send_print", ak_send_print, METH_O,
	  "Send text to the session log (one PRINT frame)." },
	{ "call", ak_call, METH_VARARGS,
	  "call(seq, name, args): send CALL (an activity starts)." },
	{ "result", (PyCFunction)(void (*)(void))ak_result,
	  METH_VARARGS | METH_KEYWORDS,
	  "result(seq, name, summary, value=None, error=None): send RESULT "
	  "and wait for its ACK." },
	{ "wait_go", ak_wait_go, METH_NOARGS,
	  "wait_go(): block until GO, the session's commit." },
	{ "syscall", ak_syscall, METH_VARARGS,
	  "syscall(seq, name, args_json): send SYSCALL and return the "
	  "result's JSON text; exits on SUSPEND." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef ak_module = {
	PyModuleDef_HEAD_INIT, "_ak",
	"autokitteh-worker's link to the controller.", -1, ak_methods,
	NULL, NULL, NULL, NULL,
};

static PyObject *
ak_module_init(void)
{
	return PyModule_Create(&ak_module);
}

static int
python_import(const char *pythonpath, char **cause)
{
	PyObject	*sys_path, *dir, *sdk;

	sys_path = PySys_GetObject("path");	/* borrowed */
	dir = PyUnicode_DecodeFSDefault(pythonpath);
	if (sys_path == NULL || dir == NULL ||
	    PyList_Insert(sys_path, 0, dir) != 0) {
		Py_XDECREF(dir);
		*cause = python_error_text();
		return -1;
	}
	Py_DECREF(dir);
	if ((sdk = PyImport_ImportModule("autokitteh")) == NULL) {
		char *why = python_error_text();

		xasprintf(cause, "import autokitteh from %s: %s", pythonpath,
		    why);
		free(why);
		return -1;
	}
	Py_DECREF(sdk);
	if ((python_runner = PyImport_ImportModule("ak_runner")) == NULL) {
		char *why = python_error_text();

		xasprintf(cause, "import ak_runner from %s: %s", pythonpath,
		    why);
		free(why);
		return -1;
	}
	return python_call_quietly("prepare");
}

/*
 * A forked worker waiting for its job: walk the session path once, so the
 * copy-on-write faults it costs are paid now and not by the session.
 */
void
python_warm(void)
{
	python_call_quietly("warm");
}

/* ak_runner.<name>(); errors are logged, never fatal. */
int
python_call_quietly(const char *name)
{
	PyObject *r = PyObject_CallMethod(python_runner, name, NULL);

	if (r == NULL) {
		char *why = python_error_text();

		log_warning("ak_runner.%s: %s", name, why);
		free(why);
		return 0;
	}
	Py_DECREF(r);
	return 0;
}

int
python_init(const char *pythonpath, char **cause)
{
	PyConfig	 config;
	PyStatus	 status;

	if (PyImport_AppendInittab("_ak", ak_module_init) == -1) {
		xasprintf(cause, "cannot register the _ak module");
		return -1;
	}
	PyConfig_InitIsolatedConfig(&config);
	config.write_bytecode = 0;	/* never write .pyc anywhere */
	config.user_site_directory = 0;
	config.site_import = 1;		/* for Debian's dist-packages */
	status = PyConfig_SetBytesString(&config, &config.program_name,
	    PYTHON_EXECUTABLE);
	if (!PyStatus_Exception(status))
		status = PyConfig_SetBytesString(&config, &config.executable,
		    PYTHON_EXECUTABLE);
	if (!PyStatus_Exception(status))
		status = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(status)) {
		xasprintf(cause, "initialisation failed: %s%s%s",
		    status.func != NULL ? status.func : "",
		    status.func != NULL ? ": " : "",
		    status.err_msg != NULL ? status.err_msg : "unknown error");
		return -1;
	}
	return python_import(pythonpath, cause);
}

void
python_before_fork(void)
{
	PyOS_BeforeFork();
}

void
python_after_fork_parent(void)
{
	PyOS_AfterFork_Parent();
}

void
python_after_fork_child(void)
{
	/* Runs os.register_at_fork hooks: random reseeds, etc. */
	PyOS_AfterFork_Child();
}

/* ak_runner.enter(env, tmpdir): the session's environment variables. */
static int
python_enter(PyObject *env, const char *tmpdir, char **cause)
{
	PyObject	*r;

	r = PyObject_CallMethod(python_runner, "enter", "Os", env, tmpdir);
	if (r == NULL) {
		*cause = python_error_text();
		return -1;
	}
	Py_DECREF(r);
	return 0;
}

/* A msgpack str or bin as Python bytes (new reference). */
static PyObject *
python_bytes(const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_BIN)
		return PyBytes_FromStringAndSize(o->via.bin.ptr,
		    o->via.bin.size);
	if (o->type == MSGPACK_OBJECT_STR)
		return PyBytes_FromStringAndSize(o->via.str.ptr,
		    o->via.str.size);
	return NULL;
}

/* A msgpack map of str -> (str if want_str, else str|bin as bytes). */
static PyObject *
python_dict(const msgpack_object *map, int want_str, const char *what,
    char **cause)
{
	PyObject	*d, *k, *v;
	uint32_t	 i;

	if ((d = PyDict_New()) == NULL)
		goto python;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *key = &map->via.map.ptr[i].key;
		const msgpack_object *val = &map->via.map.ptr[i].val;

		if (key->type != MSGPACK_OBJECT_STR ||
		    (want_str && val->type != MSGPACK_OBJECT_STR) ||
		    (!want_str && val->type != MSGPACK_OBJECT_BIN &&
		    val->type != MSGPACK_OBJECT_STR)) {
			xasprintf(cause, "%s entry %u has the wrong type",
			    what, i);
			Py_DECREF(d);
			return NULL;
		}
		k = PyUnicode_DecodeUTF8(key->via.str.ptr, key->via.str.size,
		    "strict");
		if (k == NULL)
			goto python;
		if (want_str)
			v = PyUnicode_DecodeUTF8(val->via.str.ptr,
			    val->via.str.size, "strict");
		else
			v = python_bytes(val);
		if (v == NULL || PyDict_SetItem(d, k, v) != 0) {
			Py_DECREF(k);
			Py_XDECREF(v);
			goto python;
		}
		Py_DECREF(k);
		Py_DECREF(v);
	}
	return d;

python:
	{
		char *why = python_error_text();

		xasprintf(cause, "%s: %s", what, why);
		free(why);
	}
	Py_XDECREF(d);
	return NULL;
}

/* Pack a Python list of str as a msgpack array. */
static int
python_pack_str_list(struct frame_builder *fb, const char *key,
    PyObject *list)
{
	Py_ssize_t	 i, n;

	if (!PyList_Check(list))
		return -1;
	n = PyList_GET_SIZE(list);
	frame_pack_key(fb, key);
	msgpack_pack_array(&fb->pk, (size_t)n);
	for (i = 0; i < n; i++) {
		PyObject *b = python_utf8(PyList_GET_ITEM(list, i));

		if (b == NULL)
			return -1;
		msgpack_pack_str_with_body(&fb->pk, PyBytes_AS_STRING(b),
		    (size_t)PyBytes_GET_SIZE(b));
		Py_DECREF(b);
	}
	return 0;
}

/* exports: [{file, name, line}] from a list of dicts. */
static int
python_pack_exports(struct frame_builder *fb, PyObject *list)
{
	Py_ssize_t	 i, n;
	PyObject	*e, *file, *name, *line;
	long		 lineno;

	if (!PyList_Check(list))
		return -1;
	n = PyList_GET_SIZE(list);
	frame_pack_key(fb, "exports");
	msgpack_pack_array(&fb->pk, (size_t)n);
	for (i = 0; i < n; i++) {
		e = PyList_GET_ITEM(list, i);
		if (!PyDict_Check(e) ||
		    (file = PyDict_GetItemString(e, "file")) == NULL ||
		    (name = PyDict_GetItemString(e, "name")) == NULL ||
		    (line = PyDict_GetItemString(e, "line")) == NULL ||
		    (lineno = PyLong_AsLong(line)) < 0)
			return -1;
		msgpack_pack_map(&fb->pk, 3);
		python_pack_pystr(fb, "file", file);
		python_pack_pystr(fb, "name", name);
		frame_pack_uint(fb, "line", (uint64_t)lineno);
	}
	return 0;
}

static void
python_send_built_error(int fd, uint32_t id, const char *error)
{
	struct frame_builder	 fb;

	frame_begin(&fb, FRAME_BUILT, id, 3);
	frame_pack_bool(&fb, "ok", 0);
	frame_pack_key(&fb, "exports");
	msgpack_pack_array(&fb.pk, 0);
	frame_pack_key(&fb, "errors");
	msgpack_pack_array(&fb.pk, 1);
	msgpack_pack_str_with_body(&fb.pk, error, strlen(error));
	worker_send(fd, &fb);
}

int
python_build(int fd, struct frame_msg *msg, const char *tmpdir, char **cause)
{
	const msgpack_object	*map;
	struct frame_builder	 fb;
	PyObject		*files, *env, *r, *artifact, *exports, *errors;
	uint32_t		 id = msg->header.id;
	char			*why;
	int			 ok;

	if (frame_get_object(msg, "files", 1, MSGPACK_OBJECT_MAP, &map,
	    cause) != 0 || frame_msg_end(msg, cause) != 0)
		return -1;
	if ((files = python_dict(map, 0, "BUILD files", cause)) == NULL)
		return -1;
	python_ipc_fd = fd;
	env = PyDict_New();
	if (env == NULL || python_enter(env, tmpdir, cause) != 0) {
		Py_XDECREF(env);
		Py_DECREF(files);
		return -1;
	}
	Py_DECREF(env);

	r = PyObject_CallMethod(python_runner, "build", "O", files);
	Py_DECREF(files);
	if (r == NULL || !PyArg_ParseTuple(r, "pOOO", &ok, &artifact,
	    &exports, &errors)) {
		why = python_error_text();
		log_error("worker %ld: ak_runner.build: %s", (long)getpid(),
		    why);
		free(why);
		Py_XDECREF(r);
		python_send_built_error(fd, id, "internal error in the "
		    "Python runner (see the server log)");
		return 0;
	}
	if (ok && !PyBytes_Check(artifact)) {
		Py_DECREF(r);
		python_send_built_error(fd, id, "internal error: the runner "
		    "returned no artifact");
		return 0;
	}
	frame_begin(&fb, FRAME_BUILT, id, ok ? 4 : 3);
	frame_pack_bool(&fb, "ok", ok);
	if (ok)
		frame_pack_bin(&fb, "artifact", PyBytes_AS_STRING(artifact),
		    (size_t)PyBytes_GET_SIZE(artifact));
	if (python_pack_exports(&fb, exports) != 0 ||
	    python_pack_str_list(&fb, "errors", errors) != 0) {
		PyErr_Clear();
		frame_builder_free(&fb);
		Py_DECREF(r);
		python_send_built_error(fd, id, "internal error: the runner "
		    "returned malformed exports or errors");
		return 0;
	}
	Py_DECREF(r);
	worker_send(fd, &fb);
	return 0;
}

static void
python_send_done_error(int fd, uint32_t id, const char *error)
{
	struct frame_builder	 fb;

	frame_begin(&fb, FRAME_DONE, id, 2);
	frame_pack_bool(&fb, "ok", 0);
	frame_pack_str(&fb, "error", error);
	worker_send(fd, &fb);
}

/* A msgpack str/bin as a Python str/bytes (new reference); *why on NULL. */
static PyObject *
python_history_field(const msgpack_object *v, int want_str)
{
	if (want_str)
		return PyUnicode_DecodeUTF8(v->via.str.ptr, v->via.str.size,
		    "strict");
	return PyBytes_FromStringAndSize(v->via.bin.ptr, v->via.bin.size);
}

/*
 * RUN's history: entry i is {seq = i + 1, name str, and exactly one of
 * value bin, error bin, result str}, nothing else. A list of dicts with
 * the same keys, or NULL with *cause.
 */
static PyObject *
python_history(const msgpack_object *arr, char **cause)
{
	static const struct {
		const char	*key;
		msgpack_object_type type;
	} fields[] = {
		{ "seq", MSGPACK_OBJECT_POSITIVE_INTEGER },
		{ "name", MSGPACK_OBJECT_STR },
		{ "value", MSGPACK_OBJECT_BIN },
		{ "error", MSGPACK_OBJECT_BIN },
		{ "result", MSGPACK_OBJECT_STR },
	};
	PyObject	*list, *d = NULL, *v;
	uint32_t	 i, j;
	size_t		 f;

	if ((list = PyList_New(0)) == NULL)
		goto python;
	for (i = 0; i < arr->via.array.size; i++) {
		const msgpack_object *e = &arr->via.array.ptr[i];
		int seen[nitems(fields)] = { 0 };

		if (e->type != MSGPACK_OBJECT_MAP) {
			xasprintf(cause, "RUN history entry %u is not a map",
			    i);
			goto fail;
		}
		if ((d = PyDict_New()) == NULL)
			goto python;
		for (j = 0; j < e->via.map.size; j++) {
			const msgpack_object *k = &e->via.map.ptr[j].key;
			const msgpack_object *val = &e->via.map.ptr[j].val;

			for (f = 0; f < nitems(fields); f++) {
				if (k->via.str.size == strlen(fields[f].key) &&
				    memcmp(k->via.str.ptr, fields[f].key,
				    k->via.str.size) == 0)
					break;
			}
			if (f == nitems(fields)) {
				xasprintf(cause, "RUN history entry %u has an "
				    "unexpected field \"%.*s\"", i,
				    (int)(k->via.str.size > 64 ? 64 :
				    k->via.str.size), k->via.str.ptr);
				goto fail;
			}
			if (val->type != fields[f].type) {
				xasprintf(cause, "RUN history entry %u: field "
				    "\"%s\" has the wrong type", i,
				    fields[f].key);
				goto fail;
			}
			seen[f] = 1;
			if (f == 0) {
				if (val->via.u64 != (uint64_t)i + 1) {
					xasprintf(cause, "RUN history entry %u "
					    "has seq %llu, not %u", i,
					    (unsigned long long)val->via.u64,
					    i + 1);
					goto fail;
				}
				v = PyLong_FromUnsignedLongLong(val->via.u64);
			} else if (fields[f].type == MSGPACK_OBJECT_STR &&
			    memchr(val->via.str.ptr, '\0',
			    val->via.str.size) != NULL) {
				xasprintf(cause, "RUN history entry %u: field "
				    "\"%s\" contains a NUL", i, fields[f].key);
				goto fail;
			} else
				v = python_history_field(val,
				    fields[f].type == MSGPACK_OBJECT_STR);
			if (v == NULL ||
			    PyDict_SetItemString(d, fields[f].key, v) != 0) {
				Py_XDECREF(v);
				goto python;
			}
			Py_DECREF(v);
		}
		if (!seen[0] || !seen[1]) {
			xasprintf(cause, "RUN history entry %u lacks \"%s\"",
			    i, seen[0] ? "name" : "seq");
			goto fail;
		}
		if (seen[2] + seen[3] + seen[4] != 1) {
			xasprintf(cause, "RUN history entry %u needs exactly "
			    "one of \"value\", \"error\" and \"result\"", i);
			goto fail;
		}
		if (PyList_Append(list, d) != 0)
			goto python;
		Py_CLEAR(d);
	}
	return list;

python:
	{
		char *why = python_error_text();

		xasprintf(cause, "RUN history: %s", why);
		free(why);
	}
fail:
	Py_XDECREF(d);
	Py_XDECREF(list);
	return NULL;
}

int
python_run(struct worker_conn *conn, struct frame_msg *msg,
    const char *tmpdir, char **cause)
{
	const msgpack_object	*envmap, *histarr = NULL;
	uint64_t		 max_result = PYTHON_DEFAULT_MAX_RESULT;
	int			 durable = 0, go = 0, fd = conn->fd;
	PyObject		*history = NULL, *args = NULL, *kwargs = NULL;
	PyObject		*fn = NULL;
	const uint8_t		*artifact;
	size_t			 artifact_len;
	struct frame_builder	 fb;
	char			*session_id = NULL, *entrypoint = NULL;
	char			*event = NULL, *why;
	PyObject		*env = NULL, *r = NULL;
	PyObject		*value, *error, *traceback;
	uint32_t		 id = msg->header.id, n;
	int			 ok, rc = -1;

	if (frame_get_str(msg, "session_id", 1, &session_id, cause) != 0 ||
	    frame_get_bin(msg, "artifact", 1, &artifact, &artifact_len,
	    cause) != 0 ||
	    frame_get_str(msg, "entrypoint", 1, &entrypoint, cause) != 0 ||
	    frame_get_str(msg, "event", 1, &event, cause) != 0 ||
	    frame_get_object(msg, "env", 1, MSGPACK_OBJECT_MAP, &envmap,
	    cause) != 0 ||
	    frame_get_bool(msg, "durable", 0, &durable, cause) != 0 ||
	    frame_get_uint(msg, "max_result_size", 0, &max_result,
	    cause) != 0 ||
	    frame_get_object(msg, "history", 0, MSGPACK_OBJECT_ARRAY,
	    &histarr, cause) != 0 ||
	    frame_get_bool(msg, "go", 0, &go, cause) != 0 ||
	    frame_msg_end(msg, cause) != 0)
		goto out;
	if (max_result == 0)
		max_result = PYTHON_DEFAULT_MAX_RESULT;
	/* A RESULT must fit in one frame with room for its other fields. */
	if (max_result > FRAME_DEFAULT_LIMIT - 65536)
		max_result = FRAME_DEFAULT_LIMIT - 65536;
	if ((env = python_dict(envmap, 1, "RUN env", cause)) == NULL)
		goto out;
	if (histarr != NULL)
		history = python_history(histarr, cause);
	else
		history = PyList_New(0);
	if (history == NULL) {
		if (*cause == NULL)
			*cause = python_error_text();
		goto out;
	}
	python_ipc_fd = fd;
	python_conn = conn;
	python_request_id = id;
	if (python_enter(env, tmpdir, cause) != 0)
		goto out;

	fn = PyObject_GetAttrString(python_runner, "run");
	args = Py_BuildValue("(y#sss)", (const char *)artifact,
	    (Py_ssize_t)artifact_len, entrypoint, event, session_id);
	kwargs = Py_BuildValue("{sOsOsKsO}", "durable",
	    durable ? Py_True : Py_False, "history", history,
	    "max_result_size", (unsigned long long)max_result, "wait_go",
	    go ? Py_True : Py_False);
	if (fn != NULL && args != NULL && kwargs != NULL)
		r = PyObject_Call(fn, args, kwargs);
	if (r == NULL || !PyArg_ParseTuple(r, "pOOO", &ok, &value, &error,
	    &traceback)) {
		why = python_error_text();
		log_error("worker %ld: ak_runner.run: %s", (long)getpid(),
		    why);
		free(why);
		python_send_done_error(fd, id, "internal error in the Python "
		    "runner (see the server log)");
		rc = 0;
		goto out;
	}
	n = 1 + (value != Py_None) + (error != Py_None) +
	    (traceback != Py_None);
	frame_begin(&fb, FRAME_DONE, id, n);
	frame_pack_bool(&fb, "ok", ok);
	if (value != Py_None)
		python_pack_pystr(&fb, "value", value);
	if (error != Py_None)
		python_pack_pystr(&fb, "error", error);
	if (traceback != Py_None)
		python_pack_pystr(&fb, "traceback", traceback);
	worker_send(fd, &fb);
	rc = 0;

out:
	Py_XDECREF(r);
	Py_XDECREF(fn);
	Py_XDECREF(args);
	Py_XDECREF(kwargs);
	Py_XDECREF(history);
	Py_XDECREF(env);
	free(session_id);
	free(entrypoint);
	free(event);
	return rc;
}
