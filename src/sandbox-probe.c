/*
 * sandbox-probe.c: which session sandbox mechanisms this host offers.
 *
 * Once at start-up, before the zygote, the controller finds out what the
 * workers can have (workers/sandbox.h applies it): it forks a probe child
 * that does what a worker will do, as the uid a worker will have (drop
 * the uid when root, make a user namespace and map the uid, then a mount,
 * IPC, UTS, network and PID namespace each, a tmpfs, and a /proc for the
 * new PID namespace), asks the kernel about Landlock and seccomp, and finds
 * cgroup directories for the pids and memory controllers it may write (a
 * v1 hierarchy, or a v2 subtree with the controllers enabled for it),
 * where it makes its own autokitteh-<pid> directory for the workers'.
 *
 * The result is one state per mechanism: enforced, missing (with why), or
 * off by configuration. Under [workers] sandbox = strict anything missing
 * stops the daemon with a configuration error (exit 78); under best-effort
 * each missing mechanism is logged once as a warning saying what it means,
 * and workers run without it. `akctl status` shows the table.
 *
 * AUTOKITTEH_SANDBOX_DISABLE=name,... marks mechanisms missing as if the
 * host lacked them. It is for tests (tests/e2e/sandbox-ns.sh): it cannot
 * widen anything the configuration allows, only take mechanisms away.
 */
#include "autokittehd.h"
#include "frame.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	MECH_USERNS, MECH_PIDNS, MECH_MOUNTNS, MECH_IPCNS, MECH_UTSNS,
	MECH_NETNS, MECH_TMPFS, MECH_LANDLOCK, MECH_SECCOMP, MECH_CGROUP_PIDS,
	MECH_CGROUP_MEMORY, MECH_COUNT
};

enum mech_state { MECH_ENFORCED, MECH_MISSING, MECH_OFF };

static const struct {
	const char	*name;
	unsigned	 bit;		/* FRAME_SANDBOX_*, 0: not a SPAWN bit */
	const char	*without;	/* what its absence means */
} mechs[MECH_COUNT] = {
	[MECH_USERNS] = { "user_namespace", FRAME_SANDBOX_USERNS,
	    "no namespace can be made for sessions without root" },
	[MECH_PIDNS] = { "pid_namespace", FRAME_SANDBOX_PIDNS,
	    "sessions see every process of the host in /proc, the daemon's "
	    "included" },
	[MECH_MOUNTNS] = { "mount_namespace", FRAME_SANDBOX_MOUNTNS,
	    "the data directory, the admin socket and other sessions' "
	    "temp dirs are kept from sessions by Landlock alone" },
	[MECH_IPCNS] = { "ipc_namespace", FRAME_SANDBOX_IPCNS,
	    "sessions share System V IPC and POSIX message queues with the "
	    "host" },
	[MECH_UTSNS] = { "uts_namespace", FRAME_SANDBOX_UTSNS,
	    "sessions see and share the host's name" },
	[MECH_NETNS] = { "network_namespace", FRAME_SANDBOX_NETNS,
	    "[workers] network = off is not enforced: sessions can reach the "
	    "network" },
	[MECH_TMPFS] = { "tmpfs_tmpdir", FRAME_SANDBOX_TMPFS,
	    "a session's temp dir is on the host's /tmp, limited only by "
	    "RLIMIT_FSIZE per file, not by [workers] tmp_size" },
	[MECH_LANDLOCK] = { "landlock", FRAME_SANDBOX_LANDLOCK,
	    "sessions can read every file their uid may read" },
	[MECH_SECCOMP] = { "seccomp", FRAME_SANDBOX_SECCOMP,
	    "sessions may make any system call (ptrace, bpf, io_uring, "
	    "keyctl, ...)" },
	[MECH_CGROUP_PIDS] = { "cgroup_pids", 0,
	    "a session's processes are capped by RLIMIT_NPROC in its user "
	    "namespace only (nothing without one)" },
	[MECH_CGROUP_MEMORY] = { "cgroup_memory", 0,
	    "a session's memory is capped per process (RLIMIT_AS), not as a "
	    "whole" },
};

