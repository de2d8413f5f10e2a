/*
 * frame.c: framing, validation and typed access for the controller <->
 * worker wire protocol (PROTOCOL.md is the spec, frame.h the interface).
 *
 * Workers run untrusted code, so everything a worker sends is hostile
 * until proven otherwise. The order of checks matters and is deliberate:
 * the 12-byte header is checked before the body is buffered (an oversized
 * length never costs memory); the body's raw msgpack bytes are then walked
 * by frame_validate(), which checks every declared count and length against
 * the bytes actually left and the nesting depth, BEFORE msgpack-c sees them
 * (msgpack-c allocates arrays from the declared counts before it reads a
 * single element, and recurses on a fixed-size stack). Only after that does
 * msgpack-c unpack, into a zone owned by the message. Because validation
 * walks every element and each element takes at least one byte, a body of
 * N bytes unpacks into at most N msgpack_objects: O(N) memory.
 *
 * Fields are then read with typed getters in the manner of OpenSMTPD's
 * m_get_*()/m_end(): a wrong type, a missing required field or a field that
 * nobody read (frame_msg_end) is a violation, and the caller drops the peer.
 *
 * This file touches nothing but its arguments and the socket it is given.
 */
#include "common.h"

#include "frame.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The reader keeps a buffer this small between frames. */
#define FRAME_READER_KEEP	(64u * 1024)
/* Longest map key quoted in an error message. */
#define FRAME_QUOTE_MAX		64

static const struct {
	uint16_t	 type;
	const char	*name;
} frame_types[] = {
	{ FRAME_HELLO, "HELLO" },
	{ FRAME_READY, "READY" },
	{ FRAME_SPAWN, "SPAWN" },
	{ FRAME_SPAWNED, "SPAWNED" },
	{ FRAME_EXITED, "EXITED" },
	{ FRAME_BUILD, "BUILD" },
	{ FRAME_RUN, "RUN" },
	{ FRAME_ACK, "ACK" },
	{ FRAME_SYSCALL_RESULT, "SYSCALL_RESULT" },
	{ FRAME_SUSPEND, "SUSPEND" },
	{ FRAME_GO, "GO" },
	{ FRAME_BUILT, "BUILT" },
	{ FRAME_PRINT, "PRINT" },
	{ FRAME_DONE, "DONE" },
	{ FRAME_CALL, "CALL" },
	{ FRAME_RESULT, "RESULT" },
	{ FRAME_SYSCALL, "SYSCALL" },
};

/* Set *cause when the caller asked for one. */
static void AK_PRINTFLIKE(2, 3)
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(cause, fmt, ap);
	va_end(ap);
}

/*
 * Quote bytes from the peer for an error message: printable ASCII as is,
 * everything else as \xNN, cut at FRAME_QUOTE_MAX bytes. The result goes
 * into logs, so it must not carry control characters.
 */
