/*
 * pool.c: the zygote and the warm pool of session workers.
 *
 * The controller fork+execs one `autokitteh-worker --zygote` (fresh address
 * space: no database handle, no listeners) with the IPC socket on fd 3. The
 * zygote initialises Python once and forks a worker per SPAWN request; the
 * worker's own socket (one end of a socketpair we make) travels with the
 * SPAWN frame. We keep workers.pool_size forked workers READY so a session
 * starts without waiting, and never more than workers.max workers at all.
 * Workers are used once: a session or a build, then they exit.
 *
 * Workers are children of the zygote, so the zygote tells us how they ended
 * (EXITED{pid, code, signal}); a worker is reported gone to its client when
 * both its socket has closed and its exit is known (or, if the zygote died
 * with it, after a short grace period). A crashing zygote is restarted with
 * exponential backoff: 1 s, doubling, capped at 60 s, reset once it has been
 * up for a minute.
 *
 * Peers are untrusted: any protocol violation from a worker kills it; one
 * from the zygote restarts the zygote.
 */
#include "autokittehd.h"
#include "failpoint.h"
#include "frame.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

#define ZYGOTE_START_TIMEOUT_S	30
#define BACKOFF_MIN_S		1
#define BACKOFF_MAX_S		60
#define BACKOFF_RESET_S		60
#define GONE_GRACE_MS		2000
#define WORKER_NOFILE		1024
#define WORKER_FSIZE		(256ULL << 20)
#define WORKER_UID_BASE		200000	/* dedicated uids when we are root */
#define WORKER_UID_COUNT	50000

enum worker_state { W_SPAWNING, W_READY, W_BUSY, W_GONE };

struct worker {
	struct pool		*pool;
	uint64_t		 id;
	pid_t			 pid;
	int			 fd;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_grace;
	struct frame_reader	 reader;
	struct evbuffer		*out;
	enum worker_state	 state;
	int			 hello;
	int			 ready_frame;	/* READY came before its pid */
	int			 eof;
	int			 exited;
	int			 exit_code;
	int			 exit_signal;
	char			*kill_reason;
	int			 violated;	/* broke the protocol */
	size_t			 partial;	/* bytes of a frame at EOF */
	char			*tmpdir;
	struct pool_client	 client;
	int			 has_client;
	int			 dispatching;	/* in worker_read_cb */
	int			 free_pending;
	TAILQ_ENTRY(worker)	 entry;
};
TAILQ_HEAD(worker_list, worker);

struct pool {
	struct event_base	*base;
	const struct config	*config;
	char			*worker_path;
	char			*python_path;
	/* zygote */
	pid_t			 zygote_pid;
	int			 zfd;
	struct event		*zev_read;
	struct frame_reader	 zreader;
	int			 zhello;
	int			 zready;
	time_t			 zready_since;
	struct event		*zev_start_timeout;
	struct event		*ev_restart;
	struct event		*ev_sigchld;
	struct event		*ev_fill;
	int			 backoff_s;
	int			 restarts;
	int			 stopping;
	int			 spawn_outstanding;	/* SPAWN sent, no SPAWNED yet */
	char			*last_failure;	/* why the zygote last failed */
	/* the sandbox (sandbox-probe.c) */
	struct sandbox_support	*sandbox;
	char			*hide;		/* dirs workers must not see */
	char			**cgroup_pending;	/* leaves still busy */
	size_t			 ncgroup_pending;
	/* workers */
	struct worker_list	 workers;
	size_t			 nspawning, nready, nbusy;
	uint64_t		 next_id;
};

static void pool_fill(struct pool *);
static void zygote_lost(struct pool *, const char *why);
static void worker_finish(struct worker *, const char *lost_reason);

/* A worker became READY or capacity was freed: let waiting work start. */
static void
pool_worker_ready(void)
{
	build_schedule();
	session_schedule();
}

/* ---- small helpers ---- */

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	if (remove(path) == -1 && errno != ENOENT)
		log_debug("pool: removing %s: %s", path, strerror(errno));
	return 0;
}