struct sandbox_support {
	int		 strict;
	int		 network;
	int		 state[MECH_COUNT];
	char		*detail[MECH_COUNT];
	char		*cgroup_dir[2];	/* pids, memory (the same dir in v2) */
	unsigned	 bits;
};

static void
mech_set(struct sandbox_support *s, int m, int state, const char *fmt, ...)
    AK_PRINTFLIKE(4, 5);

static void
mech_set(struct sandbox_support *s, int m, int state, const char *fmt, ...)
{
	va_list ap;

	s->state[m] = state;
	free(s->detail[m]);
	s->detail[m] = NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&s->detail[m], fmt, ap) == -1)
			fatalx("out of memory");
		va_end(ap);
	}
}

/* ---- the namespace probe, in a child ---- */

#define PROBE_NS_COUNT	(MECH_TMPFS + 1)

static int
probe_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int
probe_userns(uid_t uid, gid_t gid)
{
	char map[64];

	if (geteuid() == 0 && (setgroups(1, &gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1))
		return errno;
	/* The uid change made us non-dumpable, which makes /proc/self/
	 * root's: the id maps could not be written. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
		return errno;
	if (unshare(CLONE_NEWUSER) == -1)
		return errno;
	snprintf(map, sizeof map, "%ld %ld 1\n", (long)uid, (long)uid);
	if (probe_write("/proc/self/uid_map", map) == -1 ||
	    probe_write("/proc/self/setgroups", "deny") == -1)
		return errno;
	snprintf(map, sizeof map, "%ld %ld 1\n", (long)gid, (long)gid);
	if (probe_write("/proc/self/gid_map", map) == -1)
		return errno;
	return 0;
}

static int
probe_netns(void)
{
	struct ifreq ifr;
	int s, rc = 0;

	if (unshare(CLONE_NEWNET) == -1)
		return errno;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		rc = errno;
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) == -1)
		rc = errno;
	close(s);
	return rc;
}

/* A new PID namespace whose pid 1 can mount its /proc. */
static int
probe_pidns(int have_mountns)
{
	pid_t pid;
	int status;

	if (!have_mountns)
		return ENOTSUP;
	if (unshare(CLONE_NEWPID) == -1)
		return errno;
	if ((pid = fork()) == -1)
		return errno;
	if (pid == 0)
		_exit(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV |
		    MS_NOEXEC, NULL) == -1 ? errno : 0);
	if (waitpid(pid, &status, 0) == -1)
		return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

static AK_NORETURN void
probe_child(int fd, uid_t uid, gid_t gid, int network)
{
	int err[PROBE_NS_COUNT];

	for (int i = 0; i < PROBE_NS_COUNT; i++)
		err[i] = ENOTSUP;
	if ((err[MECH_USERNS] = probe_userns(uid, gid)) == 0) {
		err[MECH_MOUNTNS] = unshare(CLONE_NEWNS) == -1 ? errno : 0;
		err[MECH_IPCNS] = unshare(CLONE_NEWIPC) == -1 ? errno : 0;
		err[MECH_UTSNS] = unshare(CLONE_NEWUTS) == -1 ||
		    sethostname("probe", 5) == -1 ? errno : 0;
		if (!network)
			err[MECH_NETNS] = probe_netns();
		if (err[MECH_MOUNTNS] == 0)
			err[MECH_TMPFS] = mount("tmpfs", "/tmp", "tmpfs",
			    MS_NOSUID | MS_NODEV, "size=64k") == -1 ? errno : 0;
		err[MECH_PIDNS] = probe_pidns(err[MECH_MOUNTNS] == 0);
	}
	if (write(fd, err, sizeof err) != (ssize_t)sizeof err)
		_exit(1);
	_exit(0);
}

static void
probe_namespaces(struct sandbox_support *s, const struct config *cf,
    uid_t uid, gid_t gid)
{
	int err[PROBE_NS_COUNT], fds[2], status;
	ssize_t n = -1;
	pid_t pid;

	for (int i = 0; i < PROBE_NS_COUNT; i++)
		err[i] = ENOTSUP;
	if (pipe2(fds, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		close(fds[0]);
		probe_child(fds[1], uid, gid, s->network);
	}
	close(fds[1]);
	do
		n = read(fds[0], err, sizeof err);
	while (n == -1 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof err)
		err[MECH_USERNS] = EIO;
	for (int m = 0; m < PROBE_NS_COUNT; m++) {
		if (m == MECH_NETNS && s->network) {
			mech_set(s, m, MECH_OFF, "[workers] network = on");
			continue;
		}
		if (err[m] == 0)
			mech_set(s, m, MECH_ENFORCED, NULL);
		else if (m != MECH_USERNS && err[MECH_USERNS] != 0)
			mech_set(s, m, MECH_MISSING, "needs the user namespace");
		else if (err[m] == ENOTSUP && (m == MECH_TMPFS ||
		    m == MECH_PIDNS))
			mech_set(s, m, MECH_MISSING, "needs the mount namespace");
		else
			mech_set(s, m, MECH_MISSING, "%s", strerror(err[m]));
	}
	if (s->state[MECH_USERNS] == MECH_MISSING)
		mech_set(s, MECH_USERNS, MECH_MISSING, "unshare(CLONE_NEWUSER) "
		    "as uid %ld: %s (kernel.unprivileged_userns_clone, "
		    "user.max_user_namespaces or an LSM may forbid it)",
		    (long)uid, strerror(err[MECH_USERNS]));
	if (s->state[MECH_TMPFS] == MECH_ENFORCED)
		mech_set(s, MECH_TMPFS, MECH_ENFORCED, "%llu bytes",
		    (unsigned long long)cf->workers_tmp_size);
}

static void
probe_landlock(struct sandbox_support *s)
{
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	if (abi >= 1)
		mech_set(s, MECH_LANDLOCK, MECH_ENFORCED, "ABI %d", abi);
	else
		mech_set(s, MECH_LANDLOCK, MECH_MISSING, "the kernel has no "
		    "Landlock: %s", strerror(errno));
}

static void
probe_seccomp(struct sandbox_support *s)
{
	uint32_t action = SECCOMP_RET_KILL_PROCESS;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
		mech_set(s, MECH_SECCOMP, MECH_ENFORCED, NULL);
	else
		mech_set(s, MECH_SECCOMP, MECH_MISSING, "the kernel has no "
		    "seccomp filters: %s", strerror(errno));
}

/* ---- cgroups ---- */

/* Our cgroup's path for a v1 controller, or in v2 (controller NULL). */
static char *
cgroup_own_path(const char *controller_name)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096], *found = NULL;

	if (f == NULL)
		return NULL;
	while (found == NULL && fgets(line, sizeof line, f) != NULL) {
		char *id = line, *ctl, *path, *tok, *save;

		line[strcspn(line, "\n")] = '\0';
		if ((ctl = strchr(id, ':')) == NULL ||
		    (path = strchr(ctl + 1, ':')) == NULL)
			continue;
		*ctl++ = '\0';
		*path++ = '\0';
		if (controller_name == NULL) {
			if (strcmp(id, "0") == 0 && *ctl == '\0')
				found = xstrdup(path);
			continue;
		}
		for (tok = strtok_r(ctl, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (strcmp(tok, controller_name) == 0)
				found = xstrdup(path);
		}
	}
	fclose(f);
	return found;
}

/* The mount point of a cgroup v1 hierarchy with that controller, or of
 * the v2 hierarchy (controller NULL); *root is the mount's root. */
static char *
cgroup_mount_point(const char *controller_name, char **root)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], *found = NULL;

	if (f == NULL)
		return NULL;
	while (found == NULL && fgets(line, sizeof line, f) != NULL) {
		char *field[5], *save, *sep, *fstype, *opts, *tok;
		int i;

		if ((sep = strstr(line, " - ")) == NULL)
			continue;
		*sep = '\0';
		fstype = strtok_r(sep + 3, " ", &save);
		(void)strtok_r(NULL, " ", &save);	/* source */
		opts = strtok_r(NULL, " \n", &save);
		if (fstype == NULL || opts == NULL)
			continue;
		field[0] = strtok_r(line, " ", &save);
		for (i = 1; i < 5 && field[i - 1] != NULL; i++)
			field[i] = strtok_r(NULL, " ", &save);
		if (i < 5 || field[4] == NULL)
			continue;
		if (controller_name == NULL) {
			if (strcmp(fstype, "cgroup2") == 0) {
				found = xstrdup(field[4]);
				*root = xstrdup(field[3]);
			}
			continue;
		}
		if (strcmp(fstype, "cgroup") != 0)
			continue;
		for (tok = strtok_r(opts, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (strcmp(tok, controller_name) == 0) {
				found = xstrdup(field[4]);
				*root = xstrdup(field[3]);
				break;
			}
		}
	}
	fclose(f);
	return found;
}

/* mount point + (own path below the mount's root). */
static char *
cgroup_dir(const char *controller_name)
{
	char *mnt, *root = NULL, *own, *dir = NULL;
	size_t rl;

	if ((mnt = cgroup_mount_point(controller_name, &root)) == NULL)
		return NULL;
	if ((own = cgroup_own_path(controller_name)) != NULL) {
		rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(own, root, rl) == 0)
			xasprintf(&dir, "%s%s", mnt, strcmp(own + rl, "/") == 0 ?
			    "" : own + rl);
	}
	free(mnt);
	free(root);
	free(own);
	return dir;
}

