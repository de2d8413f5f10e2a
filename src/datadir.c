/*
 * datadir.c: the data directory and its lock.
 *
 * data_dir holds the store. It must belong to the daemon's user and must
 * not be writable by group or others: anyone who can write there can
 * replace the database. Only one autokittehd may use a data directory; we
 * hold an fcntl lock on data_dir/autokittehd.lock (with our pid written in
 * it) for the life of the process. The kernel drops the lock when we die.
 */
#include "autokittehd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_FILE "autokittehd.lock"

static int datadir_lock_fd = -1;

int
datadir_prepare(const char *dir, uid_t uid, gid_t gid, char **cause)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0) {
		if (geteuid() == 0 && chown(dir, uid, gid) == -1) {
			xasprintf(cause, "data_dir %s: chown: %s", dir,
			    strerror(errno));
			return -1;
		}
		log_info("created data directory %s", dir);
	} else if (errno != EEXIST) {
		xasprintf(cause, "cannot create data_dir %s: %s; create it "
		    "(mode 0700, owned by the daemon's user) or fix "
		    "server.data_dir", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1) {
		xasprintf(cause, "data_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		xasprintf(cause, "data_dir %s is not a directory", dir);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		xasprintf(cause, "data_dir %s is writable by %s (mode %04o); "
		    "anyone who can write there can replace the database: "
		    "run 'chmod go-w %s' (0700 is best)", dir,
		    (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	if (st.st_uid != uid) {
		xasprintf(cause, "data_dir %s belongs to uid %u, not to the "
		    "daemon's user (uid %u): run 'chown -R %u:%u %s'", dir,
		    (unsigned)st.st_uid, (unsigned)uid, (unsigned)uid,
		    (unsigned)gid, dir);
		return -1;
	}
	return 0;
}

int
datadir_lock(const char *dir, uid_t uid, gid_t gid, char **cause)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char *path, pid[32] = "";
	ssize_t n;
	int fd;

	xasprintf(&path, "%s/" LOCK_FILE, dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		xasprintf(cause, "cannot open lock file %s: %s", path,
		    strerror(errno));
		free(path);
		return -1;
	}
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		xasprintf(cause, "another autokittehd%s%s%s is using data_dir "
		    "%s (it holds %s): stop it first, or give this one its "
		    "own server.data_dir", *pid ? " (pid " : "", pid,
		    *pid ? ")" : "", dir, path);
		free(path);
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && fchown(fd, uid, gid) == -1)
		log_warning("chown %s: %s", path, strerror(errno));
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warning("writing pid to %s: %s", path, strerror(errno));
	free(path);
	datadir_lock_fd = fd;
	return 0;
}

void
datadir_unlock(void)
{
	if (datadir_lock_fd != -1) {
		close(datadir_lock_fd);
		datadir_lock_fd = -1;
	}
}
