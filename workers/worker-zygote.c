/*
 * worker-zygote.c: the zygote and the start of every session worker.
 *
 * The zygote pays for CPython's start-up once (init plus importing the SDK
 * and the runner), then forks a child per SPAWN request, so a worker is
 * ready in about a millisecond. It serves only the controller, over fd 3:
 * SPAWN{...} with a fresh socket passed as SCM_RIGHTS -> fork -> SPAWNED;
 * when a child ends -> EXITED. It never runs user code itself.
 *
 * A child moves the passed socket onto fd 3, applies the sandbox, says
 * HELLO and READY, runs exactly one job (BUILD or RUN) and exits. A
 * sandbox that cannot be applied means exit 1 before any user code runs.
 * With a PID namespace the sandbox forks once more (sandbox-namespace.c):
 * the session runs in the grandchild, pid 1 of the namespace, and the
 * child we reported waits for it and exits as it did; the zygote is a
 * child subreaper so that it also reaps a pid 1 that outlived its waiter.
 *
 * The controller going away (EOF on fd 3, or its death via PDEATHSIG)
 * takes the zygote and all its children with it.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

/* The SDK's directory: workers may read it (sandbox-landlock.c). */
static const char *zygote_pythonpath;

static pid_t	*zygote_children;
static size_t	 zygote_nchildren, zygote_capchildren;
static sigset_t	 zygote_oldmask;
static int	 zygote_sigfd = -1;

static void
zygote_add_child(pid_t pid)
{
	if (zygote_nchildren == zygote_capchildren) {
		zygote_capchildren = zygote_capchildren ?
		    2 * zygote_capchildren : 16;
		zygote_children = xreallocarray(zygote_children,
		    zygote_capchildren, sizeof *zygote_children);
	}
	zygote_children[zygote_nchildren++] = pid;
}

static int
zygote_remove_child(pid_t pid)
{
	size_t	 i;

	for (i = 0; i < zygote_nchildren; i++) {
		if (zygote_children[i] == pid) {
			zygote_children[i] =
			    zygote_children[--zygote_nchildren];
			return 0;
		}
	}
	return -1;
}

static AK_NORETURN void
zygote_exit(int status)
{
	size_t	 i;

	for (i = 0; i < zygote_nchildren; i++)
		kill(zygote_children[i], SIGKILL);
	_exit(status);
}

/* The rest of a session worker's life, in the forked child. */
static AK_NORETURN void
worker_child(int fd, const struct sandbox_params *sp)
{
	struct worker_conn	 conn;
	struct frame_msg	 msg;
	char			*cause = NULL;
	int			 rc;

	sigprocmask(SIG_SETMASK, &zygote_oldmask, NULL);
	close(zygote_sigfd);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != sp->parent)
		_exit(1);	/* the zygote is already gone */
	if (dup2(fd, WORKER_IPC_FD) == -1)
		_exit(1);
	close(fd);
	if (sandbox_apply(sp, &cause) != 0) {
		log_error("worker %ld: %s; not starting", (long)getpid(),
		    cause);
		_exit(1);
	}
	worker_send_hello(WORKER_IPC_FD, "worker");
	/* READY once warm: a session given to us now waits for nothing. */
	python_warm();
	worker_send_ready(WORKER_IPC_FD);

	worker_conn_init(&conn, WORKER_IPC_FD);
	rc = worker_conn_recv(&conn, &msg, &cause);
	if (rc == 0)
		_exit(0);	/* the controller is gone */
	if (rc == -1) {
		log_error("worker %ld: %s", (long)getpid(), cause);
		_exit(1);
	}
	switch (msg.header.type) {
	case FRAME_BUILD:
		rc = python_build(WORKER_IPC_FD, &msg, sp->tmpdir, &cause);
		break;
	case FRAME_RUN:
		rc = python_run(&conn, &msg, sp->tmpdir, &cause);
		break;
	default:
		xasprintf(&cause, "unexpected %s",
		    frame_type_name(msg.header.type));
		rc = -1;
		break;
	}
	if (rc != 0) {
		log_error("worker %ld: %s", (long)getpid(), cause);
		_exit(1);
	}
	_exit(0);
}

