/*
 * sandbox-tmpdir.c: the session's private, writable directory.
 *
 * The controller picks the path; we create it (mode 0700, and it must not
 * exist yet, so nobody can have planted a symlink or files there), hand it
 * to the worker's uid while we are still root, and make it the working
 * directory, HOME and TMPDIR. The controller removes it after the worker
 * exits.
 */
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

int
sandbox_tmpdir(const struct sandbox_params *sp, char **cause)
{
	const char	*dir = sp->tmpdir;

	if (dir == NULL || dir[0] != '/') {
		xasprintf(cause, "temp dir \"%s\" is not an absolute path",
		    dir != NULL ? dir : "");
		return -1;
	}
	if (mkdir(dir, 0700) == -1) {
		xasprintf(cause, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (geteuid() == 0 && chown(dir, sp->uid, sp->gid) == -1) {
		xasprintf(cause, "chown %s: %s", dir, strerror(errno));
		return -1;
	}
	if (chdir(dir) == -1) {
		xasprintf(cause, "chdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (setenv("TMPDIR", dir, 1) == -1 || setenv("HOME", dir, 1) == -1) {
		xasprintf(cause, "setenv: %s", strerror(errno));
		return -1;
	}
	log_debug("%s: %s (0700, owner %ld:%ld) is cwd, HOME and TMPDIR",
	    __func__, dir, (long)sp->uid, (long)sp->gid);
	return 0;
}
