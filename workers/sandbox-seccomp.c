/*
 * sandbox-seccomp.c: the syscall filter, installed last.
 *
 * An allow-list: the system calls CPython 3.11 and its standard library
 * make for what automations do (threads, files in the temp dir, mmap,
 * time, sockets and TLS, select/epoll, signals to itself), derived by
 * running the worker and end-to-end tests under the filter and reading
 * what it denied. Everything else is denied, and some calls are allowed
 * only with safe arguments:
 *
 *  - clone only for threads: CLONE_THREAD set and no CLONE_NEW* flag.
 *    fork, vfork and exec are denied, so os.fork(), os.system() and
 *    subprocess fail with PermissionError: a session is one Python process
 *    that runs nothing else (no fork bombs, no setuid binaries, no tools
 *    outside the sandbox's view). These are not logged (see below), but
 *    fork(2) itself, which glibc never uses, and exec are. clone3 fails
 *    with ENOSYS, which makes glibc's pthread_create fall back to clone,
 *    whose flags we can check (clone3 passes them in memory, out of the
 *    filter's reach).
 *  - kill and tgkill only to the worker itself (or its own process
 *    group: setsid made it a group of one), prlimit64 and
 *    sched_setaffinity only on itself. A worker may share its uid with
 *    the daemon (a daemon not started as root), and these would
 *    otherwise reach the daemon.
 *  - ioctl only with the requests Python uses (terminal queries, FIONREAD,
 *    FIONBIO, FIOCLEX, interface queries), compared on their low 32 bits
 *    as the kernel does, so TIOCSTI or TIOCLINUX with high bits set do
 *    not slip past.
 *  - socket only for AF_INET, AF_INET6 and AF_NETLINK/NETLINK_ROUTE: no
 *    AF_UNIX socket can be made, so the daemon's admin socket (which
 *    admits its own uid) and any other local service are out of reach.
 *    socketpair stays (asyncio's self-pipe). glibc tries AF_UNIX on every
 *    name lookup (nscd), so this one is denied without a log line.
 *  - prctl only for the harmless get/set-name and query options.
 *  - chmod and chown only through a descriptor (fchmod, fchown): Landlock
 *    does not cover changing a file's mode or owner by path, and a worker
 *    that shares the daemon's uid could otherwise chmod the database or
 *    the key file. os.chmod(path) and shutil.copy (which copies the mode)
 *    fail with PermissionError; os.fchmod and shutil.copyfile work.
 *  - rt_sigaction for every signal but SIGSYS, whose handler (ours) may
 *    only be read.
 *
 * Not allowed, among others: ptrace, process_vm_readv/writev, mount and
 * the new mount API, unshare, setns, bpf, io_uring (its operations bypass
 * seccomp), keyctl and friends, perf_event_open, userfaultfd, pidfd_*,
 * kcmp, kexec and modules, SysV IPC and POSIX message queues, setuid and
 * friends, chroot, setxattr (not covered by Landlock either),
 * personality, the clock setters, seccomp and landlock themselves.
 *
 * A denied call fails with EPERM (PermissionError in Python) and is
 * logged: the filter traps (SIGSYS), and our handler writes one line to
 * stderr, the daemon's log ("seccomp: denied ptrace(0x10, 0x1f4)"), and
 * makes the call return -EPERM. The first SECCOMP_LOG_MAX denials are
 * logged, then one line says the rest are not. User code cannot take the
 * handler away (rt_sigaction(SIGSYS) may only read it). A thread that
 * blocks SIGSYS and makes a denied call is killed by the kernel, which is
 * why the calls that are routinely made with all signals blocked fail
 * with a plain EPERM instead: making a process (clone without
 * CLONE_THREAD, vfork), and clone3.
 *
 * The rules name the worker's pid (kill, tgkill and the self-only calls),
 * which in a PID namespace is 1 for every worker: so the zygote compiles
 * that filter once (sandbox_seccomp_zygote) and each such worker only loads
 * the program; a worker outside a PID namespace compiles its own.
 *
 * Foreign ABIs are killed: seccomp_init sets up the native arch only, and
 * SCMP_FLTATR_ACT_BADARCH kills a process that makes an i386 (int 0x80)
 * system call; on x86_64 libseccomp also sends x32 numbers
 * (nr >= 0x40000000) to that action.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/prctl.h>
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sandbox.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP		1	/* si_code of a seccomp SIGSYS */
#endif

