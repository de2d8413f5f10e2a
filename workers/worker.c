/*
 * worker.c: autokitteh-worker's entry point and its blocking frame I/O.
 *
 * The only supported invocation is `autokitteh-worker --zygote [-v...]`
 * by the controller, with the IPC socket on fd 3. The frame helpers here
 * are shared by the zygote (which polls) and the session workers (which
 * block: they have nothing else to do). A peer that breaks the protocol is
 * never argued with: the caller logs the cause and exits.
 */
#include "worker.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/autokitteh"
#endif

void
worker_conn_init(struct worker_conn *c, int fd)
{
	c->fd = fd;
	c->passed_fd = -1;
	frame_reader_init(&c->reader, FRAME_DEFAULT_LIMIT);
}

void
worker_conn_free(struct worker_conn *c)
{
	if (c->passed_fd != -1)
		close(c->passed_fd);
	c->passed_fd = -1;
	frame_reader_free(&c->reader);
}

int
worker_conn_read(struct worker_conn *c, char **cause)
{
	uint8_t	 buf[65536];
	ssize_t	 n;
	int	 passed = -1;

	do
		n = frame_recv_fd(c->fd, buf, sizeof buf, &passed);
	while (n == -1 && errno == EINTR);
	if (passed != -1) {
		if (c->passed_fd != -1) {
			close(passed);
			xasprintf(cause, "two fds passed for one message");
			return -1;
		}
		c->passed_fd = passed;
	}
	if (n == -1) {
		xasprintf(cause, "read: %s", strerror(errno));
		return -1;
	}
	if (n > 0)
		frame_reader_feed(&c->reader, buf, (size_t)n);
	return (int)(n > 0);
}

int
worker_conn_next(struct worker_conn *c, struct frame_msg *msg, char **cause)
{
	int	 rc;

	if ((rc = frame_reader_next(&c->reader, msg, cause)) != 1)
		return rc;
	msg->fd = -1;
	if (c->passed_fd == -1)
		return 1;
	if (msg->header.type != FRAME_SPAWN) {
		xasprintf(cause, "an fd came with %s",
		    frame_type_name(msg->header.type));
		frame_msg_free(msg);
		return -1;
	}
	msg->fd = c->passed_fd;
	c->passed_fd = -1;
	return 1;
}

int
worker_conn_recv(struct worker_conn *c, struct frame_msg *msg, char **cause)
{
	int	 rc;

	for (;;) {
		if ((rc = worker_conn_next(c, msg, cause)) != 0)
			return rc;
		if ((rc = worker_conn_read(c, cause)) <= 0)
			return rc;
	}
}

void
worker_send(int fd, struct frame_builder *fb)
{
	const uint8_t	*frame;
	size_t		 len;
	int		 rc;

	frame = frame_finish(fb, &len);
	rc = frame_send_fd(fd, frame, len, -1);
	frame_builder_free(fb);
	if (rc != 0) {
		/* The controller is gone (or broken): nobody to serve. */
		log_debug("%s: send failed: %s; exiting", __func__,
		    strerror(errno));
		_exit(1);
	}
}

void
worker_send_hello(int fd, const char *role)
{
	struct frame_builder	 fb;

	frame_begin(&fb, FRAME_HELLO, 0, 3);
	frame_pack_uint(&fb, "version", FRAME_VERSION);
	frame_pack_str(&fb, "role", role);
	frame_pack_uint(&fb, "pid", (uint64_t)getpid());
	worker_send(fd, &fb);
}

void
worker_send_ready(int fd)
{
	struct frame_builder	 fb;

	frame_begin(&fb, FRAME_READY, 0, 0);
	worker_send(fd, &fb);
}

static AK_NORETURN void
usage(void)
{
	fprintf(stderr, "usage: autokitteh-worker --zygote [-v]\n"
	    "This program is started by autokittehd; it is not run by hand.\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "zygote", no_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	enum log_level	 level = LOG_LEVEL_INFO;
	const char	*pythonpath;
	int		 ch, zygote = 0;

	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'z':
			zygote = 1;
			break;
		case 'v':
			if (level < LOG_LEVEL_DEBUG)
				level++;
			break;
		default:
			usage();
		}
	}
	if (!zygote || optind != argc)
		usage();
	log_open("autokitteh-worker", 1, level);

	/* Writes to a dead controller must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	pythonpath = getenv("AUTOKITTEH_PYTHONPATH");
	if (pythonpath == NULL || *pythonpath == '\0')
		pythonpath = PKGDATADIR "/python";
	zygote_main(pythonpath);
}