static int
cgroup_rmdir_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *sub;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			xasprintf(&sub, "%s/%s", dir, e->d_name);
			cgroup_rmdir_tree(sub);
			free(sub);
		}
		closedir(d);
	}
	return rmdir(dir);
}

/* autokitteh-<pid> directories of controllers that are gone. */
static void
cgroup_remove_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;
	char *path, tail;
	long pid;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (sscanf(e->d_name, "autokitteh-%ld%c", &pid, &tail) != 1 ||
		    pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		xasprintf(&path, "%s/%s", base, e->d_name);
		if (cgroup_rmdir_tree(path) == 0)
			log_info("sandbox: removed the stale cgroup %s", path);
		free(path);
	}
	closedir(d);
}

static int
cgroup_write(const char *dir, const char *file, const char *text)
{
	char *path;
	int rc;

	xasprintf(&path, "%s/%s", dir, file);
	rc = probe_write(path, text);
	free(path);
	return rc;
}

/* Make base/autokitteh-<pid>; 0 and *out, or errno. */
static int
cgroup_make_parent(const char *base, char **out)
{
	char *dir;

	cgroup_remove_stale(base);
	xasprintf(&dir, "%s/autokitteh-%ld", base, (long)getpid());
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		int e = errno;

		free(dir);
		return e;
	}
	*out = dir;
	return 0;
}

