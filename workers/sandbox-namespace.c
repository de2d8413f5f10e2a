/*
 * sandbox-namespace.c: the session's own user, PID, mount, IPC and UTS
 * namespaces, and with [workers] network = off its own network namespace
 * in which only the loopback interface exists (and is up).
 *
 * This runs after the uid drop, as the worker's unprivileged uid, so the
 * new user namespace belongs to that uid and maps only it (and its gid) to
 * itself: files keep their real owners, and nothing is root inside. The
 * capabilities that unshare(CLONE_NEWUSER) grants are over the new
 * namespaces only; the mount step uses them, sandbox_caps() drops them.
 * RLIMIT_NPROC is set once inside the namespace, where the kernel counts
 * the session's own tasks only (per user namespace and uid), so it caps a
 * fork bomb even without a pids cgroup.
 *
 * unshare(CLONE_NEWPID) moves only our children into the new PID
 * namespace, so we fork once more: the child becomes its pid 1 and goes on
 * to run the session; this process (the one the zygote forked, whose pid
 * the controller knows, signals and waits for) stays outside as a small
 * waiter. It closes the IPC socket, waits for pid 1 and exits the same way
 * (status, or the same signal), so the controller's tracking (SPAWNED pid,
 * kill, EXITED) is unchanged. When the waiter dies (kill -9 from the
 * controller, or the zygote's death through its PDEATHSIG), pid 1 gets
 * SIGKILL from its own PDEATHSIG, and the kernel kills everything else in
 * the namespace with it. The zygote is a child subreaper and reaps pid 1
 * if the waiter went first.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#define SANDBOX_HOSTNAME	"autokitteh"

static int
write_file(const char *path, const char *text, char **cause)
{
	size_t	 len = strlen(text);
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		xasprintf(cause, "write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int namespace_write_maps(uid_t, gid_t, char **);

/* Map our uid and gid to themselves; nothing else exists inside. */
static int
namespace_map_ids(uid_t uid, gid_t gid, char **cause)
{
	int	 rc;

	/*
	 * The uid drop made us non-dumpable, which makes /proc/self/ root's
	 * and the maps unwritable; be dumpable just while we write them (no
	 * other process of this uid exists yet, and ptrace is refused by
	 * seccomp anyway), then not again.
	 */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1) {
		xasprintf(cause, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	rc = namespace_write_maps(uid, gid, cause);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 && rc == 0) {
		xasprintf(cause, "PR_SET_DUMPABLE: %s", strerror(errno));
		rc = -1;
	}
	return rc;
}

static int
namespace_write_maps(uid_t uid, gid_t gid, char **cause)
{
	char	 map[64];

	snprintf(map, sizeof map, "%ld %ld 1\n", (long)uid, (long)uid);
	if (write_file("/proc/self/uid_map", map, cause) != 0)
		return -1;
	/* An unprivileged gid_map needs setgroups(2) off for good. */
	if (write_file("/proc/self/setgroups", "deny", cause) != 0)
		return -1;
	snprintf(map, sizeof map, "%ld %ld 1\n", (long)gid, (long)gid);
	return write_file("/proc/self/gid_map", map, cause);
}

/* The new network namespace has only lo, and it is down. */
static int
namespace_loopback_up(char **cause)
{
	struct ifreq	 ifr;
	int		 s;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		xasprintf(cause, "SIOCGIFFLAGS lo: %s", strerror(errno));
		close(s);
		return -1;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
		xasprintf(cause, "SIOCSIFFLAGS lo: %s", strerror(errno));
		close(s);
		return -1;
	}
	close(s);
	return 0;
}

/*
 * A namespace's pid 1 ignores every signal whose action is the default,
 * except SIGKILL from outside and the faults it causes itself; so the
 * SIGXCPU of RLIMIT_CPU would be lost (and SIGKILL come a second later, at
 * the hard limit). Pid 1 catches it instead, tells the waiter through this
 * pipe, and exits; the waiter then dies of SIGXCPU as the worker would
 * have. Only pid 1 itself reports (its forked children inherit the
 * handler).
 */
static int namespace_xcpu_fd = -1;