static void
quote_bytes(const char *p, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < FRAME_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)p[i];

		if (o + 5 >= size)
			break;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (len > FRAME_QUOTE_MAX && o + 4 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

const char *
frame_type_name(uint16_t type)
{
	for (size_t i = 0; i < nitems(frame_types); i++) {
		if (frame_types[i].type == type)
			return frame_types[i].name;
	}
	return "UNKNOWN";
}

/* ---- header ---- */

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void
frame_header_encode(const struct frame_header *h,
    uint8_t out[FRAME_HEADER_SIZE])
{
	put_be32(out, h->length);
	put_be16(out + 4, h->type);
	put_be16(out + 6, h->flags);
	put_be32(out + 8, h->id);
}

int
frame_header_decode(const uint8_t in[FRAME_HEADER_SIZE], uint32_t limit,
    struct frame_header *h, char **cause)
{
	h->length = get_be32(in);
	h->type = get_be16(in + 4);
	h->flags = get_be16(in + 6);
	h->id = get_be32(in + 8);

	if (h->length == 0) {
		set_cause(cause, "frame length 0 is not allowed (the body is "
		    "at least an empty map)");
		return -1;
	}
	if (h->length > limit) {
		set_cause(cause, "frame length %u exceeds the limit of %u "
		    "bytes", h->length, limit);
		return -1;
	}
	if (h->flags != 0) {
		set_cause(cause, "frame flags 0x%04x are set but reserved "
		    "(must be 0)", h->flags);
		return -1;
	}
	if (strcmp(frame_type_name(h->type), "UNKNOWN") == 0) {
		set_cause(cause, "unknown frame type %u", h->type);
		return -1;
	}
	return 0;
}

/* ---- validation of the raw msgpack bytes ---- */

/* What a lead byte announces. */
enum mp_kind {
	MP_SCALAR,	/* fixed size, nothing follows */
	MP_STR,
	MP_BIN,
	MP_ARRAY,
	MP_MAP,
	MP_EXT,
	MP_NEVER,	/* 0xc1 */
};

struct mp_head {
	enum mp_kind	 kind;
	const char	*name;	/* for messages: "an array", "a string" */
	size_t		 size;	/* bytes of the lead byte + fixed part */
	int		 width;	/* bytes of the length/count field, or 0 */
	uint32_t	 inline_count;	/* fix* formats: count in the lead */
};

/* Classify a lead byte. Covers every msgpack format. */
static void
mp_classify(uint8_t b, struct mp_head *h)
{
	memset(h, 0, sizeof *h);
	h->kind = MP_SCALAR;
	h->size = 1;
	if (b <= 0x7f || b >= 0xe0) {
		h->name = "an integer";
		return;
	}
	if (b <= 0x8f) {
		*h = (struct mp_head){ MP_MAP, "a map", 1, 0, b & 0x0fu };
		return;
	}
	if (b <= 0x9f) {
		*h = (struct mp_head){ MP_ARRAY, "an array", 1, 0, b & 0x0fu };
		return;
	}
	if (b <= 0xbf) {
		*h = (struct mp_head){ MP_STR, "a string", 1, 0, b & 0x1fu };
		return;
	}
	switch (b) {
	case 0xc0:
		h->name = "nil";
		return;
	case 0xc1:
		h->kind = MP_NEVER;
		h->name = "the never-used byte 0xc1";
		return;
	case 0xc2:
	case 0xc3:
		h->name = "a boolean";
		return;
	case 0xc4: case 0xc5: case 0xc6:
		h->kind = MP_BIN;
		h->name = "binary data";
		h->width = 1 << (b - 0xc4);
		break;
	case 0xc7: case 0xc8: case 0xc9:
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		h->kind = MP_EXT;
		h->name = "an ext";
		return;
	case 0xca:
		h->name = "a float";
		h->size = 5;
		return;
	case 0xcb:
		h->name = "a float";
		h->size = 9;
		return;
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		h->name = "an integer";
		h->size = 1 + ((size_t)1 << (b - 0xcc));
		return;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		h->name = "an integer";
		h->size = 1 + ((size_t)1 << (b - 0xd0));
		return;
	case 0xd9: case 0xda: case 0xdb:
		h->kind = MP_STR;
		h->name = "a string";
		h->width = 1 << (b - 0xd9);
		break;
	case 0xdc: case 0xdd:
		h->kind = MP_ARRAY;
		h->name = "an array";
		h->width = 2 << (b - 0xdc);
		break;
	case 0xde: case 0xdf:
		h->kind = MP_MAP;
		h->name = "a map";
		h->width = 2 << (b - 0xde);
		break;
	}
	h->size = 1 + (size_t)h->width;
}

static uint32_t
mp_read_count(const uint8_t *p, int width)
{
	switch (width) {
	case 1:
		return p[0];
	case 2:
		return get_be16(p);
	default:
		return get_be32(p);
	}
}

/*
 * Walk one msgpack object without allocating anything per element: an
 * explicit stack holds, per open container, how many items it still owes
 * (a map owes two per entry; an item is a key when the count left is
 * even). Depth counts containers, the top-level map being depth 1, empty
 * containers included (msgpack-c's own stack counts them too).
 */
int
frame_validate(const uint8_t *body, size_t len, int max_depth, char **cause)
{
	struct level {
		uint64_t	 left;
		int		 is_map;
	} stack[FRAME_MAX_DEPTH], *levels = stack;
	int depth = 0, rc = -1;
	size_t pos = 0;

	if (max_depth < 1) {
		set_cause(cause, "the nesting limit %d is below 1", max_depth);
		return -1;
	}
	if (max_depth > FRAME_MAX_DEPTH)
		levels = xreallocarray(NULL, (size_t)max_depth, sizeof *levels);
	if (len == 0) {
		set_cause(cause, "the body is empty");
		goto out;
	}
	do {
		struct mp_head h;
		size_t left;
		uint32_t n;
		int is_key;

		if (pos == len) {
			set_cause(cause, "the object is truncated: a %s of "
			    "%llu more items ends at the frame end",
			    levels[depth - 1].is_map ? "map" : "array",
			    (unsigned long long)levels[depth - 1].left);
			goto out;
		}
		mp_classify(body[pos], &h);
		is_key = depth > 0 && levels[depth - 1].is_map &&
		    levels[depth - 1].left % 2 == 0;
		if (depth > 0)
			levels[depth - 1].left--;

		if (pos == 0 && h.kind != MP_MAP) {
			set_cause(cause, "the top level is %s, not a map",
			    h.name);
			goto out;
		}
		if (h.kind == MP_NEVER) {
			set_cause(cause, "byte 0xc1 at offset %zu is never "
			    "used in msgpack", pos);
			goto out;
		}
		if (h.kind == MP_EXT) {
			set_cause(cause, "msgpack ext (type byte 0x%02x at "
			    "offset %zu) is not used by this protocol",
			    body[pos], pos);
			goto out;
		}
		if (is_key && h.kind != MP_STR) {
			set_cause(cause, "map key at offset %zu is %s, not a "
			    "string", pos, h.name);
			goto out;
		}
		if (h.size > len - pos) {
			set_cause(cause, "the object is truncated: %s at "
			    "offset %zu needs %zu bytes, %zu left", h.name,
			    pos, h.size, len - pos);
			goto out;
		}
		n = h.width > 0 ? mp_read_count(body + pos + 1, h.width) :
		    h.inline_count;
		left = len - pos - h.size;
		pos += h.size;

		switch (h.kind) {
		case MP_STR:
		case MP_BIN:
			if (n > left) {
				set_cause(cause, "%s of %u bytes declared with "
				    "%zu bytes left", h.kind == MP_STR ?
				    "string" : "binary data", n, left);
				goto out;
			}
			pos += n;
			break;
		case MP_ARRAY:
		case MP_MAP:
			/* Every element takes at least one byte. */
			if (h.kind == MP_ARRAY && n > left) {
				set_cause(cause, "array of %u elements "
				    "declared with %zu bytes left", n, left);
				goto out;
			}
			if (h.kind == MP_MAP && 2 * (uint64_t)n > left) {
				set_cause(cause, "map of %u entries declared "
				    "with %zu bytes left", n, left);
				goto out;
			}
			if (depth >= max_depth) {
				set_cause(cause, "nesting deeper than %d",
				    max_depth);
				goto out;
			}
			if (n > 0) {
				levels[depth].left = h.kind == MP_MAP ?
				    2 * (uint64_t)n : n;
				levels[depth].is_map = h.kind == MP_MAP;
				depth++;
			}
			break;
		default:
			break;
		}
		/* Close every container whose last item this was. */
		while (depth > 0 && levels[depth - 1].left == 0)
			depth--;
	} while (depth > 0);

	if (pos != len) {
		set_cause(cause, "%zu byte%s after the end of the object",
		    len - pos, len - pos == 1 ? "" : "s");
		goto out;
	}
	rc = 0;
out:
	if (levels != stack)
		free(levels);
	return rc;
}

/* ---- unpacked messages ---- */

static int
key_compare(const void *a, const void *b)
{
	const msgpack_object *ka = *(const msgpack_object *const *)a;
	const msgpack_object *kb = *(const msgpack_object *const *)b;
	uint32_t la = ka->via.str.size, lb = kb->via.str.size;
	int c;

	c = memcmp(ka->via.str.ptr, kb->via.str.ptr, la < lb ? la : lb);
	if (c != 0)
		return c;
	return la < lb ? -1 : la > lb;
}

/*
 * Reject duplicate keys in every map (all keys are strings: validated).
 * Sorting keeps this O(n log n) for a map of millions of entries. The
 * recursion is bounded by the validated depth.
 */
static int
check_duplicates(const msgpack_object *o, char **cause)
{
	const msgpack_object **keys;
	char quoted[FRAME_QUOTE_MAX * 4 + 8];
	uint32_t n;
	int rc = 0;

	if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (check_duplicates(&o->via.array.ptr[i], cause) != 0)
				return -1;
		}
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_MAP || (n = o->via.map.size) == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		if (check_duplicates(&o->via.map.ptr[i].val, cause) != 0)
			return -1;
	}
	if (n == 1)
		return 0;
	keys = xreallocarray(NULL, n, sizeof *keys);
	for (uint32_t i = 0; i < n; i++)
		keys[i] = &o->via.map.ptr[i].key;
	qsort(keys, n, sizeof *keys, key_compare);
	for (uint32_t i = 1; i < n; i++) {
		if (key_compare(&keys[i - 1], &keys[i]) == 0) {
			quote_bytes(keys[i]->via.str.ptr, keys[i]->via.str.size,
			    quoted, sizeof quoted);
			set_cause(cause, "duplicate key \"%s\"", quoted);
			rc = -1;
			break;
		}
	}
	free(keys);
	return rc;
}

