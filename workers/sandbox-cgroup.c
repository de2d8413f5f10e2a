/*
 * sandbox-cgroup.c: the session's own cgroups.
 *
 * The controller found the pids and memory controllers it may use (v1
 * hierarchies or a delegated v2 subtree, src/sandbox-probe.c) and names a
 * fresh directory per worker in each; we create it, write the limits its
 * files offer (pids.max; memory.max or memory.limit_in_bytes, plus the
 * swap limit so the cap cannot be dodged by swapping) and move ourselves in
 * before anything forks, so every process of the session is counted: a fork
 * bomb stops at [workers] pids_max with EAGAIN, and the session's memory
 * as a whole (its children and its tmpfs included) stays within
 * [workers] memory_limit, past which the kernel's OOM killer ends it.
 * Runs as the zygote's uid, before the uid drop. The controller removes the
 * directories when the worker has gone.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

/* Write value to dir/file if the file exists; 0 if done or absent. */
static int
cgroup_set(const char *dir, const char *file, const char *value,
    char **cause)
{
	char	 path[4096];
	size_t	 len = strlen(value);
	int	 fd;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		xasprintf(cause, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, value, len) != (ssize_t)len) {
		xasprintf(cause, "write %s to %s: %s", value, path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
cgroup_join(const struct sandbox_params *sp, const char *dir, char **cause)
{
	char	 pids[32], mem[32];

	if (mkdir(dir, 0755) == -1) {
		xasprintf(cause, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(pids, sizeof pids, "%llu", (unsigned long long)sp->pids_max);
	snprintf(mem, sizeof mem, "%llu", (unsigned long long)sp->memory_limit);
	if ((sp->pids_max > 0 && cgroup_set(dir, "pids.max", pids,
	    cause) != 0) ||
	    (sp->memory_limit > 0 && (cgroup_set(dir, "memory.max", mem,
	    cause) != 0 || cgroup_set(dir, "memory.swap.max", "0",
	    cause) != 0 || cgroup_set(dir, "memory.limit_in_bytes", mem,
	    cause) != 0 || cgroup_set(dir, "memory.memsw.limit_in_bytes", mem,
	    cause) != 0)) ||
	    cgroup_set(dir, "cgroup.procs", "0", cause) != 0)
		return -1;
	return 0;
}

int
sandbox_cgroup(const struct sandbox_params *sp, char **cause)
{
	char	*list, *next, *dir;
	int	 rc = 0;

	if (sp->cgroups == NULL || *sp->cgroups == '\0')
		return 0;
	next = list = xstrdup(sp->cgroups);
	while (rc == 0 && (dir = strsep(&next, ":")) != NULL) {
		if (*dir == '/')
			rc = cgroup_join(sp, dir, cause);
	}
	free(list);
	if (rc == 0)
		log_debug("%s: joined %s (pids.max %llu, memory %llu)",
		    __func__, sp->cgroups, (unsigned long long)sp->pids_max,
		    (unsigned long long)sp->memory_limit);
	return rc;
}