/* Where the handler finds the call's arguments and sets its result. */
#if defined(__x86_64__)
#define SECCOMP_TRAP		1
#define SECCOMP_ARG0(uc)	((uc)->uc_mcontext.gregs[REG_RDI])
#define SECCOMP_ARG1(uc)	((uc)->uc_mcontext.gregs[REG_RSI])
#define SECCOMP_RESULT(uc)	((uc)->uc_mcontext.gregs[REG_RAX])
#elif defined(__aarch64__)
#define SECCOMP_TRAP		1
#define SECCOMP_ARG0(uc)	((uc)->uc_mcontext.regs[0])
#define SECCOMP_ARG1(uc)	((uc)->uc_mcontext.regs[1])
#define SECCOMP_RESULT(uc)	((uc)->uc_mcontext.regs[0])
#else
#define SECCOMP_TRAP		0	/* deny with EPERM, unlogged */
#endif

#define SECCOMP_LOG_MAX		32
#define SECCOMP_NAMES		512	/* syscall numbers we name in logs */

/* A denied call traps to our handler, which logs it, where we can. */
#if SECCOMP_TRAP
#define SECCOMP_DENY		SCMP_ACT_TRAP
#else
#define SECCOMP_DENY		SCMP_ACT_ERRNO(EPERM)
#endif

#define LOW32			0xffffffffULL

/*
 * Allowed whatever the arguments. A name this architecture does not have
 * (open on arm64) is skipped.
 */
static const char *const seccomp_allowed[] = {
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore",
	"msync", "membarrier",
	/* threads and their synchronisation */
	"futex", "futex_waitv", "set_robust_list", "set_tid_address", "rseq",
	"sched_yield", "sched_get_priority_max", "sched_get_priority_min",
	"sched_getaffinity", "sched_getparam", "sched_getscheduler",
	"arch_prctl", "exit", "exit_group", "wait4", "waitid",
	/* identity and limits (reading) */
	"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid",
	"getegid", "getresuid", "getresgid", "getgroups", "getpgrp", "getpgid",
	"getsid", "getrlimit", "setrlimit", "getrusage", "getpriority",
	"capget", "uname", "sysinfo", "times", "getcpu", "getrandom",
	/* time */
	"clock_gettime", "clock_getres", "clock_nanosleep", "gettimeofday",
	"time", "nanosleep", "alarm", "getitimer", "setitimer", "timer_create",
	"timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
	"timerfd_create", "timerfd_settime", "timerfd_gettime",
	/* signals (rt_sigaction, kill and tgkill below) */
	"rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
	"rt_sigsuspend", "sigaltstack", "signalfd", "signalfd4",
	"restart_syscall",
	/* file descriptors and I/O */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "lseek", "close", "close_range",
	"dup", "dup2", "dup3", "fcntl", "flock", "pipe", "pipe2", "fsync",
	"fdatasync", "sync_file_range", "fadvise64", "readahead", "fallocate",
	"ftruncate", "sendfile", "copy_file_range", "splice", "tee",
	"eventfd", "eventfd2", "memfd_create",
	/* waiting */
	"select", "pselect6", "poll", "ppoll", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "inotify_init", "inotify_init1", "inotify_add_watch",
	"inotify_rm_watch",
	/* the file system: Landlock and the uid decide what is reachable */
	"open", "openat", "openat2", "creat", "stat", "fstat", "lstat",
	"newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat",
	"faccessat2", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
	"readlink", "readlinkat", "mkdir", "mkdirat", "rmdir", "unlink",
	"unlinkat", "rename", "renameat", "renameat2", "link", "linkat",
	"symlink", "symlinkat", "mknod", "mknodat", "truncate", "fchmod",
	"fchown", "umask", "utime", "utimes",
	"utimensat", "futimesat", "getxattr", "lgetxattr", "fgetxattr",
	"listxattr", "llistxattr", "flistxattr",
	/* sockets (socket below) */
	"socketpair", "connect", "bind", "listen", "accept", "accept4",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"shutdown", "getsockname", "getpeername", "getsockopt", "setsockopt",
};