static void
frame_msg_init(struct frame_msg *msg, const struct frame_header *header)
{
	memset(msg, 0, sizeof *msg);
	if (header != NULL)
		msg->header = *header;
	msgpack_unpacked_init(&msg->unpacked);
	msg->map = NULL;
	msg->used = NULL;
	msg->fd = -1;
}

int
frame_msg_parse(struct frame_msg *msg, const struct frame_header *header,
    const uint8_t *body, size_t len, char **cause)
{
	msgpack_unpack_return ret;
	uint8_t *copy;
	size_t off = 0;

	frame_msg_init(msg, header);
	if (len != header->length) {
		set_cause(cause, "the body is %zu bytes but the header says "
		    "%u", len, header->length);
		return -1;
	}
	if (frame_validate(body, len, FRAME_MAX_DEPTH, cause) != 0)
		return -1;

	/*
	 * msgpack-c's objects point into the buffer they were unpacked
	 * from; the message owns a copy, freed with the zone.
	 */
	copy = xmalloc(len);
	memcpy(copy, body, len);
	ret = msgpack_unpack_next(&msg->unpacked, (const char *)copy, len,
	    &off);
	if (ret != MSGPACK_UNPACK_SUCCESS || off != len) {
		free(copy);
		msgpack_unpacked_destroy(&msg->unpacked);
		msgpack_unpacked_init(&msg->unpacked);
		set_cause(cause, "msgpack could not unpack the body (error "
		    "%d at offset %zu)", (int)ret, off);
		return -1;
	}
	if (!msgpack_zone_push_finalizer(msg->unpacked.zone, free, copy))
		fatalx("%s: out of memory", __func__);
	if (msg->unpacked.data.type != MSGPACK_OBJECT_MAP) {
		/* frame_validate already checked this; belt and braces. */
		set_cause(cause, "the top level is not a map");
		frame_msg_free(msg);
		return -1;
	}
	if (check_duplicates(&msg->unpacked.data, cause) != 0) {
		frame_msg_free(msg);
		return -1;
	}
	msg->map = &msg->unpacked.data.via.map;
	msg->used = xcalloc(msg->map->size > 0 ? msg->map->size : 1, 1);
	return 0;
}

