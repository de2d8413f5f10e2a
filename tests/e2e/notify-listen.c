/*
 * notify-listen.c: a fake systemd NOTIFY_SOCKET for the end-to-end tests.
 *
 * usage: notify-listen SOCKET_PATH OUTPUT_FILE
 *
 * Binds an AF_UNIX datagram socket at SOCKET_PATH and appends every
 * datagram it receives to OUTPUT_FILE, followed by a line "--", flushing
 * after each so that a test can poll the file for READY=1. Runs until
 * SIGTERM or SIGINT, then removes the socket. The socket is bound before
 * the output file is first written, so a test that waits for the file to
 * exist knows the socket is ready.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct sigaction sa;
	char buf[65536];
	ssize_t n;
	FILE *out;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: notify-listen SOCKET_PATH OUTPUT_FILE\n");
		return 64;
	}
	if (strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "notify-listen: socket path too long: %s\n",
		    argv[1]);
		return 64;
	}

	/* No SA_RESTART: recv must return EINTR so that we notice stop. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "notify-listen: socket: %s\n", strerror(errno));
		return 1;
	}
	unlink(argv[1]);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		fprintf(stderr, "notify-listen: bind %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	if ((out = fopen(argv[2], "a")) == NULL) {
		fprintf(stderr, "notify-listen: %s: %s\n", argv[2],
		    strerror(errno));
		unlink(argv[1]);
		return 1;
	}
	fflush(out);

	while (!stop) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "notify-listen: recv: %s\n",
			    strerror(errno));
			break;
		}
		fwrite(buf, 1, (size_t)n, out);
		if (n == 0 || buf[n - 1] != '\n')
			fputc('\n', out);
		fputs("--\n", out);
		fflush(out);
	}
	fclose(out);
	close(fd);
	unlink(argv[1]);
	return 0;
}