/* Allowed only on the worker itself: the first argument is 0 or our pid. */
static const char *const seccomp_self_only[] = {
	"prlimit64", "sched_setaffinity",
};

static const uint64_t seccomp_ioctls[] = {
	TCGETS,			/* isatty(), on every open() */
	TIOCGWINSZ,		/* os.get_terminal_size() */
	TIOCGPGRP,		/* os.tcgetpgrp() */
	FIONREAD,
	FIONBIO,		/* socket.setblocking() */
	FIOCLEX,		/* os.set_inheritable() */
	FIONCLEX,
	SIOCGIFCONF,		/* interface queries */
	SIOCGIFINDEX,
	SIOCGIFNAME,
	SIOCGIFFLAGS,
	SIOCGIFADDR,
	SIOCGIFHWADDR,
	SIOCGIFMTU,
};

static const uint64_t seccomp_prctls[] = {
	PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_GET_PDEATHSIG,
	PR_GET_KEEPCAPS, PR_GET_SECCOMP, PR_GET_NO_NEW_PRIVS, PR_CAPBSET_READ,
	PR_GET_TIMERSLACK, PR_SET_VMA,
};

/* The SIGSYS handler's state: set up before the filter is loaded. */
static char		*seccomp_names[SECCOMP_NAMES];
static pid_t		 seccomp_pid;	/* as the controller knows us */
static int		 seccomp_names_ready;
/* Compiled in the zygote (sandbox_seccomp_zygote). */
static struct sock_fprog seccomp_pid1_prog;
static int		 seccomp_pid1_tried;

#if SECCOMP_TRAP
/* ---- the SIGSYS handler: async-signal-safe, no stdio, no malloc ---- */

static int		 seccomp_logged;

struct seccomp_line {
	char	 buf[256];
	size_t	 len;
};

static void
line_str(struct seccomp_line *l, const char *s)
{
	while (*s != '\0' && l->len < sizeof l->buf - 1)
		l->buf[l->len++] = *s++;
}

static void
line_num(struct seccomp_line *l, unsigned long long v, unsigned base,
    int width)
{
	char	 tmp[24];
	int	 n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0 && n < (int)sizeof tmp);
	while (n < width && n < (int)sizeof tmp)
		tmp[n++] = '0';
	while (n > 0 && l->len < sizeof l->buf - 1)
		l->buf[l->len++] = tmp[--n];
}

/* The log.c timestamp, 2026-01-02T03:04:05.678Z, without gmtime_r. */
static void
line_time(struct seccomp_line *l)
{
	struct timespec	 ts;
	long long	 days, z, era, doe, yoe, doy, mp, y, m, d, s;

	clock_gettime(CLOCK_REALTIME, &ts);
	days = ts.tv_sec / 86400;
	s = ts.tv_sec % 86400;
	/* Howard Hinnant's civil_from_days. */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	line_num(l, (unsigned long long)y, 10, 4);
	line_str(l, "-");
	line_num(l, (unsigned long long)m, 10, 2);
	line_str(l, "-");
	line_num(l, (unsigned long long)d, 10, 2);
	line_str(l, "T");
	line_num(l, (unsigned long long)(s / 3600), 10, 2);
	line_str(l, ":");
	line_num(l, (unsigned long long)(s / 60 % 60), 10, 2);
	line_str(l, ":");
	line_num(l, (unsigned long long)(s % 60), 10, 2);
	line_str(l, ".");
	line_num(l, (unsigned long long)(ts.tv_nsec / 1000000), 10, 3);
	line_str(l, "Z ");
}