/*
 * Frees what the message owns. The fd (msg->fd) is NOT closed here: it is
 * the caller's, who set it from frame_recv_fd() and knows whether it was
 * handed on.
 */
void
frame_msg_free(struct frame_msg *msg)
{
	msgpack_unpacked_destroy(&msg->unpacked);
	msgpack_unpacked_init(&msg->unpacked);
	free(msg->used);
	msg->used = NULL;
	msg->map = NULL;
}

/* ---- typed accessors ---- */

/*
 * Find key and mark it read. 1 found (*out set), 0 absent and optional,
 * -1 absent and required.
 */
static int
frame_find(struct frame_msg *msg, const char *key, int required,
    const msgpack_object **out, char **cause)
{
	size_t klen = strlen(key);

	if (msg->map != NULL) {
		for (uint32_t i = 0; i < msg->map->size; i++) {
			const msgpack_object *k = &msg->map->ptr[i].key;

			if (k->type != MSGPACK_OBJECT_STR ||
			    k->via.str.size != klen ||
			    memcmp(k->via.str.ptr, key, klen) != 0)
				continue;
			msg->used[i] = 1;
			*out = &msg->map->ptr[i].val;
			return 1;
		}
	}
	if (!required)
		return 0;
	set_cause(cause, "%s message is missing the field \"%s\"",
	    frame_type_name(msg->header.type), key);
	return -1;
}

