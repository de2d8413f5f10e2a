/*
 * sandbox-uid.c: drop root for good.
 *
 * When the zygote runs as root, each worker becomes the dedicated
 * unprivileged uid/gid the controller chose: supplementary groups first,
 * then gid, then uid (in that order, since after setresuid we could no
 * longer change groups), and then we check that root cannot be regained.
 * The kernel clears the parent-death signal on a credential change, so it
 * is armed again here.
 * When the zygote is not root there is nothing to drop (the controller
 * already runs unprivileged); that is logged, not an error.
 */
#include "worker.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox.h"

int
sandbox_uid(const struct sandbox_params *sp, char **cause)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;

	if (geteuid() != 0) {
		log_debug("%s: not root (uid %ld), no uid to drop", __func__,
		    (long)geteuid());
		return 0;
	}
	if (sp->uid == 0 || sp->gid == 0) {
		xasprintf(cause, "refusing to run user code as uid/gid 0");
		return -1;
	}
	if (setgroups(1, &sp->gid) == -1) {
		xasprintf(cause, "setgroups: %s", strerror(errno));
		return -1;
	}
	if (setresgid(sp->gid, sp->gid, sp->gid) == -1) {
		xasprintf(cause, "setresgid %ld: %s", (long)sp->gid,
		    strerror(errno));
		return -1;
	}
	if (setresuid(sp->uid, sp->uid, sp->uid) == -1) {
		xasprintf(cause, "setresuid %ld: %s", (long)sp->uid,
		    strerror(errno));
		return -1;
	}
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != sp->uid || euid != sp->uid || suid != sp->uid ||
	    rgid != sp->gid || egid != sp->gid || sgid != sp->gid) {
		xasprintf(cause, "uid/gid did not change");
		return -1;
	}
	if (setuid(0) != -1 || setgid(0) != -1) {
		xasprintf(cause, "root could be regained");
		return -1;
	}
	/* Changing credentials cleared the parent-death signal: re-arm it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		xasprintf(cause, "PR_SET_PDEATHSIG: %s", strerror(errno));
		return -1;
	}
	if (getppid() != sp->parent) {
		xasprintf(cause, "parent exited");
		return -1;
	}
	log_debug("%s: uid %ld gid %ld, groups {%ld}", __func__,
	    (long)sp->uid, (long)sp->gid, (long)sp->gid);
	return 0;
}