static void
remove_tree(const char *dir)
{
	if (dir != NULL)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *
signal_name(int sig)
{
	const char *n = sigabbrev_np(sig);

	return n != NULL ? n : "?";
}

/* The worker's cgroup leaves, ':'-separated ("" without cgroups). */
static char *
worker_cgroups(struct pool *p, uint64_t id)
{
	char *list = xstrdup(""), *tmp;
	const char *dir;

	for (int i = 0; p->sandbox != NULL && i < 2; i++) {
		if ((dir = sandbox_support_cgroup(p->sandbox, i)) == NULL)
			continue;
		xasprintf(&tmp, "%s%s%s/w%llu", list, *list != '\0' ? ":" : "",
		    dir, (unsigned long long)id);
		free(list);
		list = tmp;
	}
	return list;
}

/* Retry removing the cgroups that were still busy. */
static void
pool_retry_cgroups(struct pool *p)
{
	size_t i, kept = 0;

	for (i = 0; i < p->ncgroup_pending; i++) {
		if (rmdir(p->cgroup_pending[i]) == 0 || errno == ENOENT)
			free(p->cgroup_pending[i]);
		else
			p->cgroup_pending[kept++] = p->cgroup_pending[i];
	}
	p->ncgroup_pending = kept;
}

/*
 * Remove a gone worker's cgroups. The last processes of a session that was
 * killed may still be on their way out (its pid 1 dies after the waiter
 * the zygote reported), so a busy one is kept and retried when the next
 * worker goes, and at shutdown.
 */
static void
pool_remove_cgroups(struct pool *p, uint64_t id)
{
	char *list, *next, *dir;

	pool_retry_cgroups(p);
	next = list = worker_cgroups(p, id);
	while ((dir = strsep(&next, ":")) != NULL) {
		if (*dir == '\0' || rmdir(dir) == 0 || errno == ENOENT)
			continue;
		p->cgroup_pending = xreallocarray(p->cgroup_pending,
		    p->ncgroup_pending + 1, sizeof *p->cgroup_pending);
		p->cgroup_pending[p->ncgroup_pending++] = xstrdup(dir);
	}
	free(list);
}

/* The worker binary: $AUTOKITTEH_WORKER, next to us (a build tree), or
 * libexecdir. */
static char *
find_worker_binary(void)
{
	const char *env = getenv("AUTOKITTEH_WORKER");
	char self[4096], *slash, *path;
	ssize_t n;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			xasprintf(&path, "%s/autokitteh-worker", self);
			if (access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	return xstrdup(LIBEXECDIR "/autokitteh-worker");
}

/* ---- worker I/O ---- */

static int
worker_flush(struct worker *w)
{
	while (evbuffer_get_length(w->out) > 0) {
		int n = evbuffer_write(w->out, w->fd);

		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		return -1;
	}
	if (evbuffer_get_length(w->out) > 0)
		event_add(w->ev_write, NULL);
	else
		event_del(w->ev_write);
	return 0;
}

int
worker_send(struct worker *w, const uint8_t *frame, size_t len)
{
	if (w->state == W_GONE || w->eof)
		return -1;
	if (evbuffer_get_length(w->out) + len > 2 * (size_t)FRAME_DEFAULT_LIMIT) {
		log_warning("pool: worker %d: output queue over its cap; "
		    "killing it", (int)w->pid);
		worker_kill(w, "its output queue overflowed");
		return -1;
	}
	evbuffer_add(w->out, frame, len);
	if (worker_flush(w) != 0) {
		worker_kill(w, "writing to it failed");
		return -1;
	}
	return 0;
}

void
worker_kill(struct worker *w, const char *reason)
{
	if (w->kill_reason == NULL)
		w->kill_reason = xstrdup(reason);
	if (w->pid > 0 && !w->exited)
		kill(w->pid, SIGKILL);
	if (w->ev_read != NULL)
		event_del(w->ev_read);
	if (!w->eof) {
		w->eof = 1;
		shutdown(w->fd, SHUT_RDWR);
	}
	if (w->exited || w->pid <= 0 || w->pool->zygote_pid <= 0)
		worker_finish(w, NULL);
	else
		event_add(w->ev_grace, &(struct timeval){ GONE_GRACE_MS / 1000,
		    (GONE_GRACE_MS % 1000) * 1000 });
}

pid_t
worker_pid(struct worker *w)
{
	return w->pid;
}

int
worker_violated(struct worker *w)
{
	return w->violated;
}

static void
worker_set_state(struct worker *w, enum worker_state state)
{
	struct pool *p = w->pool;

	switch (w->state) {
	case W_SPAWNING: p->nspawning--; break;
	case W_READY: p->nready--; break;
	case W_BUSY: p->nbusy--; break;
	case W_GONE: break;
	}
	w->state = state;
	switch (state) {
	case W_SPAWNING: p->nspawning++; break;
	case W_READY: p->nready++; break;
	case W_BUSY: p->nbusy++; break;
	case W_GONE: break;
	}
}

/* Report the end exactly once, then free. */
static void
worker_finish(struct worker *w, const char *lost_reason)
{
	struct pool *p = w->pool;
	struct pool_client client = w->client;
	int had_client = w->has_client;
	char reason[512];
	int code = -1, sig = 0;

	if (w->state == W_GONE)
		return;
	if (w->kill_reason == NULL && w->partial > 0 && w->exited &&
	    w->exit_signal == 0) {
		/* Not cut by a signal: it wrote part of a frame and left. */
		w->violated = 1;
		xasprintf(&w->kill_reason, "the worker violated the protocol "
		    "(it exited %zu bytes into a frame)", w->partial);
		log_warning("pool: worker %d violated the protocol: it exited "
		    "%zu bytes into a frame", (int)w->pid, w->partial);
	}
	if (w->kill_reason != NULL)
		snprintf(reason, sizeof reason, "%s", w->kill_reason);
	else if (lost_reason != NULL)
		snprintf(reason, sizeof reason, "%s", lost_reason);
	else if (w->exited && w->exit_signal > 0)
		snprintf(reason, sizeof reason, "the worker was killed by "
		    "signal %d (SIG%s)", w->exit_signal,
		    signal_name(w->exit_signal));
	else if (w->exited)
		snprintf(reason, sizeof reason, "the worker exited with "
		    "status %d", w->exit_code);
	else
		snprintf(reason, sizeof reason, "the worker was lost");
	if (w->exited) {
		code = w->exit_code;
		sig = w->exit_signal;
	}
	worker_set_state(w, W_GONE);
	TAILQ_REMOVE(&p->workers, w, entry);
	event_free(w->ev_read);
	event_free(w->ev_write);
	event_free(w->ev_grace);
	close(w->fd);
	evbuffer_free(w->out);
	frame_reader_free(&w->reader);
	remove_tree(w->tmpdir);
	pool_remove_cgroups(p, w->id);
	log_debug("pool: worker %d (#%llu) gone: %s", (int)w->pid,
	    (unsigned long long)w->id, reason);
	if (had_client)
		client.gone(w, code, sig, reason, client.arg);
	free(w->kill_reason);
	free(w->tmpdir);
	if (w->dispatching)
		w->free_pending = 1;	/* worker_read_cb frees it */
	else
		free(w);
	pool_fill(p);
	if (!p->stopping)
		pool_worker_ready();
}

static void
worker_grace_cb(evutil_socket_t fd, short events, void *arg)
{
	worker_finish(arg, "the worker's exit status never arrived");
}

static int
worker_handle(struct worker *w, struct frame_msg *msg, char **cause)
{
	uint64_t version = 0, pid = 0;
	char *role = NULL;

	if (!w->hello) {
		if (msg->header.type != FRAME_HELLO) {
			xasprintf(cause, "expected HELLO, got %s",
			    frame_type_name(msg->header.type));
			return -1;
		}
		if (frame_get_uint(msg, "version", 1, &version, cause) != 0 ||
		    frame_get_str(msg, "role", 1, &role, cause) != 0 ||
		    frame_get_uint(msg, "pid", 1, &pid, cause) != 0 ||
		    frame_msg_end(msg, cause) != 0) {
			free(role);
			return -1;
		}
		if (version != FRAME_VERSION || strcmp(role, "worker") != 0) {
			xasprintf(cause, "HELLO from a %s speaking version %llu; "
			    "expected a worker speaking %d", role,
			    (unsigned long long)version, FRAME_VERSION);
			free(role);
			return -1;
		}
		free(role);
		w->hello = 1;
		return 0;
	}
	if (w->state == W_SPAWNING) {
		if (msg->header.type != FRAME_READY) {
			xasprintf(cause, "expected READY, got %s",
			    frame_type_name(msg->header.type));
			return -1;
		}
		if (frame_msg_end(msg, cause) != 0)
			return -1;
		/*
		 * Not READY before the zygote told us its pid (SPAWNED may
		 * come second): a worker handed out without one could not be
		 * killed, and its session could run twice.
		 */
		if (w->pid <= 0)
			w->ready_frame = 1;
		else
			worker_set_state(w, W_READY);
		return 0;
	}
	if (w->state != W_BUSY || !w->has_client) {
		xasprintf(cause, "unexpected %s from an idle worker",
		    frame_type_name(msg->header.type));
		return -1;
	}
	if (w->client.message(w, msg, w->client.arg, cause) != 0) {
		if (*cause == NULL)
			xasprintf(cause, "its %s message was not acceptable",
			    frame_type_name(msg->header.type));
		return -1;
	}
	return 0;
}

static void
worker_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker *w = arg;
	uint8_t buf[65536];
	struct frame_msg msg;
	char *cause = NULL;
	ssize_t n;
	int rc;

	n = read(fd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		event_del(w->ev_read);
		w->eof = 1;
		w->partial = w->reader.len - w->reader.off;
		if (w->exited || w->pool->zygote_pid <= 0)
			worker_finish(w, NULL);
		else
			event_add(w->ev_grace, &(struct timeval){
			    GONE_GRACE_MS / 1000, (GONE_GRACE_MS % 1000) *
			    1000 });
		return;
	}
	frame_reader_feed(&w->reader, buf, (size_t)n);
	w->dispatching = 1;
	while ((rc = frame_reader_next(&w->reader, &msg, &cause)) == 1) {
		rc = worker_handle(w, &msg, &cause);
		frame_msg_free(&msg);
		/* Killed by its client: nothing it sent after counts. */
		if (rc != 0 || w->state == W_GONE || w->kill_reason != NULL)
			break;
	}
	w->dispatching = 0;
	if (w->free_pending) {
		free(cause);
		free(w);
		return;
	}
	if (rc == -1) {
		char reason[512];

		log_warning("pool: worker %d violated the protocol: %s; "
		    "killing it", (int)w->pid, cause);
		snprintf(reason, sizeof reason, "the worker violated the "
		    "protocol (%s) and was killed", cause);
		free(cause);
		w->violated = 1;
		worker_kill(w, reason);
		return;
	}
	if (w->state == W_READY) {
		pool_fill(w->pool);
		pool_worker_ready();
	}
}

static void
worker_write_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker *w = arg;

	if (worker_flush(w) != 0)
		worker_kill(w, "writing to it failed");
}