static int
zygote_spawn(struct frame_msg *msg, char **cause)
{
	struct sandbox_params	 sp;
	struct frame_builder	 fb;
	uint64_t		 id, uid, gid, mechanisms;
	char			*tmpdir = NULL, *writable = NULL, *hide = NULL;
	char			*cgroups = NULL;
	pid_t			 pid;

	memset(&sp, 0, sizeof sp);
	/* Without the version 4 fields (tests/worker/driver): the baseline. */
	mechanisms = FRAME_SANDBOX_LANDLOCK | FRAME_SANDBOX_SECCOMP;
	if (frame_get_uint(msg, "worker_id", 1, &id, cause) != 0 ||
	    frame_get_uint(msg, "uid", 1, &uid, cause) != 0 ||
	    frame_get_uint(msg, "gid", 1, &gid, cause) != 0 ||
	    frame_get_str(msg, "tmpdir", 1, &tmpdir, cause) != 0 ||
	    frame_get_uint(msg, "memory_limit", 1, &sp.memory_limit,
	    cause) != 0 ||
	    frame_get_uint(msg, "cpu_limit", 1, &sp.cpu_limit_s, cause) != 0 ||
	    frame_get_uint(msg, "nofile", 1, &sp.nofile, cause) != 0 ||
	    frame_get_uint(msg, "fsize", 1, &sp.fsize, cause) != 0 ||
	    frame_get_str(msg, "writable", 0, &writable, cause) != 0 ||
	    frame_get_uint(msg, "sandbox", 0, &mechanisms, cause) != 0 ||
	    frame_get_uint(msg, "tmp_size", 0, &sp.tmp_size, cause) != 0 ||
	    frame_get_str(msg, "hide", 0, &hide, cause) != 0 ||
	    frame_get_str(msg, "cgroups", 0, &cgroups, cause) != 0 ||
	    frame_get_uint(msg, "pids_max", 0, &sp.pids_max, cause) != 0 ||
	    frame_get_uint(msg, "nproc", 0, &sp.nproc, cause) != 0 ||
	    frame_msg_end(msg, cause) != 0)
		goto fail;
	if (mechanisms > 0xffffu) {
		xasprintf(cause, "SPAWN sandbox bits 0x%llx out of range",
		    (unsigned long long)mechanisms);
		goto fail;
	}
	if (uid >= (uid_t)-1 || gid >= (gid_t)-1) {
		xasprintf(cause, "SPAWN uid/gid out of range");
		goto fail;
	}
	if (msg->fd == -1) {
		xasprintf(cause, "SPAWN without a socket");
		goto fail;
	}
	sp.uid = (uid_t)uid;
	sp.gid = (gid_t)gid;
	sp.tmpdir = tmpdir;
	sp.ipc_fd = WORKER_IPC_FD;
	sp.pythonpath = zygote_pythonpath;
	sp.writable = writable;
	sp.mechanisms = (unsigned)mechanisms;
	sp.hide = hide;
	sp.cgroups = cgroups;
	sp.parent = getpid();

	if (sp.mechanisms & FRAME_SANDBOX_SECCOMP)
		sandbox_seccomp_zygote();
	python_before_fork();
	if ((pid = fork()) == -1) {
		python_after_fork_parent();
		xasprintf(cause, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		python_after_fork_child();
		close(WORKER_IPC_FD);
		worker_child(msg->fd, &sp);
	}
	python_after_fork_parent();
	close(msg->fd);
	msg->fd = -1;
	zygote_add_child(pid);
	free(tmpdir);
	free(writable);
	free(hide);
	free(cgroups);
	log_debug("%s: worker %llu is pid %ld", __func__,
	    (unsigned long long)id, (long)pid);

	frame_begin(&fb, FRAME_SPAWNED, msg->header.id, 2);
	frame_pack_uint(&fb, "worker_id", id);
	frame_pack_uint(&fb, "pid", (uint64_t)pid);
	worker_send(WORKER_IPC_FD, &fb);
	return 0;

fail:
	free(tmpdir);
	free(writable);
	free(hide);
	free(cgroups);
	if (msg->fd != -1)
		close(msg->fd);
	msg->fd = -1;
	return -1;
}

static void
zygote_reap(void)
{
	struct signalfd_siginfo	 si;
	struct frame_builder	 fb;
	pid_t			 pid;
	int			 status;

	while (read(zygote_sigfd, &si, sizeof si) == (ssize_t)sizeof si)
		;	/* drain; waitpid below finds every child */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (zygote_remove_child(pid) != 0)
			continue;
		log_debug("%s: pid %ld status 0x%x", __func__, (long)pid,
		    status);
		frame_begin(&fb, FRAME_EXITED, 0, 3);
		frame_pack_uint(&fb, "pid", (uint64_t)pid);
		frame_pack_int(&fb, "code",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		frame_pack_uint(&fb, "signal",
		    WIFSIGNALED(status) ? (uint64_t)WTERMSIG(status) : 0);
		worker_send(WORKER_IPC_FD, &fb);
	}
}

void
zygote_main(const char *pythonpath)
{
	zygote_pythonpath = pythonpath;
	struct worker_conn	 conn;
	struct frame_msg	 msg;
	struct pollfd		 pfd[2];
	struct timespec		 t0;
	sigset_t		 chld;
	char			*cause = NULL;
	int			 rc;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("PR_SET_PDEATHSIG");
	if (getppid() == 1)
		fatalx("the controller exited before the zygote started");
	/* A session's pid 1 outlives its waiter when the controller kills
	 * the waiter: we reap it (sandbox-namespace.c). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		fatal("PR_SET_CHILD_SUBREAPER");
	if (fcntl(WORKER_IPC_FD, F_GETFD) == -1)
		fatalx("no IPC socket on fd %d; autokitteh-worker is started "
		    "by autokittehd", WORKER_IPC_FD);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (python_init(pythonpath, &cause) != 0)
		fatalx("python: %s", cause);
	log_debug("%s: python ready in %.1f ms (path %s)", __func__,
	    elapsed_us(&t0) / 1e3, pythonpath);

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &zygote_oldmask) == -1)
		fatal("sigprocmask");
	if ((zygote_sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK))
	    == -1)
		fatal("signalfd");

	worker_send_hello(WORKER_IPC_FD, "zygote");
	worker_send_ready(WORKER_IPC_FD);

	worker_conn_init(&conn, WORKER_IPC_FD);
	for (;;) {
		pfd[0].fd = WORKER_IPC_FD;
		pfd[0].events = POLLIN;
		pfd[1].fd = zygote_sigfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents != 0)
			zygote_reap();
		if (pfd[0].revents == 0)
			continue;
		if ((rc = worker_conn_read(&conn, &cause)) == 0) {
			log_debug("%s: controller gone; exiting", __func__);
			zygote_exit(0);
		}
		while (rc > 0 && (rc = worker_conn_next(&conn, &msg,
		    &cause)) == 1) {
			if (msg.header.type != FRAME_SPAWN) {
				xasprintf(&cause, "unexpected %s",
				    frame_type_name(msg.header.type));
				rc = -1;
			} else if (zygote_spawn(&msg, &cause) != 0)
				rc = -1;
			frame_msg_free(&msg);
		}
		if (rc == -1) {
			log_error("zygote: %s; exiting", cause);
			zygote_exit(1);
		}
	}
}
