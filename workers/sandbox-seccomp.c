/*
 * sandbox-seccomp.c: the syscall filter, installed last.
 *
 * Default allow (CPython and the libraries users install need most of the
 * kernel), with a deny list of syscalls that a session has no business
 * making and that widen the kernel attack surface or escape the other
 * mechanisms: debugging other processes, mounts and namespaces, BPF,
 * io_uring (it bypasses seccomp for the operations it performs), keyrings,
 * perf, userfaultfd, kernel modules, kexec, handle-based opens, and the
 * terminal ioctls that inject input (TIOCSTI, TIOCLINUX). They fail with
 * EPERM, which Python reports as PermissionError.
 *
 * Foreign ABIs are killed: a filter only describes the native architecture,
 * so i386 (int 0x80) and x32 syscalls would otherwise bypass it. seccomp_init
 * sets up the native arch only, and SCMP_FLTATR_ACT_BADARCH kills anything
 * else; on x86_64 libseccomp also sends x32 numbers (nr >= 0x40000000) to
 * the bad-arch action (checked by workers/tests/run-worker.sh).
 */
#include "worker.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <seccomp.h>

#include "sandbox.h"

static const char *const sandbox_denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev",
	"mount", "umount2", "pivot_root", "unshare", "setns",
	"bpf", "io_uring_setup", "io_uring_enter", "io_uring_register",
	"keyctl", "add_key", "request_key", "perf_event_open", "userfaultfd",
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "open_by_handle_at",
};

static const struct {
	const char	*name;
	unsigned long	 request;
} sandbox_denied_ioctls[] = {
	{ "TIOCSTI", TIOCSTI },
	{ "TIOCLINUX", TIOCLINUX },
};

static int
sandbox_seccomp_rules(scmp_filter_ctx ctx, char **cause)
{
	size_t	 i;
	int	 nr, rc;

	for (i = 0; i < nitems(sandbox_denied); i++) {
		nr = seccomp_syscall_resolve_name(sandbox_denied[i]);
		if (nr == __NR_SCMP_ERROR) {
			xasprintf(cause, "unknown syscall %s", sandbox_denied[i]);
			return -1;
		}
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (rc < 0) {
			xasprintf(cause, "rule %s: %s", sandbox_denied[i],
			    strerror(-rc));
			return -1;
		}
	}
	/* Compare only the low 32 bits: the kernel ignores the high ones. */
	for (i = 0; i < nitems(sandbox_denied_ioctls); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU,
		    sandbox_denied_ioctls[i].request));
		if (rc < 0) {
			xasprintf(cause, "rule ioctl %s: %s",
			    sandbox_denied_ioctls[i].name, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

int
sandbox_seccomp(const struct sandbox_params *sp, char **cause)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	(void)sp;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		xasprintf(cause, "seccomp_init failed");
		return -1;
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
	if (sandbox_seccomp_rules(ctx, cause) == -1)
		goto fail;
	if ((rc = seccomp_load(ctx)) < 0) {
		xasprintf(cause, "seccomp_load: %s (is seccomp enabled in the "
		    "kernel?)", strerror(-rc));
		goto fail;
	}
	seccomp_release(ctx);
	log_debug("%s: %zu syscalls and 2 ioctls denied (EPERM), foreign "
	    "ABIs killed", __func__, nitems(sandbox_denied));
	return 0;

fail:
	seccomp_release(ctx);
	return -1;
}