/* ---- spawning ---- */

static int
pool_spawn(struct pool *p)
{
	const struct config *cf = p->config;
	struct frame_builder fb;
	struct worker *w;
	const uint8_t *frame;
	size_t len;
	int sv[2], rc;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char *cgroups;
	unsigned bits;

	/*
	 * One SPAWN in flight at a time: a stream socket may deliver the fds
	 * of two SPAWNs in one read, which the zygote could not pair with
	 * their frames. SPAWNED comes back within a fork's time.
	 */
	if (p->spawn_outstanding)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warning("pool: socketpair: %s", strerror(errno));
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	w->pool = p;
	w->id = ++p->next_id;
	w->fd = sv[0];
	w->state = W_GONE;
	worker_set_state(w, W_SPAWNING);
	w->out = evbuffer_new();
	frame_reader_init(&w->reader, FRAME_DEFAULT_LIMIT);
	evutil_make_socket_nonblocking(w->fd);
	w->ev_read = event_new(p->base, w->fd, EV_READ | EV_PERSIST,
	    worker_read_cb, w);
	w->ev_write = event_new(p->base, w->fd, EV_WRITE, worker_write_cb, w);
	w->ev_grace = evtimer_new(p->base, worker_grace_cb, w);
	if (uid == 0) {
		uid = (uid_t)(WORKER_UID_BASE + w->id % WORKER_UID_COUNT);
		gid = (gid_t)uid;
	}
	xasprintf(&w->tmpdir, "/tmp/autokitteh-%ld-w%llu", (long)getpid(),
	    (unsigned long long)w->id);
	TAILQ_INSERT_TAIL(&p->workers, w, entry);
	event_add(w->ev_read, NULL);

	bits = p->sandbox != NULL ? sandbox_support_bits(p->sandbox) :
	    FRAME_SANDBOX_LANDLOCK | FRAME_SANDBOX_SECCOMP;
	cgroups = worker_cgroups(p, w->id);
	frame_begin(&fb, FRAME_SPAWN, (uint32_t)w->id, 15);
	frame_pack_uint(&fb, "worker_id", w->id);
	frame_pack_uint(&fb, "uid", uid);
	frame_pack_uint(&fb, "gid", gid);
	frame_pack_str(&fb, "tmpdir", w->tmpdir);
	frame_pack_uint(&fb, "memory_limit", cf->workers_memory_limit);
	frame_pack_uint(&fb, "cpu_limit", (cf->workers_cpu_limit_ms + 999) /
	    1000);
	frame_pack_uint(&fb, "nofile", WORKER_NOFILE);
	frame_pack_uint(&fb, "fsize", WORKER_FSIZE);
	frame_pack_str(&fb, "writable", cf->workers_writable_paths);
	frame_pack_uint(&fb, "sandbox", bits);
	frame_pack_uint(&fb, "tmp_size", cf->workers_tmp_size);
	frame_pack_str(&fb, "hide", p->hide != NULL ? p->hide : "");
	frame_pack_str(&fb, "cgroups", cgroups);
	frame_pack_uint(&fb, "pids_max", cf->workers_pids_max);
	/* RLIMIT_NPROC counts per user namespace: a session's own tasks. */
	frame_pack_uint(&fb, "nproc", (bits & FRAME_SANDBOX_USERNS) ?
	    cf->workers_pids_max : 0);
	free(cgroups);
	frame = frame_finish(&fb, &len);
	rc = frame_send_fd(p->zfd, frame, len, sv[1]);
	frame_builder_free(&fb);
	close(sv[1]);
	p->spawn_outstanding = rc == 0;
	if (rc != 0) {
		/* This finishes w with the other workers it was starting. */
		zygote_lost(p, "writing to the zygote failed");
		return -1;
	}
	return 0;
}