static void
seccomp_sigsys(int sig, siginfo_t *si, void *arg)
{
	ucontext_t		*uc = arg;
	struct seccomp_line	 l;
	int			 saved = errno, n, nr;

	(void)sig;
	if (si->si_code != SYS_SECCOMP)
		return;		/* sent by kill(): nothing to answer */
	nr = si->si_syscall;
	SECCOMP_RESULT(uc) = -EPERM;

	n = __atomic_fetch_add(&seccomp_logged, 1, __ATOMIC_RELAXED);
	if (n > SECCOMP_LOG_MAX)
		goto out;
	l.len = 0;
	line_time(&l);
	line_str(&l, "autokitteh-worker[");
	line_num(&l, (unsigned long long)seccomp_pid, 10, 0);
	line_str(&l, "] warning: seccomp: ");
	if (n == SECCOMP_LOG_MAX)
		line_str(&l, "more calls denied; no longer logged");
	else {
		line_str(&l, "denied ");
		if (nr >= 0 && nr < SECCOMP_NAMES &&
		    seccomp_names[nr] != NULL)
			line_str(&l, seccomp_names[nr]);
		else {
			line_str(&l, "syscall ");
			line_num(&l, (unsigned long long)nr, 10, 0);
		}
		line_str(&l, "(0x");
		line_num(&l, (unsigned long long)SECCOMP_ARG0(uc), 16, 0);
		line_str(&l, ", 0x");
		line_num(&l, (unsigned long long)SECCOMP_ARG1(uc), 16, 0);
		line_str(&l, "): Operation not permitted");
	}
	l.buf[l.len++] = '\n';
	(void)!write(STDERR_FILENO, l.buf, l.len);
out:
	errno = saved;
}
#endif

/* ---- building the filter ---- */

static int
seccomp_add(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned int n, const struct scmp_arg_cmp *cmp, char **cause)
{
	int	 nr, rc;

	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;	/* not a syscall on this architecture */
	rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (rc < 0) {
		xasprintf(cause, "rule for %s: %s", name, strerror(-rc));
		return -1;
	}
	return 0;
}

#define CMP_LOW32(arg, value) \
	((struct scmp_arg_cmp){ (arg), SCMP_CMP_MASKED_EQ, LOW32, (value) })

