/*
 * sandbox-process.c: process attributes of a session worker.
 *
 * A new session (no controlling terminal, its own process group, so a
 * signal to the controller's group does not reach it), death with its
 * parent (the zygote), and no_new_privs so that exec of a setuid binary
 * cannot gain privilege and seccomp can be installed without CAP_SYS_ADMIN.
 * We leave the dumpable flag alone: dropping the uid clears it anyway
 * (kernel suid_dumpable), and core dumps are off through RLIMIT_CORE.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox.h"

int
sandbox_process(const struct sandbox_params *sp, char **cause)
{
	if (setsid() == -1) {
		xasprintf(cause, "setsid: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		xasprintf(cause, "PR_SET_PDEATHSIG: %s", strerror(errno));
		return -1;
	}
	if (getppid() != sp->parent) {
		/*
		 * The zygote died before we asked to die with it: we were
		 * adopted, by init or by a subreaper (a service manager, a
		 * container's init), so comparing with 1 is not enough.
		 */
		xasprintf(cause, "parent exited");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		xasprintf(cause, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	log_debug("%s: setsid, pdeathsig SIGKILL, no_new_privs", __func__);
	return 0;
}