/* Keep pool_size workers READY, within workers.max. */
static void
pool_fill(struct pool *p)
{
	const struct config *cf = p->config;

	if (p->stopping || !p->zready)
		return;
	while (p->nready + p->nspawning < cf->workers_pool_size &&
	    p->nready + p->nspawning + p->nbusy < cf->workers_max) {
		if (pool_spawn(p) != 0)
			return;
	}
}

static void
pool_fill_cb(evutil_socket_t fd, short events, void *arg)
{
	pool_fill(arg);
}

/*
 * Is a READY worker there to take? If not, and none is on its way, start
 * one when workers.max allows (pool_size may be 0, or all warm workers
 * taken); the caller is called again (build_schedule, session_schedule)
 * when it becomes READY.
 */
int
pool_can_take(struct pool *p)
{
	if (!p->zready)		/* its workers are dying with it */
		return 0;
	if (p->nready > 0)
		return 1;
	if (p->zready && !p->stopping && p->nspawning == 0 &&
	    p->nready + p->nspawning + p->nbusy < p->config->workers_max)
		pool_spawn(p);
	return 0;
}

/*
 * Hand a READY worker to a client (a session or a build). NULL when none
 * is ready; the caller retries when pool capacity changes (it is told via
 * session_schedule, which pool calls whenever a worker becomes READY).
 */