static void
namespace_xcpu(int sig)
{
	unsigned char	 b = (unsigned char)sig;
	ssize_t		 rc;

	if (getpid() == 1) {
		rc = write(namespace_xcpu_fd, &b, 1);
		(void)rc;
		_exit(128 + sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Outside the PID namespace: wait for its pid 1 and end as it ended. */
static AK_NORETURN void
namespace_waiter(pid_t child, int xcpu_fd)
{
	unsigned char	 b = 0;
	int		 status, sig;

	/* Nothing to hold: the session's socket and stdin belong to pid 1. */
	close(WORKER_IPC_FD);
	close(STDIN_FILENO);
	sandbox_caps(NULL, NULL);
	while (waitpid(child, &status, 0) == -1) {
		if (errno != EINTR)
			_exit(1);
	}
	if (!WIFEXITED(status))
		sig = WTERMSIG(status);
	else if (read(xcpu_fd, &b, 1) == 1 && b == SIGXCPU)
		sig = SIGXCPU;		/* it exited on it: die of it */
	else
		_exit(WEXITSTATUS(status));
	signal(sig, SIG_DFL);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	kill(getpid(), sig);
	_exit(128 + sig);
}

/* In pid 1: die with the waiter, and make sure it is still there. */
static int
namespace_watch_waiter(int alive_fd, char **cause)
{
	struct pollfd	 pfd = { .fd = alive_fd, .events = POLLIN };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		xasprintf(cause, "PR_SET_PDEATHSIG: %s", strerror(errno));
		return -1;
	}
	/* getppid() is 0 here (our parent is outside the namespace): the
	 * pipe's write end, held by the waiter, tells us it still lives. */
	if (poll(&pfd, 1, 0) != 0) {
		xasprintf(cause, "the waiter exited");
		return -1;
	}
	close(alive_fd);
	return 0;
}

static int
namespace_fork_pid1(char **cause)
{
	struct sigaction sa;
	int		 alive[2], xcpu[2];
	pid_t		 pid, waiter = getpid();

	if (pipe2(alive, O_CLOEXEC) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(xcpu, O_CLOEXEC | O_NONBLOCK) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		close(alive[0]);
		close(alive[1]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		xasprintf(cause, "fork into the PID namespace: %s",
		    strerror(errno));
		close(alive[0]);
		close(alive[1]);
		close(xcpu[0]);
		close(xcpu[1]);
		return -1;
	}
	if (pid != 0) {
		close(alive[0]);
		close(xcpu[1]);
		/* Keeps alive[1] open until it exits. */
		namespace_waiter(pid, xcpu[0]);
	}
	close(alive[1]);
	close(xcpu[0]);
	log_set_pid((long)waiter);	/* not 1: the pid the controller knows */
	namespace_xcpu_fd = xcpu[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = namespace_xcpu;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGXCPU, &sa, NULL) == -1) {
		xasprintf(cause, "sigaction SIGXCPU: %s", strerror(errno));
		return -1;
	}
	return namespace_watch_waiter(alive[0], cause);
}

int
sandbox_namespace(const struct sandbox_params *sp, char **cause)
{
	struct rlimit	 rl;
	int		 flags = CLONE_NEWUSER;
	uid_t		 uid = geteuid();	/* unmapped after unshare */
	gid_t		 gid = getegid();

	if (sp->mechanisms & FRAME_SANDBOX_PIDNS)
		flags |= CLONE_NEWPID;
	if (sp->mechanisms & FRAME_SANDBOX_MOUNTNS)
		flags |= CLONE_NEWNS;
	if (sp->mechanisms & FRAME_SANDBOX_IPCNS)
		flags |= CLONE_NEWIPC;
	if (sp->mechanisms & FRAME_SANDBOX_UTSNS)
		flags |= CLONE_NEWUTS;
	if (sp->mechanisms & FRAME_SANDBOX_NETNS)
		flags |= CLONE_NEWNET;
	if (unshare(flags) == -1) {
		xasprintf(cause, "unshare 0x%x: %s", flags, strerror(errno));
		return -1;
	}
	if (namespace_map_ids(uid, gid, cause) != 0)
		return -1;
	/* The credential change of unshare(CLONE_NEWUSER) may have cleared
	 * the parent-death signal; arm it again. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != sp->parent) {
		xasprintf(cause, "parent-death signal: %s",
		    getppid() != sp->parent ?
		    "parent exited" : strerror(errno));
		return -1;
	}
	if (sp->nproc > 0) {
		rl.rlim_cur = rl.rlim_max = sp->nproc;
		if (setrlimit(RLIMIT_NPROC, &rl) == -1) {
			xasprintf(cause, "setrlimit RLIMIT_NPROC %llu: %s",
			    (unsigned long long)sp->nproc, strerror(errno));
			return -1;
		}
	}
	if ((flags & CLONE_NEWUTS) && (sethostname(SANDBOX_HOSTNAME,
	    strlen(SANDBOX_HOSTNAME)) == -1 || setdomainname("", 0) == -1)) {
		xasprintf(cause, "sethostname: %s", strerror(errno));
		return -1;
	}
	if ((flags & CLONE_NEWNET) && namespace_loopback_up(cause) != 0)
		return -1;
	if ((flags & CLONE_NEWPID) && namespace_fork_pid1(cause) != 0)
		return -1;
	log_debug("%s: namespaces 0x%x, uid %ld and gid %ld mapped, "
	    "RLIMIT_NPROC %llu", __func__, flags, (long)geteuid(),
	    (long)getegid(), (unsigned long long)sp->nproc);
	return 0;
}

/*
 * Drop every capability: the user namespace gave us all of them over our
 * namespaces, and the session needs none. Our uid is not 0 inside, and
 * no_new_privs holds, so no exec can give them back.
 */
int
sandbox_caps(const struct sandbox_params *sp, char **cause)
{
	struct __user_cap_header_struct	 hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];

	(void)sp;
	memset(data, 0, sizeof data);
	if (syscall(SYS_capset, &hdr, data) == -1) {
		if (cause != NULL)
			xasprintf(cause, "capset: %s", strerror(errno));
		return -1;
	}
	if (cause != NULL)
		log_debug("%s: no capabilities left", __func__);
	return 0;
}
