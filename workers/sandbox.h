/*
 * sandbox.h: confine a forked session worker before it runs user code.
 *
 * One mechanism per file, each behind the same tiny signature (the OpenSSH
 * way): sandbox_<mechanism>() applies one thing, logs at debug what it
 * enforced, and returns 0, or -1 with an allocated *cause saying what could
 * not be enforced. sandbox_apply() runs them in a fixed order: process
 * attributes, the cgroup (joined before anything can fork), file
 * descriptors, the temp dir (needs root to chown), rlimits, the uid drop,
 * the namespaces (unprivileged from here on: a user namespace gives us the
 * capabilities the next step needs, over our own namespaces only), the
 * mounts, dropping those capabilities, the Landlock ruleset, and seccomp
 * last (it would forbid some of the steps above).
 *
 * `mechanisms` (FRAME_SANDBOX_* bits) says which optional mechanisms the
 * controller found on this host and wants; a requested one that fails is
 * an error like any other, one not requested is skipped.
 */
#ifndef AK_SANDBOX_H
#define AK_SANDBOX_H

#include <stdint.h>
#include <sys/types.h>

struct sandbox_params {
	uid_t		 uid;
	gid_t		 gid;
	const char	*tmpdir;	/* absolute; created here, must not exist */
	uint64_t	 memory_limit;	/* RLIMIT_AS bytes, 0 = none */
	uint64_t	 cpu_limit_s;	/* RLIMIT_CPU seconds, 0 = none */
	uint64_t	 nofile;	/* RLIMIT_NOFILE, 0 = leave */
	uint64_t	 fsize;		/* RLIMIT_FSIZE bytes, 0 = leave */
	int		 ipc_fd;	/* kept open; everything else closed */
	const char	*pythonpath;	/* the SDK's directory, read-only */
	const char	*writable;	/* more writable dirs, ':'-separated */
	unsigned	 mechanisms;	/* FRAME_SANDBOX_* */
	uint64_t	 tmp_size;	/* the temp dir's tmpfs, bytes */
	const char	*hide;		/* dirs to hide, ':'-separated */
	const char	*cgroups;	/* cgroup dirs to create and join */
	uint64_t	 pids_max;	/* cgroup pids.max, 0 = none */
	uint64_t	 nproc;		/* RLIMIT_NPROC in the user ns, 0 = none */
	pid_t		 parent;	/* the zygote: we die with it */
};

int sandbox_apply(const struct sandbox_params *, char **cause);

/* sandbox-process.c: setsid, parent-death signal, no_new_privs. */
int sandbox_process(const struct sandbox_params *, char **cause);
/* sandbox-cgroup.c: create and join the session's cgroups, set limits. */
int sandbox_cgroup(const struct sandbox_params *, char **cause);
/* sandbox-fds.c: close all but 0-2 and ipc_fd; stdin from /dev/null. */
int sandbox_fds(const struct sandbox_params *, char **cause);
/* sandbox-tmpdir.c: create, chown, chdir; HOME and TMPDIR point there. */
int sandbox_tmpdir(const struct sandbox_params *, char **cause);
/* sandbox-rlimit.c: address space, CPU, files, file size, no core. */
int sandbox_rlimit(const struct sandbox_params *, char **cause);
/* sandbox-uid.c: drop to the dedicated unprivileged uid/gid for good. */
int sandbox_uid(const struct sandbox_params *, char **cause);
/* sandbox-namespace.c: user, PID, mount, IPC, UTS (and network)
 * namespaces; with a PID namespace, returns in its pid 1 only. */
int sandbox_namespace(const struct sandbox_params *, char **cause);
/* sandbox-mount.c: private /proc, tmpfs temp dir, hide sensitive dirs. */
int sandbox_mount(const struct sandbox_params *, char **cause);
/* sandbox-namespace.c: drop the capabilities the user namespace gave. */
int sandbox_caps(const struct sandbox_params *, char **cause);
/* sandbox-landlock.c: system dirs read-only, the temp dir read-write. */
int sandbox_landlock(const struct sandbox_params *, char **cause);
/* sandbox-seccomp.c: deny dangerous syscalls, kill foreign ABIs.
 * sandbox_seccomp_prepare() runs first: it remembers the pid the
 * controller knows the worker by, for the log lines of denials. */
void sandbox_seccomp_prepare(void);
int sandbox_seccomp(const struct sandbox_params *, char **cause);
/* In the zygote: resolve the names and compile pid 1's filter once. */
void sandbox_seccomp_zygote(void);

#endif
