/*
 * worker.h: autokitteh-worker, the sandboxed Python session worker.
 *
 * One binary, two roles. The controller fork+execs it once as the zygote
 * (`autokitteh-worker --zygote`, IPC socket on fd 3): it initialises
 * embedded CPython, imports the SDK and the runner, and then forks one
 * child per SPAWN request. Each child applies the sandbox (sandbox.h),
 * says HELLO and READY on its own socket, runs exactly one job (BUILD or
 * RUN) and exits. Nothing here ever talks to anything but the controller.
 */
#ifndef AK_WORKER_H
#define AK_WORKER_H

#include "common.h"

#include <sys/types.h>

#include "frame.h"

/* The IPC socket is always this fd, in the zygote and in every child. */
#define WORKER_IPC_FD	3

struct frame_msg;

/* worker.c: blocking frame I/O on fd 3, shared by the zygote and children. */
struct worker_conn {
	int			 fd;
	struct frame_reader	 reader;
	int			 passed_fd;	/* received, not yet claimed */
};
void worker_conn_init(struct worker_conn *, int fd);
void worker_conn_free(struct worker_conn *);
/* One read: >0 bytes fed to the reader, 0 EOF, -1 error (*cause). */
int worker_conn_read(struct worker_conn *, char **cause);
/* Next buffered message: 1, 0 need more bytes, -1 violation (*cause). A
 * passed fd is attached to a SPAWN (msg->fd) and refused with any other. */
int worker_conn_next(struct worker_conn *, struct frame_msg *, char **cause);
/* Blocking: 1 message, 0 EOF, -1 error or violation (*cause). */
int worker_conn_recv(struct worker_conn *, struct frame_msg *, char **cause);
/* Send a finished builder and free it; fatal on a write error. */
void worker_send(int fd, struct frame_builder *);
void worker_send_hello(int fd, const char *role);
void worker_send_ready(int fd);

/* worker-zygote.c */
AK_NORETURN void zygote_main(const char *pythonpath);

/* worker-python.c */
int python_init(const char *pythonpath, char **cause);
void python_before_fork(void);
void python_after_fork_parent(void);
void python_after_fork_child(void);
int python_call_quietly(const char *name);
void python_warm(void);
/* Run one job message in a sandboxed child; sends BUILT or DONE. */
int python_build(int fd, struct frame_msg *, const char *tmpdir, char **cause);
/* RUN may block reading conn for ACK/SYSCALL_RESULT/SUSPEND (durable). */
int python_run(struct worker_conn *, struct frame_msg *, const char *tmpdir,
    char **cause);

#endif