int
frame_get_uint(struct frame_msg *msg, const char *key, int required,
    uint64_t *out, char **cause)
{
	const msgpack_object *o;
	int r;

	if ((r = frame_find(msg, key, required, &o, cause)) <= 0)
		return r;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		set_cause(cause, "field \"%s\" must be an unsigned integer",
		    key);
		return -1;
	}
	*out = o->via.u64;
	return 0;
}

int
frame_get_int(struct frame_msg *msg, const char *key, int required,
    int64_t *out, char **cause)
{
	const msgpack_object *o;
	int r;

	if ((r = frame_find(msg, key, required, &o, cause)) <= 0)
		return r;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		set_cause(cause, "field \"%s\" must be an integer", key);
		return -1;
	}
	if (o->via.u64 > INT64_MAX) {
		set_cause(cause, "field \"%s\" is %llu, out of range for a "
		    "signed 64-bit integer", key,
		    (unsigned long long)o->via.u64);
		return -1;
	}
	*out = (int64_t)o->via.u64;
	return 0;
}

int
frame_get_bool(struct frame_msg *msg, const char *key, int required,
    int *out, char **cause)
{
	const msgpack_object *o;
	int r;

	if ((r = frame_find(msg, key, required, &o, cause)) <= 0)
		return r;
	if (o->type != MSGPACK_OBJECT_BOOLEAN) {
		set_cause(cause, "field \"%s\" must be a boolean", key);
		return -1;
	}
	*out = o->via.boolean ? 1 : 0;
	return 0;
}

int
frame_get_str(struct frame_msg *msg, const char *key, int required,
    char **out, char **cause)
{
	const msgpack_object *o;
	char *s;
	int r;

	if ((r = frame_find(msg, key, required, &o, cause)) <= 0)
		return r;
	if (o->type != MSGPACK_OBJECT_STR) {
		set_cause(cause, "field \"%s\" must be a string", key);
		return -1;
	}
	if (memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL) {
		set_cause(cause, "field \"%s\" contains a NUL byte", key);
		return -1;
	}
	s = xmalloc((size_t)o->via.str.size + 1);
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = '\0';
	*out = s;
	return 0;
}

