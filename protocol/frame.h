/*
 * frame.h: the controller <-> worker wire protocol (see PROTOCOL.md).
 *
 * A frame is a 12-byte header in network byte order,
 *	uint32 length	bytes of body that follow (0 < length <= limit)
 *	uint16 type	FRAME_* below
 *	uint16 flags	0 (reserved; nonzero is a violation)
 *	uint32 id	request id, echoed in replies (0 when unused)
 * then exactly one msgpack object, always a map with string keys. The
 * reader rejects an oversized length before reading the body, checks every
 * container count and str/bin length against the bytes left and the
 * nesting depth BEFORE msgpack-c unpacks (msgpack-c allocates from declared
 * counts), and requires the object to end exactly at the frame end. Fields
 * are read through typed accessors that fail on a wrong type, a missing
 * required field, or (frame_msg_end) a field nobody read.
 *
 * Bump FRAME_VERSION whenever a message or field changes.
 */
#ifndef AK_FRAME_H
#define AK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define FRAME_VERSION		5
#define FRAME_HEADER_SIZE	12
#define FRAME_MAX_DEPTH		32
#define FRAME_DEFAULT_LIMIT	(16u * 1024 * 1024)

enum frame_type {
	/* both directions */
	FRAME_HELLO = 1,	/* {version, role: "zygote"|"worker", pid} */
	FRAME_READY = 2,	/* {} */
	/* controller -> zygote */
	FRAME_SPAWN = 10,	/* {worker_id, uid, gid, tmpdir, rlimits...}; carries one fd */
	/* zygote -> controller */
	FRAME_SPAWNED = 11,	/* {worker_id, pid} */
	FRAME_EXITED = 12,	/* {pid, status, signal, core} */
	/* controller -> worker */
	FRAME_BUILD = 20,	/* {files: {path: bin}} */
	FRAME_RUN = 21,		/* {session_id, artifact: bin, entrypoint, event, env,
				    durable?, max_result_size?, history?, go?} */
	FRAME_ACK = 22,		/* {seq}: RESULT seq is committed */
	FRAME_SYSCALL_RESULT = 23, /* {seq, result: JSON text} */
	FRAME_SUSPEND = 24,	/* {seq}: exit now, resumed later by replay */
	FRAME_GO = 25,		/* {}: RUN's session is committed; run its code */
	/* worker -> controller */
	FRAME_BUILT = 30,	/* {ok, artifact: bin, exports: [...], errors: [...]} */
	FRAME_PRINT = 31,	/* {text} */
	FRAME_DONE = 32,	/* {ok, value_json?, error?, traceback?} */
	FRAME_CALL = 33,	/* {seq, name, args}: an activity starts */
	FRAME_RESULT = 34,	/* {seq, name, summary, value: bin | error: bin} */
	FRAME_SYSCALL = 35,	/* {seq, name, args: JSON text} */
};

const char *frame_type_name(uint16_t type);

/*
 * SPAWN's `sandbox` field (version 4): which optional mechanisms the
 * controller found working on this host (src/sandbox-probe.c) and asks the
 * worker to apply. A worker that cannot apply a requested one exits before
 * running user code; one not requested is skipped.
 */
#define FRAME_SANDBOX_USERNS	0x0001u	/* user namespace */
#define FRAME_SANDBOX_PIDNS	0x0002u	/* PID namespace and a private /proc */
#define FRAME_SANDBOX_MOUNTNS	0x0004u	/* mount namespace, sensitive dirs hidden */
#define FRAME_SANDBOX_IPCNS	0x0008u	/* IPC namespace */
#define FRAME_SANDBOX_UTSNS	0x0010u	/* UTS namespace (own hostname) */
#define FRAME_SANDBOX_NETNS	0x0020u	/* network namespace, loopback only */
#define FRAME_SANDBOX_TMPFS	0x0040u	/* the temp dir is a size-limited tmpfs */
#define FRAME_SANDBOX_LANDLOCK	0x0080u	/* Landlock file system rules */
#define FRAME_SANDBOX_SECCOMP	0x0100u	/* the seccomp filter */

struct frame_header {
	uint32_t	length;
	uint16_t	type;
	uint16_t	flags;
	uint32_t	id;
};

/* Encode/decode the fixed header. decode returns -1 with *cause on a bad
 * header (length 0 or over limit, nonzero flags, unknown type). */
void frame_header_encode(const struct frame_header *, uint8_t out[FRAME_HEADER_SIZE]);
int frame_header_decode(const uint8_t in[FRAME_HEADER_SIZE], uint32_t limit,
    struct frame_header *, char **cause);