struct worker *
pool_take(struct pool *p, const struct pool_client *client)
{
	struct worker *w;

	TAILQ_FOREACH(w, &p->workers, entry) {
		if (w->state == W_READY)
			break;
	}
	if (w == NULL)
		return NULL;
	worker_set_state(w, W_BUSY);
	w->client = *client;
	w->has_client = 1;
	/*
	 * Refill on the next turn of the loop: the caller's job goes to the
	 * worker first, and the zygote's fork does not compete with it.
	 */
	event_active(p->ev_fill, 0, 0);
	return w;
}

/* ---- the zygote ---- */

static void
zygote_exited(struct pool *p, int status)
{
	char why[128];

	if (WIFSIGNALED(status))
		snprintf(why, sizeof why, "killed by signal %d (SIG%s)",
		    WTERMSIG(status), signal_name(WTERMSIG(status)));
	else
		snprintf(why, sizeof why, "exited with status %d",
		    WEXITSTATUS(status));
	p->zygote_pid = -1;
	zygote_lost(p, why);
}

static void
sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	struct pool *p = arg;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == p->zygote_pid)
			zygote_exited(p, status);
	}
}

static void
zygote_handle_exited(struct pool *p, struct frame_msg *msg, char **cause)
{
	uint64_t pid = 0, sig = 0;
	int64_t code = 0;
	struct worker *w;

	if (frame_get_uint(msg, "pid", 1, &pid, cause) != 0 ||
	    frame_get_int(msg, "code", 1, &code, cause) != 0 ||
	    frame_get_uint(msg, "signal", 1, &sig, cause) != 0 ||
	    frame_msg_end(msg, cause) != 0)
		return;
	TAILQ_FOREACH(w, &p->workers, entry) {
		if (w->pid == (pid_t)pid)
			break;
	}
	if (w == NULL)
		return;
	w->exited = 1;
	w->exit_code = (int)code;
	w->exit_signal = (int)sig;
	if (w->eof)
		worker_finish(w, NULL);
}

static void
zygote_handle_spawned(struct pool *p, struct frame_msg *msg, char **cause)
{
	uint64_t id = 0, pid = 0;
	struct worker *w;

	if (frame_get_uint(msg, "worker_id", 1, &id, cause) != 0 ||
	    frame_get_uint(msg, "pid", 1, &pid, cause) != 0 ||
	    frame_msg_end(msg, cause) != 0)
		return;
	p->spawn_outstanding = 0;
	TAILQ_FOREACH(w, &p->workers, entry) {
		if (w->id == id) {
			w->pid = (pid_t)pid;
			break;
		}
	}
	pool_fill(p);
	if (w != NULL && w->ready_frame && w->state == W_SPAWNING) {
		worker_set_state(w, W_READY);
		pool_worker_ready();
	}
}