int
frame_get_bin(struct frame_msg *msg, const char *key, int required,
    const uint8_t **out, size_t *len, char **cause)
{
	const msgpack_object *o;
	int r;

	if ((r = frame_find(msg, key, required, &o, cause)) <= 0)
		return r;
	if (o->type != MSGPACK_OBJECT_BIN) {
		set_cause(cause, "field \"%s\" must be binary data", key);
		return -1;
	}
	*out = (const uint8_t *)o->via.bin.ptr;
	*len = o->via.bin.size;
	return 0;
}

static const char *
object_type_name(msgpack_object_type type)
{
	switch (type) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return "an unsigned integer";
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return "a negative integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return "a float";
	case MSGPACK_OBJECT_STR:
		return "a string";
	case MSGPACK_OBJECT_ARRAY:
		return "an array";
	case MSGPACK_OBJECT_MAP:
		return "a map";
	case MSGPACK_OBJECT_BIN:
		return "binary data";
	case MSGPACK_OBJECT_EXT:
		return "an ext";
	}
	return "an unknown type";
}

int
frame_get_object(struct frame_msg *msg, const char *key, int required,
    msgpack_object_type type, const msgpack_object **out, char **cause)
{
	const msgpack_object *o;
	int r;

	if ((r = frame_find(msg, key, required, &o, cause)) <= 0)
		return r;
	if (o->type != type &&
	    !(type == MSGPACK_OBJECT_FLOAT64 &&
	    o->type == MSGPACK_OBJECT_FLOAT32)) {
		set_cause(cause, "field \"%s\" must be %s", key,
		    object_type_name(type));
		return -1;
	}
	*out = o;
	return 0;
}

int
frame_msg_end(struct frame_msg *msg, char **cause)
{
	char quoted[FRAME_QUOTE_MAX * 4 + 8];

	if (msg->map == NULL)
		return 0;
	for (uint32_t i = 0; i < msg->map->size; i++) {
		const msgpack_object *k = &msg->map->ptr[i].key;

		if (msg->used[i])
			continue;
		quote_bytes(k->via.str.ptr, k->via.str.size, quoted,
		    sizeof quoted);
		set_cause(cause, "unexpected field \"%s\" in %s message",
		    quoted, frame_type_name(msg->header.type));
		return -1;
	}
	return 0;
}

/* ---- building frames ---- */

/* Like msgpack_sbuffer_write, but never fails: we are xmalloc people. */
static int
frame_sbuffer_write(void *data, const char *buf, size_t len)
{
	msgpack_sbuffer *sbuf = data;

	if (len > sbuf->alloc - sbuf->size) {
		size_t want = sbuf->alloc > 0 ? sbuf->alloc : 256;

		while (want - sbuf->size < len) {
			if (want > SIZE_MAX / 2)
				fatalx("%s: frame too large", __func__);
			want *= 2;
		}
		sbuf->data = xreallocarray(sbuf->data, want, 1);
		sbuf->alloc = want;
	}
	memcpy(sbuf->data + sbuf->size, buf, len);
	sbuf->size += len;
	return 0;
}

void
frame_begin(struct frame_builder *fb, uint16_t type, uint32_t id,
    uint32_t nfields)
{
	static const char zero[FRAME_HEADER_SIZE];

	msgpack_sbuffer_init(&fb->sbuf);
	msgpack_packer_init(&fb->pk, &fb->sbuf, frame_sbuffer_write);
	fb->type = type;
	fb->id = id;
	frame_sbuffer_write(&fb->sbuf, zero, sizeof zero);
	msgpack_pack_map(&fb->pk, nfields);
}

void
frame_pack_key(struct frame_builder *fb, const char *key)
{
	size_t len = strlen(key);

	msgpack_pack_str(&fb->pk, len);
	msgpack_pack_str_body(&fb->pk, key, len);
}