/*
 * Pre-validate one msgpack object occupying exactly len bytes: every
 * declared count/length fits in the bytes left, depth <= max_depth, no
 * trailing bytes, the top level is a map. 0 or -1 with *cause.
 */
int frame_validate(const uint8_t *body, size_t len, int max_depth,
    char **cause);

/*
 * A received message: the unpacked map, with a "used" mark per key so that
 * frame_msg_end() can reject fields nobody read.
 */
struct frame_msg {
	struct frame_header	 header;
	msgpack_unpacked	 unpacked;
	const msgpack_object_map *map;
	uint8_t			*used;		/* one per map entry */
	int			 fd;		/* received with the frame, or -1 */
};

/* Validate + unpack body (after frame_header_decode). 0 or -1 w/ *cause. */
int frame_msg_parse(struct frame_msg *, const struct frame_header *,
    const uint8_t *body, size_t len, char **cause);
void frame_msg_free(struct frame_msg *);

/*
 * Typed accessors. "required" variants fail when absent; optional ones
 * return 0 and leave the output untouched when absent. All fail (-1, with
 * *cause naming the field and the expected type) on a wrong type. Strings
 * and bins point into the message (valid until frame_msg_free); str
 * accessors reject embedded NULs and copy into a NUL-terminated buffer
 * allocated with xmalloc (caller frees).
 */
int frame_get_uint(struct frame_msg *, const char *key, int required,
    uint64_t *out, char **cause);
int frame_get_int(struct frame_msg *, const char *key, int required,
    int64_t *out, char **cause);
int frame_get_bool(struct frame_msg *, const char *key, int required,
    int *out, char **cause);
int frame_get_str(struct frame_msg *, const char *key, int required,
    char **out, char **cause);
int frame_get_bin(struct frame_msg *, const char *key, int required,
    const uint8_t **out, size_t *len, char **cause);
/* A nested container, for callers that walk it themselves. */
int frame_get_object(struct frame_msg *, const char *key, int required,
    msgpack_object_type type, const msgpack_object **out, char **cause);
/* -1 with *cause if any field was never read. */
int frame_msg_end(struct frame_msg *, char **cause);

/*
 * Building a frame: frame_begin() starts a map of n entries in a
 * msgpack_sbuffer (after a reserved header), the caller packs n key/value
 * pairs with the frame_pack_* helpers or msgpack_pack_* directly, and
 * frame_finish() writes the header and returns the whole frame.
 */
struct frame_builder {
	msgpack_sbuffer		 sbuf;
	msgpack_packer		 pk;
	uint16_t		 type;
	uint32_t		 id;
};
void frame_begin(struct frame_builder *, uint16_t type, uint32_t id,
    uint32_t nfields);
void frame_pack_key(struct frame_builder *, const char *key);
void frame_pack_str(struct frame_builder *, const char *key, const char *value);
void frame_pack_strn(struct frame_builder *, const char *key, const char *value,
    size_t len);
void frame_pack_bin(struct frame_builder *, const char *key, const void *value,
    size_t len);
void frame_pack_uint(struct frame_builder *, const char *key, uint64_t value);
void frame_pack_int(struct frame_builder *, const char *key, int64_t value);
void frame_pack_bool(struct frame_builder *, const char *key, int value);
/* The complete frame (header + body); valid until frame_builder_free. */
const uint8_t *frame_finish(struct frame_builder *, size_t *len);
void frame_builder_free(struct frame_builder *);

/*
 * Incremental reader for a stream: feed bytes as they arrive; complete
 * frames come out one at a time. Handles two frames in one read and one
 * frame over many reads. Any violation is sticky: once frame_reader_next
 * returns -1 the peer must be dropped.
 */
struct frame_reader {
	uint32_t	 limit;
	uint8_t		*buf;
	size_t		 len, cap;
	int		 failed;
	size_t		 off;		/* buf[off..len) not yet consumed */
};
void frame_reader_init(struct frame_reader *, uint32_t limit);
void frame_reader_free(struct frame_reader *);
/* Append received bytes. */
void frame_reader_feed(struct frame_reader *, const void *data, size_t len);
/* 1 and *msg filled (caller frees with frame_msg_free), 0 need more bytes,
 * -1 violation with *cause. Checks the header as soon as 12 bytes are in,
 * before waiting for (or buffering) the body. */
int frame_reader_next(struct frame_reader *, struct frame_msg *msg,
    char **cause);

/* Blocking helpers for the worker side (fd 3): send a whole frame,
 * optionally with one fd (SCM_RIGHTS); receive bytes and at most one fd. */
int frame_send_fd(int sock, const uint8_t *frame, size_t len, int fd_to_pass);
ssize_t frame_recv_fd(int sock, void *buf, size_t len, int *fd_received);

#endif
