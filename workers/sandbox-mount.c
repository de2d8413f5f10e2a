/*
 * sandbox-mount.c: what the session's own mount namespace shows.
 *
 * Runs in the session's mount namespace (sandbox-namespace.c), with the
 * capabilities its user namespace gave; nothing here reaches the host's
 * mounts (the kernel makes mounts copied into a less privileged namespace
 * slaves that cannot propagate back, and locks them: they can be covered,
 * not removed).
 *
 *  - /proc is mounted afresh for the session's PID namespace, so it lists
 *    the session's processes only.
 *  - The temp dir becomes a tmpfs of [workers] tmp_size bytes (and an inode
 *    cap to match), owned by the worker's uid: filling it fails with ENOSPC
 *    inside the session instead of filling the host's /tmp.
 *  - Each directory in the controller's hide list (the data directory with
 *    the store and keys, the admin socket's directory, /tmp with the other
 *    sessions' temp dirs, /dev/shm, /var/tmp) is covered by an empty
 *    read-only tmpfs, into which the directories the session does need
 *    (its temp dir, the SDK, [workers] writable_paths, the system
 *    resolver's directory) are bound back at their usual paths. A
 *    directory that no longer exists (under one already hidden) or that
 *    holds the system directories is skipped; Landlock still confines it.
 *  - The secrets key file, wherever [secrets] key_file puts it, reads as
 *    /dev/null (a key file in the data directory is already hidden).
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

#define MAX_KEEP	32

/* Never covered: Python and the system need them. */
static const char *const mount_system_dirs[] = {
	"/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc",
	"/proc", "/dev", "/sys",
};

struct mount_keep {
	const char	*path;
	int		 fd;	/* O_PATH, opened before the cover */
};

/* Is dir equal to path or one of its ancestors? */
static int
path_within(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

static int
mkdir_parents(const char *path, char **cause)
{
	char	*copy = xstrdup(path), *p;

	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(copy, 0755) == -1 && errno != EEXIST) {
			xasprintf(cause, "mkdir %s: %s", copy, strerror(errno));
			free(copy);
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	return 0;
}

static int
mount_proc(char **cause)
{
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) == -1) {
		xasprintf(cause, "mount /proc: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
mount_tmpdir(const struct sandbox_params *sp, char **cause)
{
	char	 opts[160];
	uint64_t inodes = sp->tmp_size / 4096;

	if (inodes < 1024)
		inodes = 1024;
	snprintf(opts, sizeof opts, "size=%llu,nr_inodes=%llu,mode=0700,"
	    "uid=%ld,gid=%ld", (unsigned long long)sp->tmp_size,
	    (unsigned long long)inodes, (long)geteuid(), (long)getegid());
	if (mount("tmpfs", sp->tmpdir, "tmpfs", MS_NOSUID | MS_NODEV, opts)
	    == -1) {
		xasprintf(cause, "mount a tmpfs on %s (%s): %s", sp->tmpdir,
		    opts, strerror(errno));
		return -1;
	}
	return 0;
}

/* The directories the session needs, opened before anything is covered. */
static size_t
mount_collect_keep(const struct sandbox_params *sp, const char *dir,
    struct mount_keep *keep, char **store)
{
	const char	*fixed[] = { sp->tmpdir, sp->pythonpath,
	    "/run/systemd/resolve" };
	char		*next, *path;
	size_t		 n = 0, i;

	for (i = 0; i < nitems(fixed); i++) {
		if (fixed[i] != NULL && path_within(fixed[i], dir))
			keep[n++].path = fixed[i];
	}
	*store = next = xstrdup(sp->writable != NULL ? sp->writable : "");
	while ((path = strsep(&next, ":")) != NULL && n < MAX_KEEP) {
		if (*path == '/' && path_within(path, dir))
			keep[n++].path = path;
	}
	for (i = 0; i < n; i++)
		keep[i].fd = open(keep[i].path, O_PATH | O_DIRECTORY |
		    O_CLOEXEC);
	return n;
}

/*
 * A file to hide (the secrets key file, when it is not in the data
 * directory): /dev/null is bound over it, read-only, so it reads empty.
 */
static int
mount_hide_file(const char *path, char **cause)
{
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1) {
		xasprintf(cause, "cover %s: %s", path, strerror(errno));
		return -1;
	}
	log_debug("%s: %s hidden", __func__, path);
	return 0;
}

/* Cover dir with an empty read-only tmpfs and bind back what is kept. */
static int
mount_hide(const struct sandbox_params *sp, const char *dir, char **cause)
{
	struct mount_keep keep[MAX_KEEP];
	struct stat	 st;
	char		*store = NULL, fdpath[64];
	size_t		 n, i;
	int		 rc = -1;

	for (i = 0; i < nitems(mount_system_dirs); i++) {
		if (path_within(mount_system_dirs[i], dir)) {
			log_debug("%s: not hiding %s: it holds %s", __func__,
			    dir, mount_system_dirs[i]);
			return 0;
		}
	}
	if (stat(dir, &st) == 0 && S_ISREG(st.st_mode))
		return mount_hide_file(dir, cause);
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		log_debug("%s: %s is not there to hide", __func__, dir);
		return 0;
	}
	n = mount_collect_keep(sp, dir, keep, &store);
	if (mount("none", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "size=64k,nr_inodes=256,mode=0755") == -1) {
		xasprintf(cause, "cover %s: %s", dir, strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (keep[i].fd == -1)
			continue;	/* not there: nothing to bind back */
		if (mkdir_parents(keep[i].path, cause) != 0)
			goto out;
		snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", keep[i].fd);
		if (mount(fdpath, keep[i].path, NULL, MS_BIND | MS_REC,
		    NULL) == -1) {
			xasprintf(cause, "bind %s back: %s", keep[i].path,
			    strerror(errno));
			goto out;
		}
	}
	if (mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1) {
		xasprintf(cause, "remount %s read-only: %s", dir,
		    strerror(errno));
		goto out;
	}
	log_debug("%s: %s hidden, %zu dirs bound back", __func__, dir, n);
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		if (keep[i].fd != -1)
			close(keep[i].fd);
	}
	free(store);
	return rc;
}

int
sandbox_mount(const struct sandbox_params *sp, char **cause)
{
	char	*list, *next, *dir;
	int	 rc = 0;

	if ((sp->mechanisms & FRAME_SANDBOX_PIDNS) && mount_proc(cause) != 0)
		return -1;
	if ((sp->mechanisms & FRAME_SANDBOX_TMPFS) && sp->tmp_size > 0 &&
	    mount_tmpdir(sp, cause) != 0)
		return -1;
	if (sp->hide != NULL) {
		next = list = xstrdup(sp->hide);
		while (rc == 0 && (dir = strsep(&next, ":")) != NULL) {
			if (*dir == '/')
				rc = mount_hide(sp, dir, cause);
		}
		free(list);
		if (rc != 0)
			return -1;
	}
	/* Our cwd is the directory the tmpfs now covers: step onto it. */
	if (chdir(sp->tmpdir) == -1) {
		xasprintf(cause, "chdir %s: %s", sp->tmpdir, strerror(errno));
		return -1;
	}
	log_debug("%s: %s%s is a %llu-byte tmpfs", __func__,
	    (sp->mechanisms & FRAME_SANDBOX_PIDNS) ? "private /proc; " : "",
	    sp->tmpdir, (unsigned long long)sp->tmp_size);
	return 0;
}