static void
probe_cgroup_v1(struct sandbox_support *s, int m, const char *name)
{
	char *base = cgroup_dir(name), *dir = NULL;
	int e;

	if (base == NULL)
		return;
	if ((e = cgroup_make_parent(base, &dir)) != 0) {
		mech_set(s, m, MECH_MISSING, "cannot create a cgroup under %s: "
		    "%s", base, strerror(e));
	} else {
		s->cgroup_dir[m - MECH_CGROUP_PIDS] = dir;
		mech_set(s, m, MECH_ENFORCED, "cgroup v1, %s", dir);
	}
	free(base);
}

/*
 * v2: our cgroup must let its children have the controllers, which the
 * kernel allows only while it holds no process itself (not so for the
 * cgroup systemd gives a service; it would need a sub-cgroup for the
 * daemon, which we do not make). Then autokitteh-<pid> passes them on.
 */
static void
probe_cgroup_v2(struct sandbox_support *s)
{
	char *base = cgroup_dir(NULL), *dir = NULL, *path, have[256] = "";
	const char *names[2] = { "pids", "memory" };
	FILE *f;
	int e;

	if (base == NULL)
		return;
	xasprintf(&path, "%s/cgroup.controllers", base);
	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(have, sizeof have, f) == NULL)
			have[0] = '\0';
		fclose(f);
	}
	free(path);
	for (int i = 0; i < 2; i++) {
		int m = MECH_CGROUP_PIDS + i;
		char enable[16];

		if (s->state[m] == MECH_ENFORCED)
			continue;
		if (strstr(have, names[i]) == NULL) {
			if (s->detail[m] == NULL)
				mech_set(s, m, MECH_MISSING, "no %s controller "
				    "in a v1 hierarchy or in %s", names[i],
				    base);
			continue;
		}
		snprintf(enable, sizeof enable, "+%s", names[i]);
		if (cgroup_write(base, "cgroup.subtree_control", enable) == -1) {
			mech_set(s, m, MECH_MISSING, "cgroup v2: cannot enable "
			    "%s for the children of %s: %s", names[i], base,
			    strerror(errno));
			continue;
		}
		if (dir == NULL && (e = cgroup_make_parent(base, &dir)) != 0) {
			mech_set(s, m, MECH_MISSING, "cannot create a cgroup "
			    "under %s: %s", base, strerror(e));
			continue;
		}
		if (cgroup_write(dir, "cgroup.subtree_control", enable) == -1) {
			mech_set(s, m, MECH_MISSING, "cgroup v2: cannot enable "
			    "%s in %s: %s", names[i], dir, strerror(errno));
			continue;
		}
		s->cgroup_dir[i] = xstrdup(dir);
		mech_set(s, m, MECH_ENFORCED, "cgroup v2, %s", dir);
	}
	free(dir);
	free(base);
}

