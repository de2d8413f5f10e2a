/*
 * sandbox-landlock.c: what the session may see of the file system.
 *
 * A Landlock ruleset (best effort by the kernel's ABI): read and execute
 * under the system directories Python needs (/usr, /lib*, /bin, /sbin,
 * /etc), read /proc and the SDK's directory, read and write /dev (null,
 * urandom), and everything only in the session's own temp dir. The store,
 * the data directory, the admin socket and other sessions' temp dirs are
 * out of reach even when the worker shares the daemon's uid (a daemon
 * started by systemd as user autokitteh). [workers] writable_paths adds
 * directories a deployment trusts sessions to write (a shared ledger). A kernel without Landlock leaves
 * this step a no-op, said at debug level; the full sandbox work adds a
 * strict mode that refuses to run then.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define READ_EXEC (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
	LANDLOCK_ACCESS_FS_READ_DIR)
#define READ_ONLY (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

static int
landlock_allow(int ruleset, const char *path, uint64_t access,
    uint64_t handled, char **cause)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, rc;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;	/* not on this system */
		xasprintf(cause, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= ~(uint64_t)LANDLOCK_ACCESS_FS_READ_DIR;
	pb.allowed_access = access & handled;
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	if (rc != 0) {
		xasprintf(cause, "landlock rule for %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
sandbox_landlock(const struct sandbox_params *sp, char **cause)
{
	static const char *const system_dirs[] = {
		"/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin",
		"/etc", "/run/systemd/resolve",
	};
	struct landlock_ruleset_attr attr;
	uint64_t handled, dev;
	int abi, ruleset, rc = -1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_debug("sandbox_landlock: not available (%s); the file "
		    "system is not confined", strerror(errno));
		return 0;
	}
	handled = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = handled;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr,
	    0);
	if (ruleset == -1) {
		xasprintf(cause, "landlock ruleset: %s", strerror(errno));
		return -1;
	}
	dev = READ_ONLY | LANDLOCK_ACCESS_FS_WRITE_FILE;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	dev |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	for (size_t i = 0; i < nitems(system_dirs); i++) {
		if (landlock_allow(ruleset, system_dirs[i], READ_EXEC, handled,
		    cause) != 0)
			goto out;
	}
	if (landlock_allow(ruleset, "/proc", READ_ONLY, handled, cause) != 0 ||
	    landlock_allow(ruleset, "/dev", dev, handled, cause) != 0 ||
	    (sp->pythonpath != NULL && landlock_allow(ruleset, sp->pythonpath,
	    READ_EXEC, handled, cause) != 0) ||
	    landlock_allow(ruleset, sp->tmpdir, handled, handled, cause) != 0)
		goto out;
	/* [workers] writable_paths: read-write as the temp dir. */
	if (sp->writable != NULL && *sp->writable != '\0') {
		char *list = xstrdup(sp->writable), *path, *next = list;

		while ((path = strsep(&next, ":")) != NULL) {
			if (*path == '/' && landlock_allow(ruleset, path, handled,
			    handled, cause) != 0) {
				free(list);
				goto out;
			}
		}
		free(list);
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		xasprintf(cause, "landlock_restrict_self: %s", strerror(errno));
		goto out;
	}
	log_debug("sandbox_landlock: ABI %d: system dirs read-only, %s "
	    "read-write, nothing else", abi, sp->tmpdir);
	rc = 0;
out:
	close(ruleset);
	return rc;
}