static int
zygote_handle(struct pool *p, struct frame_msg *msg, char **cause)
{
	uint64_t version = 0, pid = 0;
	char *role = NULL;

	switch (msg->header.type) {
	case FRAME_HELLO:
		if (p->zhello) {
			xasprintf(cause, "a second HELLO");
			return -1;
		}
		if (frame_get_uint(msg, "version", 1, &version, cause) != 0 ||
		    frame_get_str(msg, "role", 1, &role, cause) != 0 ||
		    frame_get_uint(msg, "pid", 1, &pid, cause) != 0 ||
		    frame_msg_end(msg, cause) != 0) {
			free(role);
			return -1;
		}
		if (version != FRAME_VERSION || strcmp(role, "zygote") != 0) {
			xasprintf(cause, "HELLO from a %s speaking version %llu; "
			    "expected a zygote speaking %d (is the installed "
			    "autokitteh-worker from another version?)", role,
			    (unsigned long long)version, FRAME_VERSION);
			free(role);
			return -1;
		}
		free(role);
		p->zhello = 1;
		return 0;
	case FRAME_READY:
		if (!p->zhello || p->zready) {
			xasprintf(cause, "READY out of order");
			return -1;
		}
		if (frame_msg_end(msg, cause) != 0)
			return -1;
		p->zready = 1;
		p->zready_since = time(NULL);
		free(p->last_failure);
		p->last_failure = NULL;
		event_del(p->zev_start_timeout);
		log_info("pool: zygote %d ready", (int)p->zygote_pid);
		pool_fill(p);
		pool_worker_ready();
		return 0;
	case FRAME_SPAWNED:
		zygote_handle_spawned(p, msg, cause);
		return *cause != NULL ? -1 : 0;
	case FRAME_EXITED:
		zygote_handle_exited(p, msg, cause);
		return *cause != NULL ? -1 : 0;
	default:
		xasprintf(cause, "unexpected %s from the zygote",
		    frame_type_name(msg->header.type));
		return -1;
	}
}

static void
zygote_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pool *p = arg;
	uint8_t buf[65536];
	struct frame_msg msg;
	char *cause = NULL;
	ssize_t n;
	int rc, passed = -1;

	n = frame_recv_fd(fd, buf, sizeof buf, &passed);
	if (passed != -1)
		close(passed);	/* the zygote never sends us fds */
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		zygote_lost(p, n != 0 ? strerror(errno) : p->zready ?
		    "it closed its socket" : "it stopped before becoming ready; "
		    "its own error is in the server log just before this");
		return;
	}
	frame_reader_feed(&p->zreader, buf, (size_t)n);
	while ((rc = frame_reader_next(&p->zreader, &msg, &cause)) == 1) {
		rc = zygote_handle(p, &msg, &cause);
		frame_msg_free(&msg);
		if (rc != 0)
			break;
		if (p->zfd == -1)
			return;
	}
	if (rc == -1) {
		char why[512];

		snprintf(why, sizeof why, "it violated the protocol: %s", cause);
		free(cause);
		zygote_lost(p, why);
	}
}

static void
zygote_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	zygote_lost(arg, "it did not become ready within 30s");
}