static int
seccomp_rules(scmp_filter_ctx ctx, pid_t pid, char **cause)
{
	const uint64_t	 self = (uint32_t)pid;
	const uint64_t	 group = (uint32_t)-pid;
	const uint64_t	 clone_checked = CLONE_THREAD | CLONE_NEWNS |
	    CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
	    CLONE_NEWPID | CLONE_NEWNET;
	struct scmp_arg_cmp cmp[2];
	size_t		 i;

	for (i = 0; i < nitems(seccomp_allowed); i++) {
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, seccomp_allowed[i], 0,
		    NULL, cause) != 0)
			return -1;
	}
	for (i = 0; i < nitems(seccomp_self_only); i++) {
		cmp[0] = CMP_LOW32(0, 0);
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, seccomp_self_only[i], 1,
		    cmp, cause) != 0)
			return -1;
		cmp[0] = CMP_LOW32(0, self);
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, seccomp_self_only[i], 1,
		    cmp, cause) != 0)
			return -1;
	}

	/* Signals: to ourselves only. */
	cmp[0] = CMP_LOW32(0, self);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "kill", 1, cmp, cause) != 0 ||
	    seccomp_add(ctx, SCMP_ACT_ALLOW, "tgkill", 1, cmp, cause) != 0)
		return -1;
	cmp[0] = CMP_LOW32(0, 0);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "kill", 1, cmp, cause) != 0)
		return -1;
	/* Our group by number; not as pid 1 of a PID namespace, where -1
	 * would mean every process we can signal. */
	cmp[0] = CMP_LOW32(0, group);
	if (pid > 1 && seccomp_add(ctx, SCMP_ACT_ALLOW, "kill", 1, cmp,
	    cause) != 0)
		return -1;
	/*
	 * Every handler but SIGSYS's (31), which may only be read (the
	 * signal module reads every handler when it is imported): 1-30,
	 * 32-63 by mask, and 64. The full 64 bits are compared, as the
	 * kernel truncates the number to an int.
	 */
	cmp[0] = SCMP_A0(SCMP_CMP_LT, SIGSYS);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "rt_sigaction", 1, cmp,
	    cause) != 0)
		return -1;
	cmp[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, ~(uint64_t)0x1f, 0x20);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "rt_sigaction", 1, cmp,
	    cause) != 0)
		return -1;
	cmp[0] = SCMP_A0(SCMP_CMP_EQ, 64);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "rt_sigaction", 1, cmp,
	    cause) != 0)
		return -1;
	cmp[0] = SCMP_A0(SCMP_CMP_EQ, SIGSYS);
	cmp[1] = SCMP_A1(SCMP_CMP_EQ, 0);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "rt_sigaction", 2, cmp,
	    cause) != 0)
		return -1;

	/*
	 * Threads, not processes; clone3 makes glibc fall back to clone.
	 * Python makes processes (subprocess, posix_spawn, and its fork
	 * fallback) with every signal blocked, and a trap then kills the
	 * worker: so a clone without CLONE_THREAD, and vfork, fail with EPERM
	 * directly, unlogged (the session sees a PermissionError). A thread
	 * clone with namespace flags traps as usual.
	 */
	cmp[0] = (struct scmp_arg_cmp){ 0, SCMP_CMP_MASKED_EQ, clone_checked,
	    CLONE_THREAD };
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "clone", 1, cmp, cause) != 0)
		return -1;
	cmp[0] = (struct scmp_arg_cmp){ 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
	    0 };
	if (seccomp_add(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, cmp,
	    cause) != 0 ||
	    seccomp_add(ctx, SCMP_ACT_ERRNO(EPERM), "vfork", 0, NULL,
	    cause) != 0 ||
	    seccomp_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL,
	    cause) != 0)
		return -1;

	for (i = 0; i < nitems(seccomp_ioctls); i++) {
		cmp[0] = CMP_LOW32(1, seccomp_ioctls[i]);
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, cmp,
		    cause) != 0)
			return -1;
	}
	for (i = 0; i < nitems(seccomp_prctls); i++) {
		cmp[0] = CMP_LOW32(0, seccomp_prctls[i]);
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, "prctl", 1, cmp,
		    cause) != 0)
			return -1;
	}

	/* IP sockets and routing queries; AF_UNIX quietly refused. */
	cmp[0] = CMP_LOW32(0, AF_INET);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "socket", 1, cmp, cause) != 0)
		return -1;
	cmp[0] = CMP_LOW32(0, AF_INET6);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "socket", 1, cmp, cause) != 0)
		return -1;
	cmp[0] = CMP_LOW32(0, AF_NETLINK);
	cmp[1] = CMP_LOW32(2, NETLINK_ROUTE);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "socket", 2, cmp, cause) != 0)
		return -1;
	cmp[0] = CMP_LOW32(0, AF_UNIX);
	if (seccomp_add(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 1, cmp,
	    cause) != 0)
		return -1;
	return 0;
}

/* The syscalls' names, which the SIGSYS handler cannot look up. */
static void
seccomp_resolve_names(void)
{
	int	 nr;

	for (nr = 0; nr < SECCOMP_NAMES; nr++) {
		free(seccomp_names[nr]);
		seccomp_names[nr] = seccomp_syscall_resolve_num_arch(
		    SCMP_ARCH_NATIVE, nr);
	}
	seccomp_names_ready = 1;
}

/*
 * Before any other sandbox step: our pid as the controller knows it (a
 * PID namespace would make it 1 later), and the names if the zygote has
 * not resolved them for us.
 */
void
sandbox_seccomp_prepare(void)
{
	seccomp_pid = getpid();
	if (!seccomp_names_ready)
		seccomp_resolve_names();
}