void
frame_pack_str(struct frame_builder *fb, const char *key, const char *value)
{
	frame_pack_strn(fb, key, value, strlen(value));
}

void
frame_pack_strn(struct frame_builder *fb, const char *key, const char *value,
    size_t len)
{
	frame_pack_key(fb, key);
	msgpack_pack_str(&fb->pk, len);
	msgpack_pack_str_body(&fb->pk, value, len);
}

void
frame_pack_bin(struct frame_builder *fb, const char *key, const void *value,
    size_t len)
{
	frame_pack_key(fb, key);
	msgpack_pack_bin(&fb->pk, len);
	msgpack_pack_bin_body(&fb->pk, value, len);
}

void
frame_pack_uint(struct frame_builder *fb, const char *key, uint64_t value)
{
	frame_pack_key(fb, key);
	msgpack_pack_uint64(&fb->pk, value);
}

void
frame_pack_int(struct frame_builder *fb, const char *key, int64_t value)
{
	frame_pack_key(fb, key);
	msgpack_pack_int64(&fb->pk, value);
}

void
frame_pack_bool(struct frame_builder *fb, const char *key, int value)
{
	frame_pack_key(fb, key);
	if (value)
		msgpack_pack_true(&fb->pk);
	else
		msgpack_pack_false(&fb->pk);
}

/*
 * The sender does not check the peer's limit: it is the caller's to know
 * (a BUILD with too much source must be refused before it is packed).
 */
const uint8_t *
frame_finish(struct frame_builder *fb, size_t *len)
{
	struct frame_header h;
	size_t body = fb->sbuf.size - FRAME_HEADER_SIZE;

	if (body > UINT32_MAX)
		fatalx("%s: %s frame of %zu bytes", __func__,
		    frame_type_name(fb->type), body);
	h.length = (uint32_t)body;
	h.type = fb->type;
	h.flags = 0;
	h.id = fb->id;
	frame_header_encode(&h, (uint8_t *)fb->sbuf.data);
	*len = fb->sbuf.size;
	return (const uint8_t *)fb->sbuf.data;
}

void
frame_builder_free(struct frame_builder *fb)
{
	msgpack_sbuffer_destroy(&fb->sbuf);
	memset(&fb->sbuf, 0, sizeof fb->sbuf);
}

/* ---- stream reader ---- */

void
frame_reader_init(struct frame_reader *r, uint32_t limit)
{
	memset(r, 0, sizeof *r);
	r->limit = limit;
}

void
frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
}

/*
 * Append bytes. Nothing is buffered after a failure, nor past a header
 * that is already known to be bad (frame_reader_next reports it), so a
 * hostile peer cannot make the reader hold more than one frame's worth
 * plus what the caller feeds between two calls to frame_reader_next.
 *
 * Consumed frames are dropped lazily: frame_reader_next only advances
 * r->off, and the unconsumed tail moves to the front here, when room is
 * needed. Moving it after every frame instead would make a read full of
 * tiny frames cost O(n^2).
 */