static void
probe_cgroups(struct sandbox_support *s)
{
	mech_set(s, MECH_CGROUP_PIDS, MECH_MISSING, NULL);
	mech_set(s, MECH_CGROUP_MEMORY, MECH_MISSING, NULL);
	probe_cgroup_v1(s, MECH_CGROUP_PIDS, "pids");
	probe_cgroup_v1(s, MECH_CGROUP_MEMORY, "memory");
	if (s->state[MECH_CGROUP_PIDS] != MECH_ENFORCED ||
	    s->state[MECH_CGROUP_MEMORY] != MECH_ENFORCED)
		probe_cgroup_v2(s);
	for (int m = MECH_CGROUP_PIDS; m <= MECH_CGROUP_MEMORY; m++) {
		if (s->state[m] == MECH_MISSING && s->detail[m] == NULL)
			mech_set(s, m, MECH_MISSING, "no cgroup hierarchy with "
			    "the %s controller", m == MECH_CGROUP_PIDS ?
			    "pids" : "memory");
	}
}

/* ---- the whole probe ---- */

static int
probe_disable(struct sandbox_support *s, const char *list, char **cause)
{
	char *copy = xstrdup(list), *next = copy, *name;
	int m;

	while ((name = strsep(&next, ", ")) != NULL) {
		if (*name == '\0')
			continue;
		for (m = 0; m < MECH_COUNT; m++) {
			if (strcmp(name, mechs[m].name) == 0)
				break;
		}
		if (m == MECH_COUNT) {
			xasprintf(cause, "AUTOKITTEH_SANDBOX_DISABLE: unknown "
			    "mechanism \"%s\" (known: user_namespace, "
			    "pid_namespace, mount_namespace, ipc_namespace, "
			    "uts_namespace, network_namespace, tmpfs_tmpdir, "
			    "landlock, seccomp, cgroup_pids, cgroup_memory)",
			    name);
			free(copy);
			return -1;
		}
		if (s->state[m] == MECH_OFF)
			continue;
		mech_set(s, m, MECH_MISSING, "disabled by "
		    "AUTOKITTEH_SANDBOX_DISABLE (for testing only)");
		if (m >= MECH_CGROUP_PIDS) {
			int i = m - MECH_CGROUP_PIDS;

			if (s->cgroup_dir[i] != NULL && (s->cgroup_dir[1 - i] ==
			    NULL || strcmp(s->cgroup_dir[i],
			    s->cgroup_dir[1 - i]) != 0))
				rmdir(s->cgroup_dir[i]);
			free(s->cgroup_dir[i]);
			s->cgroup_dir[i] = NULL;
		}
	}
	free(copy);
	return 0;
}

int
sandbox_probe(const struct config *cf, uid_t uid, gid_t gid,
    struct sandbox_support **out, char **cause)
{
	struct sandbox_support *s = xcalloc(1, sizeof *s);
	const char *disable = getenv("AUTOKITTEH_SANDBOX_DISABLE");
	char *missing = NULL, *tmp;
	int m;

