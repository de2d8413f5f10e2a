/*
 * sandbox.c: apply every sandbox mechanism in order (see sandbox.h).
 *
 * The order matters: the cgroup is joined first, so that nothing we fork
 * escapes it; the temp dir is chowned and the rlimits set while we may
 * still be root; the uid drop comes after everything that needs host
 * privilege; the namespaces come after it, so that they are created by the
 * unprivileged uid and owned by its own user namespace, whose capabilities
 * the mounts use and the caps step then drops; Landlock comes after the
 * mounts (its rules name the new /proc and tmpfs); and the seccomp filter is
 * installed last so that it does not have to allow the syscalls the earlier
 * steps use. The first failure stops the sequence; the caller must not run
 * user code then. A step tied to a FRAME_SANDBOX_* bit runs only when the
 * controller asked for it (it found the mechanism on this host).
 */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sandbox.h"

static const struct {
	const char	*name;
	int		(*apply)(const struct sandbox_params *, char **);
	unsigned	 requires;	/* FRAME_SANDBOX_* bit, 0 = always */
} sandbox_steps[] = {
	{ "process", sandbox_process, 0 },
	{ "cgroup", sandbox_cgroup, 0 },
	{ "fds", sandbox_fds, 0 },
	{ "tmpdir", sandbox_tmpdir, 0 },
	{ "rlimit", sandbox_rlimit, 0 },
	{ "uid", sandbox_uid, 0 },
	{ "namespace", sandbox_namespace, FRAME_SANDBOX_USERNS },
	{ "mount", sandbox_mount, FRAME_SANDBOX_MOUNTNS },
	{ "caps", sandbox_caps, FRAME_SANDBOX_USERNS },
	{ "landlock", sandbox_landlock, FRAME_SANDBOX_LANDLOCK },
	{ "seccomp", sandbox_seccomp, FRAME_SANDBOX_SECCOMP },
};

int
sandbox_apply(const struct sandbox_params *sp, char **cause)
{
	size_t	 i;
	char	*why, times[512] = "";
	int	 len = 0;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = t0;
	sandbox_seccomp_prepare();
	for (i = 0; i < nitems(sandbox_steps); i++) {
		why = NULL;
		if (sandbox_steps[i].requires != 0 &&
		    (sp->mechanisms & sandbox_steps[i].requires) == 0) {
			log_debug("%s: %s not requested", __func__,
			    sandbox_steps[i].name);
			continue;
		}
		if (sandbox_steps[i].apply(sp, &why) != 0) {
			xasprintf(cause, "sandbox %s: %s", sandbox_steps[i].name,
			    why != NULL ? why : "failed");
			free(why);
			return -1;
		}
		if (len >= 0 && (size_t)len < sizeof times)
			len += snprintf(times + len, sizeof times - (size_t)len,
			    " %s %.2f", sandbox_steps[i].name,
			    elapsed_us(&t) / 1e3);
		clock_gettime(CLOCK_MONOTONIC, &t);
	}
	/* Where a worker's start-up time goes (docs/BENCHMARKS.md). */
	log_debug("%s: done in %.2f ms:%s", __func__, elapsed_us(&t0) / 1e3,
	    times);
	return 0;
}