void
frame_reader_feed(struct frame_reader *r, const void *data, size_t len)
{
	struct frame_header h;

	if (r->failed || len == 0)
		return;
	if (r->len - r->off >= FRAME_HEADER_SIZE &&
	    frame_header_decode(r->buf + r->off, r->limit, &h, NULL) != 0)
		return;
	if (len > r->cap - r->len && r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (len > r->cap - r->len) {
		size_t want = r->cap > 0 ? r->cap : 4096;

		while (want - r->len < len) {
			if (want > SIZE_MAX / 2)
				fatalx("%s: buffer too large", __func__);
			want *= 2;
		}
		r->buf = xreallocarray(r->buf, want, 1);
		r->cap = want;
	}
	memcpy(r->buf + r->len, data, len);
	r->len += len;
}

int
frame_reader_next(struct frame_reader *r, struct frame_msg *msg,
    char **cause)
{
	struct frame_header h;
	const uint8_t *start;
	size_t avail = r->len - r->off, total;

	frame_msg_init(msg, NULL);
	if (r->failed) {
		set_cause(cause, "the stream already failed on an earlier "
		    "frame");
		return -1;
	}
	if (avail < FRAME_HEADER_SIZE)
		return 0;
	start = r->buf + r->off;	/* not before: buf is NULL until fed */
	if (frame_header_decode(start, r->limit, &h, cause) != 0) {
		r->failed = 1;
		return -1;
	}
	total = FRAME_HEADER_SIZE + (size_t)h.length;
	if (avail < total)
		return 0;
	if (frame_msg_parse(msg, &h, start + FRAME_HEADER_SIZE, h.length,
	    cause) != 0) {
		r->failed = 1;
		return -1;
	}
	r->off += total;
	if (r->off == r->len) {
		r->off = r->len = 0;
		if (r->cap > FRAME_READER_KEEP) {
			/* No 16 MiB buffer per peer after one big frame. */
			free(r->buf);
			r->buf = NULL;
			r->cap = 0;
		}
	}
	return 1;
}

/* ---- blocking socket helpers ---- */

/* Wait until sock is writable, for a socket someone made non-blocking. */
static int
wait_writable(int sock)
{
	struct pollfd pfd = { .fd = sock, .events = POLLOUT };

	for (;;) {
		if (poll(&pfd, 1, -1) >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/*
 * Send the whole frame. The fd rides on the first sendmsg that writes
 * anything (with a stream socket it is attached to those bytes); retries
 * after EINTR or EAGAIN carry it again because nothing was sent. 0 or -1
 * with errno.
 */
int
frame_send_fd(int sock, const uint8_t *frame, size_t len, int fd_to_pass)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	size_t off = 0;
	int pass = fd_to_pass >= 0;

	if (pass && len == 0) {
		errno = EINVAL;
		return -1;
	}
	while (off < len) {
		struct iovec iov = {
			.iov_base = (void *)(frame + off),
			.iov_len = len - off,
		};
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (pass) {
			struct cmsghdr *cm;

			memset(&cmsgbuf, 0, sizeof cmsgbuf);
			mh.msg_control = cmsgbuf.buf;
			mh.msg_controllen = sizeof cmsgbuf.buf;
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd_to_pass, sizeof(int));
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait_writable(sock) != 0)
					return -1;
				continue;
			}
			return -1;
		}
		pass = 0;
		off += (size_t)n;
	}
	return 0;
}

/*
 * One recvmsg: bytes into buf, and at most one fd into *fd_received (-1
 * when none came). Extra fds are closed: the protocol passes one fd per
 * frame. A truncated control message (MSG_CTRUNC: the kernel dropped fds)
 * is an error with errno EPROTO, after closing what did arrive. Returns
 * bytes read, 0 on EOF, -1 with errno; EINTR is retried.
 */
ssize_t
frame_recv_fd(int sock, void *buf, size_t len, int *fd_received)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 8)];
	} cmsgbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	int fd = -1, truncated;

	*fd_received = -1;
	for (;;) {
		memset(&mh, 0, sizeof mh);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = sizeof cmsgbuf.buf;
		if ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) != -1)
			break;
		if (errno != EINTR)
			return -1;
	}
	truncated = (mh.msg_flags & MSG_CTRUNC) != 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t nfds;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int got;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof got);
			if (fd == -1 && !truncated)
				fd = got;
			else {
				log_warning("%s: closing extra fd %d passed "
				    "with a frame", __func__, got);
				close(got);
			}
		}
	}
	if (truncated) {
		log_warning("%s: control message truncated (too many fds)",
		    __func__);
		errno = EPROTO;
		return -1;
	}
	*fd_received = fd;
	return n;
}