	s->strict = cf->workers_sandbox == WORKERS_SANDBOX_STRICT;
	s->network = cf->workers_network == WORKERS_NETWORK_ON;
	probe_namespaces(s, cf, uid, gid);
	probe_landlock(s);
	probe_seccomp(s);
	probe_cgroups(s);
	if (disable != NULL && probe_disable(s, disable, cause) != 0) {
		sandbox_support_free(s);
		return -1;
	}
	/* Namespaces ride on the user namespace; the tmpfs and /proc on the
	 * mount namespace. */
	for (m = 0; m <= MECH_TMPFS; m++) {
		if (m != MECH_USERNS && s->state[m] == MECH_ENFORCED &&
		    s->state[MECH_USERNS] != MECH_ENFORCED)
			mech_set(s, m, MECH_MISSING, "needs the user namespace");
	}
	if (s->state[MECH_MOUNTNS] != MECH_ENFORCED) {
		if (s->state[MECH_PIDNS] == MECH_ENFORCED)
			mech_set(s, MECH_PIDNS, MECH_MISSING, "needs the mount "
			    "namespace (for its /proc)");
		if (s->state[MECH_TMPFS] == MECH_ENFORCED)
			mech_set(s, MECH_TMPFS, MECH_MISSING, "needs the mount "
			    "namespace");
	}
	for (m = 0; m < MECH_COUNT; m++) {
		if (s->state[m] == MECH_ENFORCED) {
			s->bits |= mechs[m].bit;
			continue;
		}
		if (s->state[m] != MECH_MISSING)
			continue;
		if (s->strict) {
			xasprintf(&tmp, "%s%s%s (%s: %s)", missing != NULL ?
			    missing : "", missing != NULL ? "; " : "",
			    mechs[m].name, s->detail[m], mechs[m].without);
			free(missing);
			missing = tmp;
		} else
			log_warning("sandbox: %s is missing (%s): %s; sessions "
			    "run without it", mechs[m].name, s->detail[m],
			    mechs[m].without);
	}
	if (missing != NULL) {
		xasprintf(cause, "[workers] sandbox = strict, but these sandbox "
		    "mechanisms are not available: %s. Make them available or "
		    "set [workers] sandbox = best-effort", missing);
		free(missing);
		sandbox_support_free(s);
		return -1;
	}
	log_info("sandbox: %s; workers get 0x%x", s->strict ? "strict" :
	    "best-effort", s->bits);
	*out = s;
	return 0;
}

unsigned
sandbox_support_bits(const struct sandbox_support *s)
{
	return s->bits;
}

const char *
sandbox_support_cgroup(const struct sandbox_support *s, int i)
{
	if (i < 0 || i > 1)
		return NULL;
	/* One directory for both in v2: list it once. */
	if (i == 1 && s->cgroup_dir[0] != NULL && s->cgroup_dir[1] != NULL &&
	    strcmp(s->cgroup_dir[0], s->cgroup_dir[1]) == 0)
		return NULL;
	return s->cgroup_dir[i];
}

json_t *
sandbox_support_json(const struct sandbox_support *s)
{
	static const char *const states[] = { "enforced", "missing", "off" };
	json_t *list = json_array();

	for (int m = 0; m < MECH_COUNT; m++) {
		json_t *o = json_pack("{s:s, s:s}", "name", mechs[m].name,
		    "state", states[s->state[m]]);

		if (s->detail[m] != NULL)
			json_object_set_new(o, "detail",
			    json_string(s->detail[m]));
		if (s->state[m] == MECH_MISSING)
			json_object_set_new(o, "meaning",
			    json_string(mechs[m].without));
		json_array_append_new(list, o);
	}
	return json_pack("{s:s, s:s, s:o}", "mode", s->strict ? "strict" :
	    "best-effort", "network", s->network ? "on" : "off",
	    "mechanisms", list);
}

void
sandbox_support_free(struct sandbox_support *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		if (sandbox_support_cgroup(s, i) != NULL)
			rmdir(s->cgroup_dir[i]);
	}
	for (int i = 0; i < 2; i++)
		free(s->cgroup_dir[i]);
	for (int m = 0; m < MECH_COUNT; m++)
		free(s->detail[m]);
	free(s);
}
