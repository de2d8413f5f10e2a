/*
 * fuzz-frame.c: libFuzzer target for the controller <-> worker wire
 * protocol.
 *
 * The input is a byte stream as a worker would send it. It goes where the
 * controller sends it: a frame_reader (limit 64 KiB, so that oversize
 * headers are reachable), fed in two pieces split at a point taken from
 * the input itself so that partial frames are exercised too. Every
 * complete frame is read with every accessor on the keys the real
 * messages use, then frame_msg_end(), and every cause is formatted, since
 * it goes to the log. Linked with replay.c instead of libFuzzer, it replays
 * the seed corpus in `make check`.
 */
#include "common.h"

#include "frame.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
	"version", "role", "pid", "worker_id", "ok", "text", "code",
	"artifact", "files", "env", "exports", "errors", "value", NULL
};

/* Consume a cause the way the controller does: format it, free it. */
static void
use_cause(char **cause)
{
	if (*cause != NULL) {
		if (strlen(*cause) == 0)
			abort();
		free(*cause);
		*cause = NULL;
	}
}

static void
read_fields(struct frame_msg *msg)
{
	char *cause = NULL, *s;
	const msgpack_object *o;
	const uint8_t *bin;
	uint64_t u;
	int64_t i;
	size_t len;
	int b;

	(void)frame_type_name(msg->header.type);
	for (size_t k = 0; keys[k] != NULL; k++) {
		int required = (k % 2) == 0;

		(void)frame_get_uint(msg, keys[k], required, &u, &cause);
		use_cause(&cause);
		(void)frame_get_int(msg, keys[k], required, &i, &cause);
		use_cause(&cause);
		(void)frame_get_bool(msg, keys[k], required, &b, &cause);
		use_cause(&cause);
		s = NULL;
		if (frame_get_str(msg, keys[k], required, &s, &cause) == 0 &&
		    s != NULL) {
			if (strlen(s) > msg->header.length)
				abort();
			free(s);
		}
		use_cause(&cause);
		/* Absent optional fields leave the outputs untouched. */
		bin = NULL;
		len = 0;
		if (frame_get_bin(msg, keys[k], required, &bin, &len,
		    &cause) == 0 && len > 0) {
			/* Touch both ends: ASan checks the bounds. */
			volatile uint8_t x = bin[0] ^ bin[len - 1];
			(void)x;
		}
		use_cause(&cause);
		o = NULL;
		if (frame_get_object(msg, keys[k], required,
		    MSGPACK_OBJECT_MAP, &o, &cause) == 0 && o != NULL &&
		    o->via.map.size > 0) {
			if (o->via.map.ptr[0].key.type != MSGPACK_OBJECT_STR)
				abort();
		}
		use_cause(&cause);
		(void)frame_get_object(msg, keys[k], required,
		    MSGPACK_OBJECT_ARRAY, &o, &cause);
		use_cause(&cause);
	}
	(void)frame_msg_end(msg, &cause);
	use_cause(&cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader r;
	struct frame_msg msg;
	char *cause = NULL;
	size_t split;
	int rc;

	split = size > 0 ? data[size - 1] % (size + 1) : 0;
	frame_reader_init(&r, 64 * 1024);
	frame_reader_feed(&r, data, split);
	while ((rc = frame_reader_next(&r, &msg, &cause)) == 1) {
		read_fields(&msg);
		frame_msg_free(&msg);
	}
	use_cause(&cause);
	frame_reader_feed(&r, data + split, size - split);
	while ((rc = frame_reader_next(&r, &msg, &cause)) == 1) {
		read_fields(&msg);
		frame_msg_free(&msg);
	}
	use_cause(&cause);
	frame_msg_free(&msg);
	frame_reader_free(&r);
	return 0;
}