/* The filter for a worker whose pid is pid, as libseccomp makes it. */
static scmp_filter_ctx
seccomp_build(pid_t pid, uint32_t deny, char **cause)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	if ((ctx = seccomp_init(deny)) == NULL) {
		xasprintf(cause, "seccomp_init failed");
		return NULL;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (rc < 0) {
		xasprintf(cause, "bad-arch action: %s", strerror(-rc));
		goto fail;
	}
	/* no_new_privs is set by sandbox_process(); don't let libseccomp
	 * hide its absence. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0) {
		xasprintf(cause, "nnp attribute: %s", strerror(-rc));
		goto fail;
	}
	/* A binary search over the syscall numbers rather than a list: each
	 * call of the session's then costs a few comparisons, not hundreds.
	 * Older libseccomp lacks it, and the list is as correct. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (seccomp_rules(ctx, pid, cause) == -1)
		goto fail;
	return ctx;

fail:
	seccomp_release(ctx);
	return NULL;
}

/*
 * In the zygote, before it forks workers: resolve the names once, and
 * compile once the filter of a worker that is pid 1 of its own PID
 * namespace, which is the same for all of them (sandbox-namespace.c).
 * Compiling costs about 2 ms of CPU; a worker that is pid 1 only loads
 * the program. Failing here costs nothing but that time: such a worker
 * compiles its filter itself.
 */
void
sandbox_seccomp_zygote(void)
{
	scmp_filter_ctx	 ctx;
	struct stat	 sb;
	char		*cause = NULL;
	void		*prog;
	int		 fd;

	if (!seccomp_names_ready)
		seccomp_resolve_names();
	if (seccomp_pid1_tried)
		return;
	seccomp_pid1_tried = 1;
	if ((ctx = seccomp_build(1, SECCOMP_DENY, &cause)) == NULL) {
		log_debug("%s: %s", __func__, cause);
		free(cause);
		return;
	}
	fd = memfd_create("autokitteh-seccomp", MFD_CLOEXEC);
	if (fd == -1 || seccomp_export_bpf(ctx, fd) != 0 ||
	    fstat(fd, &sb) == -1 || sb.st_size <= 0 ||
	    sb.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    sb.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		log_debug("%s: cannot export the filter", __func__);
		goto out;
	}
	prog = xmalloc((size_t)sb.st_size);
	if (pread(fd, prog, (size_t)sb.st_size, 0) != (ssize_t)sb.st_size) {
		free(prog);
		goto out;
	}
	seccomp_pid1_prog.filter = prog;
	seccomp_pid1_prog.len = (unsigned short)(sb.st_size /
	    (off_t)sizeof(struct sock_filter));
	log_debug("%s: the filter of pid 1 is %u instructions", __func__,
	    seccomp_pid1_prog.len);
out:
	if (fd != -1)
		close(fd);
	seccomp_release(ctx);
}

int
sandbox_seccomp(const struct sandbox_params *sp, char **cause)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	(void)sp;

#if SECCOMP_TRAP
	struct sigaction sa;

	if (seccomp_pid == 0)
		sandbox_seccomp_prepare();
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = seccomp_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1) {
		xasprintf(cause, "sigaction SIGSYS: %s", strerror(errno));
		return -1;
	}
#endif
	if (getpid() == 1 && seccomp_pid1_prog.filter != NULL) {
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
		    &seccomp_pid1_prog) == -1) {
			xasprintf(cause, "seccomp: %s (is seccomp enabled in "
			    "the kernel?)", strerror(errno));
			return -1;
		}
	} else {
		if ((ctx = seccomp_build(getpid(), SECCOMP_DENY,
		    cause)) == NULL)
			return -1;
		if ((rc = seccomp_load(ctx)) < 0) {
			xasprintf(cause, "seccomp_load: %s (is seccomp enabled "
			    "in the kernel?)", strerror(-rc));
			seccomp_release(ctx);
			return -1;
		}
		seccomp_release(ctx);
	}
	log_debug("%s: allow-list of %zu syscalls (and checked clone, kill, "
	    "ioctl, prctl, socket), others fail with EPERM%s, foreign ABIs "
	    "killed", __func__, nitems(seccomp_allowed),
	    SECCOMP_TRAP ? " and are logged" : "");
	return 0;
}