static int
zygote_spawn(struct pool *p, char **cause)
{
	int sv[2];
	pid_t pid, parent = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		xasprintf(cause, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		xasprintf(cause, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		char *argv[] = { "autokitteh-worker", "--zygote", NULL, NULL };
		char *envp[8], *e;
		int n = 0;
		sigset_t none;

		/*
		 * Die with us from now on (execve keeps it), and not at all if
		 * we are already dead: the zygote alone cannot tell, since a
		 * subreaper rather than init may have adopted it.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
		    getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], 3) == -1)
			_exit(127);
		close_range(4, ~0U, 0);
		if (log_get_level() >= LOG_LEVEL_DEBUG)
			argv[2] = "-v";
		envp[n++] = "PATH=/usr/local/bin:/usr/bin:/bin";
		envp[n++] = "LANG=C.UTF-8";
		xasprintf(&e, "AUTOKITTEH_PYTHONPATH=%s", p->python_path);
		envp[n++] = e;
		envp[n] = NULL;
		execve(p->worker_path, argv, envp);
		dprintf(2, "autokittehd: cannot run the worker %s: %s\n",
		    p->worker_path, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	FAILPOINT("zygote-spawn");
	p->zygote_pid = pid;
	p->zfd = sv[0];
	p->zhello = p->zready = 0;
	frame_reader_init(&p->zreader, FRAME_DEFAULT_LIMIT);
	p->zev_read = event_new(p->base, p->zfd, EV_READ | EV_PERSIST,
	    zygote_read_cb, p);
	event_add(p->zev_read, NULL);
	event_add(p->zev_start_timeout, &(struct timeval){
	    ZYGOTE_START_TIMEOUT_S, 0 });
	log_info("pool: started zygote %d (%s)", (int)pid, p->worker_path);
	return 0;
}

static void
zygote_restart_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pool *p = arg;
	char *cause = NULL;

	if (zygote_spawn(p, &cause) != 0) {
		log_error("pool: cannot restart the zygote: %s", cause);
		free(cause);
		zygote_lost(p, "it could not be started");
	}
}

/* Tear down the zygote connection and schedule a restart with backoff. */
static void
zygote_lost(struct pool *p, const char *why)
{
	struct worker *w, *next;

	if (p->zfd != -1) {
		event_free(p->zev_read);
		p->zev_read = NULL;
		close(p->zfd);
		p->zfd = -1;
		frame_reader_free(&p->zreader);
	}
	event_del(p->zev_start_timeout);
	if (p->zygote_pid > 0) {
		kill(p->zygote_pid, SIGKILL);	/* reaped by sigchld_cb */
		/* Its children die with it (PDEATHSIG); their exits never
		 * arrive now. */
		p->zygote_pid = -1;
	}
	if (p->zready && time(NULL) - p->zready_since >= BACKOFF_RESET_S)
		p->backoff_s = 0;
	p->zready = p->zhello = 0;
	p->spawn_outstanding = 0;
	/* Finishing one may finish others: start over after each. */
	do {
		TAILQ_FOREACH(w, &p->workers, entry) {
			if (w->state == W_SPAWNING || w->state == W_READY ||
			    (w->state == W_BUSY && w->eof))
				break;
		}
		if (w != NULL)
			worker_finish(w, "the zygote died");
	} while (w != NULL);
	(void)next;
	if (p->stopping || p->ev_restart == NULL)
		return;
	free(p->last_failure);
	p->last_failure = xstrdup(why);
	p->backoff_s = p->backoff_s == 0 ? BACKOFF_MIN_S :
	    p->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : p->backoff_s * 2;
	p->restarts++;
	log_error("pool: the zygote failed: %s; restarting it in %ds", why,
	    p->backoff_s);
	event_add(p->ev_restart, &(struct timeval){ p->backoff_s, 0 });
	pool_worker_ready();	/* queued builds learn they must fail */
}

/* ---- the pool ---- */

/*
 * Remove the temp dirs of workers whose controller died without cleaning
 * up (kill -9): /tmp/autokitteh-<pid>-w<n> where <pid> is not running.
 */
static void
remove_stale_tmpdirs(void)
{
	DIR *d = opendir("/tmp");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		long pid;
		unsigned long long n;
		char *path, tail;

		if (sscanf(e->d_name, "autokitteh-%ld-w%llu%c", &pid, &n,
		    &tail) != 2 || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		xasprintf(&path, "/tmp/%s", e->d_name);
		remove_tree(path);
		free(path);
	}
	closedir(d);
}

struct pool *
pool_new(struct event_base *base, const struct config *cf)
{
	struct pool *p = xcalloc(1, sizeof *p);
	const char *py = getenv("AUTOKITTEH_PYTHONPATH");

	p->base = base;
	p->config = cf;
	p->zfd = -1;
	p->zygote_pid = -1;
	TAILQ_INIT(&p->workers);
	p->worker_path = find_worker_binary();
	p->python_path = xstrdup(py != NULL && *py != '\0' ? py :
	    PKGDATADIR "/python");
	p->zev_start_timeout = evtimer_new(base, zygote_timeout_cb, p);
	p->ev_restart = evtimer_new(base, zygote_restart_cb, p);
	p->ev_sigchld = evsignal_new(base, SIGCHLD, sigchld_cb, p);
	p->ev_fill = event_new(base, -1, 0, pool_fill_cb, p);
	remove_stale_tmpdirs();
	evsignal_add(p->ev_sigchld, NULL);
	return p;
}

/*
 * What workers must not see even in a mount namespace of their own: the
 * data directory (store, keys), the admin socket's directory, /dev/shm,
 * /var/tmp, and /tmp (other sessions' temp dirs); sandbox-mount.c covers
 * each, keeps
 * what a session needs, and skips any that holds the system directories.
 */
static char *
pool_hide_list(const struct config *cf)
{
	char *sockdir = xstrdup(cf->socket_path), *slash, *list;
	char *key = secrets_key_file_path(cf);

	if ((slash = strrchr(sockdir, '/')) != NULL)
		*(slash == sockdir ? slash + 1 : slash) = '\0';
	/* The key file too: it may be outside the data directory. */
	xasprintf(&list, "%s:%s:%s:/dev/shm:/var/tmp:/tmp", cf->data_dir,
	    sockdir, key);
	free(key);
	free(sockdir);
	return list;
}

int
pool_probe_sandbox(struct pool *p, char **cause)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (uid == 0)
		uid = gid = WORKER_UID_BASE;	/* as a worker will be */
	if (sandbox_probe(p->config, uid, gid, &p->sandbox, cause) != 0)
		return -1;
	free(p->hide);
	p->hide = pool_hide_list(p->config);
	return 0;
}

json_t *
pool_sandbox_json(struct pool *p)
{
	if (p->sandbox == NULL)
		return json_object();
	return sandbox_support_json(p->sandbox);
}

int
pool_start(struct pool *p, char **cause)
{
	if (access(p->worker_path, X_OK) != 0) {
		xasprintf(cause, "the session worker %s cannot be run: %s "
		    "(set AUTOKITTEH_WORKER to its path if it lives "
		    "elsewhere)", p->worker_path, strerror(errno));
		return -1;
	}
	return zygote_spawn(p, cause);
}

void
pool_free(struct pool *p)
{
	struct worker *w;

	if (p == NULL)
		return;
	p->stopping = 1;
	while ((w = TAILQ_FIRST(&p->workers)) != NULL) {
		if (w->pid > 0)
			kill(w->pid, SIGKILL);
		w->exited = 1;
		w->exit_signal = SIGKILL;
		worker_finish(w, "autokittehd is stopping");
	}
	if (p->zygote_pid > 0) {
		int status;

		kill(p->zygote_pid, SIGKILL);
		waitpid(p->zygote_pid, &status, 0);
		p->zygote_pid = -1;
	}
	if (p->zfd != -1) {
		event_free(p->zev_read);
		close(p->zfd);
		frame_reader_free(&p->zreader);
	}
	/* The killed sessions' pid 1s die with their waiters: give their
	 * cgroups a moment to empty. */
	for (int i = 0; i < 100 && p->ncgroup_pending > 0; i++) {
		pool_retry_cgroups(p);
		if (p->ncgroup_pending > 0)
			usleep(10000);
	}
	for (size_t i = 0; i < p->ncgroup_pending; i++)
		free(p->cgroup_pending[i]);
	free(p->cgroup_pending);
	sandbox_support_free(p->sandbox);
	free(p->hide);
	event_free(p->zev_start_timeout);
	event_free(p->ev_restart);
	event_free(p->ev_sigchld);
	event_free(p->ev_fill);
	free(p->worker_path);
	free(p->python_path);
	free(p->last_failure);
	free(p);
}

/*
 * NULL while workers can be had (now or soon); otherwise why not: the
 * zygote failed and is waiting to be restarted.
 */
const char *
pool_unavailable(struct pool *p)
{
	if (p->zready || p->last_failure == NULL)
		return NULL;
	return p->last_failure;
}

json_t *
pool_status_json(struct pool *p)
{
	json_t *o = json_pack("{s:i, s:b, s:I, s:I, s:I, s:I, s:I, s:i}",
	    "zygote_pid", p->zygote_pid > 0 ? (int)p->zygote_pid : 0,
	    "zygote_ready", p->zready,
	    "ready", (json_int_t)p->nready,
	    "busy", (json_int_t)p->nbusy,
	    "starting", (json_int_t)p->nspawning,
	    "pool_size", (json_int_t)p->config->workers_pool_size,
	    "max", (json_int_t)p->config->workers_max,
	    "zygote_restarts", p->restarts);

	if (p->last_failure != NULL)
		json_object_set_new(o, "zygote_last_failure",
		    json_string(p->last_failure));
	return o;
}

/* Pool gauges for /metrics. */
void
pool_metrics_render(struct pool *p, struct evbuffer *out)
{
	evbuffer_add_printf(out,
	    "# HELP autokitteh_workers Session workers, by state.\n"
	    "# TYPE autokitteh_workers gauge\n"
	    "autokitteh_workers{state=\"ready\"} %zu\n"
	    "autokitteh_workers{state=\"busy\"} %zu\n"
	    "autokitteh_workers{state=\"starting\"} %zu\n"
	    "# HELP autokitteh_workers_max The workers.max limit.\n"
	    "# TYPE autokitteh_workers_max gauge\n"
	    "autokitteh_workers_max %llu\n"
	    "# HELP autokitteh_zygote_up Whether the zygote is ready.\n"
	    "# TYPE autokitteh_zygote_up gauge\n"
	    "autokitteh_zygote_up %d\n"
	    "# HELP autokitteh_zygote_restarts_total Zygote restarts.\n"
	    "# TYPE autokitteh_zygote_restarts_total counter\n"
	    "autokitteh_zygote_restarts_total %d\n",
	    p->nready, p->nbusy, p->nspawning,
	    (unsigned long long)p->config->workers_max, p->zready,
	    p->restarts);
}
