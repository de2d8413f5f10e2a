/*
 * sandbox.c: apply every sandbox mechanism in order (see sandbox.h).
 *
 * The order matters: the temp dir is chowned and the rlimits set while we
 * may still be root, the uid drop comes after everything that needs
 * privilege, and the seccomp filter is installed last so that it does not
 * have to allow the syscalls the earlier steps use. The first failure stops
 * the sequence; the caller must not run user code then.
 */
#include "worker.h"

#include <stdlib.h>

#include "sandbox.h"

static const struct {
	const char	*name;
	int		(*apply)(const struct sandbox_params *, char **);
} sandbox_steps[] = {
	{ "process", sandbox_process },
	{ "fds", sandbox_fds },
	{ "tmpdir", sandbox_tmpdir },
	{ "rlimit", sandbox_rlimit },
	{ "uid", sandbox_uid },
	{ "landlock", sandbox_landlock },
	{ "seccomp", sandbox_seccomp },
};

int
sandbox_apply(const struct sandbox_params *sp, char **cause)
{
	size_t	 i;
	char	*why;

	sandbox_seccomp_prepare();
	for (i = 0; i < nitems(sandbox_steps); i++) {
		why = NULL;
		if (sandbox_steps[i].apply(sp, &why) != 0) {
			xasprintf(cause, "sandbox %s: %s", sandbox_steps[i].name,
			    why != NULL ? why : "failed");
			free(why);
			return -1;
		}
	}
	return 0;
}
