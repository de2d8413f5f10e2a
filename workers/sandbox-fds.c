/*
 * sandbox-fds.c: a session worker holds only stdio and its IPC socket.
 *
 * Everything the zygote or CPython had open is closed, so user code cannot
 * reach another worker's socket or anything inherited by accident. stdout
 * and stderr stay (they go to the controller's log); stdin reads /dev/null.
 * close_range(2) does it in one call; without it (old kernels) we walk
 * /proc/self/fd.
 */
#include "worker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

static int
sandbox_close_range(unsigned int first, unsigned int last)
{
#ifdef SYS_close_range
	if (first > last)
		return 0;
	return syscall(SYS_close_range, first, last, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static int
sandbox_close_walk(int keep, char **cause)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd, dfd;
	int		 fds[1024];
	size_t		 n = 0, i;

	/* Collect first: closing while reading the directory skips entries. */
	if ((d = opendir("/proc/self/fd")) == NULL) {
		xasprintf(cause, "/proc/self/fd: %s", strerror(errno));
		return -1;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		if (fd <= 2 || fd == keep || fd == dfd)
			continue;
		if (n == nitems(fds)) {
			closedir(d);
			xasprintf(cause, "too many open files to close");
			return -1;
		}
		fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

int
sandbox_fds(const struct sandbox_params *sp, char **cause)
{
	int	 keep = sp->ipc_fd, fd;

	if (keep <= 2) {
		xasprintf(cause, "IPC fd %d overlaps stdio", keep);
		return -1;
	}
	if (sandbox_close_range(3, keep - 1) == -1 ||
	    sandbox_close_range(keep + 1, ~0U) == -1) {
		if (errno != ENOSYS && errno != EINVAL) {
			xasprintf(cause, "close_range: %s", strerror(errno));
			return -1;
		}
		if (sandbox_close_walk(keep, cause) == -1)
			return -1;
	}
	if ((fd = open("/dev/null", O_RDONLY)) == -1) {
		xasprintf(cause, "/dev/null: %s", strerror(errno));
		return -1;
	}
	if (fd != STDIN_FILENO) {
		if (dup2(fd, STDIN_FILENO) == -1) {
			xasprintf(cause, "dup2 stdin: %s", strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	log_debug("%s: only fds 0-2 and %d open; stdin is /dev/null",
	    __func__, keep);
	return 0;
}
