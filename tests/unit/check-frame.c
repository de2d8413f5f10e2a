/*
 * check-frame.c: unit tests for protocol/frame.c, the controller <-> worker
 * wire protocol.
 *
 * Every message in PROTOCOL.md is built with the frame_* builder and read
 * back with the typed accessors; the stream reader is fed valid frames cut
 * at every offset; and each rule of the validator (limits, count bombs,
 * depth, trailing bytes, key rules, ext, 0xc1) has a malformed input that
 * must be rejected with a sentence naming the violation, both through
 * frame_msg_parse() and through the reader. fd passing runs over a real
 * socketpair.
 */
#include "common.h"

#include "frame.h"

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---- */

/* Header + body into a new buffer (caller frees). */
static uint8_t *
raw_frame(uint16_t type, uint16_t flags, const uint8_t *body, size_t len,
    size_t *out_len)
{
	struct frame_header h = {
		.length = (uint32_t)len, .type = type, .flags = flags, .id = 7
	};
	uint8_t *f = xmalloc(FRAME_HEADER_SIZE + len);

	frame_header_encode(&h, f);
	if (len > 0)
		memcpy(f + FRAME_HEADER_SIZE, body, len);
	*out_len = FRAME_HEADER_SIZE + len;
	return f;
}

static int
parse_body(const uint8_t *body, size_t len, struct frame_msg *msg,
    char **cause)
{
	struct frame_header h = {
		.length = (uint32_t)len, .type = FRAME_HELLO
	};

	return frame_msg_parse(msg, &h, body, len, cause);
}

static void
assert_cause(const char *cause, const char *want)
{
	ck_assert_msg(cause != NULL, "no cause, wanted \"%s\"", want);
	ck_assert_msg(strstr(cause, want) != NULL,
	    "cause \"%s\" does not contain \"%s\"", cause, want);
}

/*
 * The body must be rejected with a cause containing want, both by
 * frame_msg_parse and by a reader fed the whole frame.
 */
static void
reject_body(const uint8_t *body, size_t len, const char *want)
{
	struct frame_reader r;
	struct frame_msg msg;
	char *cause = NULL;
	uint8_t *f;
	size_t flen;

	ck_assert_int_eq(parse_body(body, len, &msg, &cause), -1);
	assert_cause(cause, want);
	free(cause);
	cause = NULL;
	frame_msg_free(&msg);

	f = raw_frame(FRAME_PRINT, 0, body, len, &flen);
	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	frame_reader_feed(&r, f, flen);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), -1);
	assert_cause(cause, want);
	free(cause);
	frame_msg_free(&msg);
	frame_reader_free(&r);
	free(f);
}
#define REJECT(b, want) reject_body((b), sizeof (b), (want))

/* The body parses; the caller frees msg. */
static void
accept_body(const uint8_t *body, size_t len, struct frame_msg *msg)
{
	char *cause = NULL;

	ck_assert_msg(parse_body(body, len, msg, &cause) == 0,
	    "rejected: %s", cause);
}

/* Finish fb, push the frame through a reader, expect exactly one message. */
static void
round_trip(struct frame_builder *fb, struct frame_msg *msg)
{
	struct frame_reader r;
	struct frame_msg extra;
	const uint8_t *f;
	char *cause = NULL;
	size_t len;

	f = frame_finish(fb, &len);
	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	frame_reader_feed(&r, f, len);
	ck_assert_msg(frame_reader_next(&r, msg, &cause) == 1, "%s", cause);
	ck_assert_int_eq(frame_reader_next(&r, &extra, &cause), 0);
	ck_assert_uint_eq(msg->header.type, fb->type);
	ck_assert_uint_eq(msg->header.id, fb->id);
	ck_assert_int_eq(msg->fd, -1);
	frame_reader_free(&r);
	frame_builder_free(fb);
}

static void
expect_uint(struct frame_msg *msg, const char *key, uint64_t want)
{
	uint64_t v = 0;
	char *cause = NULL;

	ck_assert_msg(frame_get_uint(msg, key, 1, &v, &cause) == 0, "%s",
	    cause);
	ck_assert_uint_eq(v, want);
}

static void
expect_str(struct frame_msg *msg, const char *key, const char *want)
{
	char *v = NULL, *cause = NULL;

	ck_assert_msg(frame_get_str(msg, key, 1, &v, &cause) == 0, "%s",
	    cause);
	ck_assert_str_eq(v, want);
	free(v);
}

static void
expect_bool(struct frame_msg *msg, const char *key, int want)
{
	int v = -1;
	char *cause = NULL;

	ck_assert_msg(frame_get_bool(msg, key, 1, &v, &cause) == 0, "%s",
	    cause);
	ck_assert_int_eq(v, want);
}

static void
expect_bin(struct frame_msg *msg, const char *key, const void *want,
    size_t want_len)
{
	const uint8_t *v = NULL;
	size_t len = 0;
	char *cause = NULL;

	ck_assert_msg(frame_get_bin(msg, key, 1, &v, &len, &cause) == 0,
	    "%s", cause);
	ck_assert_uint_eq(len, want_len);
	ck_assert(memcmp(v, want, len) == 0);
}

static void
expect_end(struct frame_msg *msg)
{
	char *cause = NULL;

	ck_assert_msg(frame_msg_end(msg, &cause) == 0, "%s", cause);
}

static int
str_is(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == strlen(s) &&
	    memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* A RUN frame, a realistic mix of types; caller frees fb. */
static const uint8_t *
build_run(struct frame_builder *fb, size_t *len)
{
	static const uint8_t artifact[] = { 0, 1, 2, 0xff, 0xc1, 0xd4 };

	frame_begin(fb, FRAME_RUN, 42, 5);
	frame_pack_str(fb, "session_id",
	    "ses_01jz3m9v7qf0k2x8d5n6w4r1yt");
	frame_pack_bin(fb, "artifact", artifact, sizeof artifact);
	frame_pack_str(fb, "entrypoint", "program.py:on_hook");
	frame_pack_str(fb, "event", "{\"data\":{\"x\":1},\"event_id\":\"e\"}");
	frame_pack_key(fb, "env");
	msgpack_pack_map(&fb->pk, 2);
	msgpack_pack_str_with_body(&fb->pk, "HOME", 4);
	msgpack_pack_str_with_body(&fb->pk, "/tmp/s", 6);
	msgpack_pack_str_with_body(&fb->pk, "TOKEN", 5);
	msgpack_pack_str_with_body(&fb->pk, "abc", 3);
	return frame_finish(fb, len);
}

static void
check_run(struct frame_msg *msg)
{
	const msgpack_object *env;
	char *cause = NULL;

	ck_assert_uint_eq(msg->header.type, FRAME_RUN);
	expect_str(msg, "session_id", "ses_01jz3m9v7qf0k2x8d5n6w4r1yt");
	expect_str(msg, "entrypoint", "program.py:on_hook");
	expect_str(msg, "event", "{\"data\":{\"x\":1},\"event_id\":\"e\"}");
	expect_bin(msg, "artifact", "\0\1\2\xff\xc1\xd4", 6);
	ck_assert_int_eq(frame_get_object(msg, "env", 1, MSGPACK_OBJECT_MAP,
	    &env, &cause), 0);
	ck_assert_uint_eq(env->via.map.size, 2);
	ck_assert(str_is(&env->via.map.ptr[1].key, "TOKEN"));
	ck_assert(str_is(&env->via.map.ptr[1].val, "abc"));
	expect_end(msg);
}

/* ---- header ---- */

START_TEST(header_round_trip)
{
	struct frame_header h = {
		.length = 0x01020304, .type = FRAME_DONE, .flags = 0,
		.id = 0xdeadbeef
	}, out;
	uint8_t buf[FRAME_HEADER_SIZE];
	char *cause = NULL;

	frame_header_encode(&h, buf);
	ck_assert_uint_eq(buf[0], 0x01);
	ck_assert_uint_eq(buf[3], 0x04);
	ck_assert_uint_eq(buf[5], FRAME_DONE);
	ck_assert_uint_eq(buf[8], 0xde);
	ck_assert_int_eq(frame_header_decode(buf, UINT32_MAX, &out, &cause),
	    0);
	ck_assert_uint_eq(out.length, h.length);
	ck_assert_uint_eq(out.type, h.type);
	ck_assert_uint_eq(out.id, h.id);
}
END_TEST

START_TEST(header_rejects)
{
	struct frame_header h = { .length = 1, .type = FRAME_HELLO }, out;
	uint8_t buf[FRAME_HEADER_SIZE];
	char *cause = NULL;

	h.length = 20000000;
	frame_header_encode(&h, buf);
	ck_assert_int_eq(frame_header_decode(buf, FRAME_DEFAULT_LIMIT, &out,
	    &cause), -1);
	ck_assert_str_eq(cause,
	    "frame length 20000000 exceeds the limit of 16777216 bytes");
	free(cause);

	h.length = FRAME_DEFAULT_LIMIT;
	frame_header_encode(&h, buf);
	ck_assert_int_eq(frame_header_decode(buf, FRAME_DEFAULT_LIMIT, &out,
	    NULL), 0);

	h.length = 0;
	frame_header_encode(&h, buf);
	ck_assert_int_eq(frame_header_decode(buf, FRAME_DEFAULT_LIMIT, &out,
	    &cause), -1);
	assert_cause(cause, "frame length 0");
	free(cause);

	h.length = 1;
	h.flags = 0x0100;
	frame_header_encode(&h, buf);
	ck_assert_int_eq(frame_header_decode(buf, FRAME_DEFAULT_LIMIT, &out,
	    &cause), -1);
	assert_cause(cause, "flags 0x0100");
	free(cause);

	h.flags = 0;
	h.type = 99;
	frame_header_encode(&h, buf);
	ck_assert_int_eq(frame_header_decode(buf, FRAME_DEFAULT_LIMIT, &out,
	    &cause), -1);
	assert_cause(cause, "unknown frame type 99");
	free(cause);
}
END_TEST

START_TEST(type_names)
{
	ck_assert_str_eq(frame_type_name(FRAME_HELLO), "HELLO");
	ck_assert_str_eq(frame_type_name(FRAME_READY), "READY");
	ck_assert_str_eq(frame_type_name(FRAME_SPAWN), "SPAWN");
	ck_assert_str_eq(frame_type_name(FRAME_SPAWNED), "SPAWNED");
	ck_assert_str_eq(frame_type_name(FRAME_EXITED), "EXITED");
	ck_assert_str_eq(frame_type_name(FRAME_BUILD), "BUILD");
	ck_assert_str_eq(frame_type_name(FRAME_RUN), "RUN");
	ck_assert_str_eq(frame_type_name(FRAME_BUILT), "BUILT");
	ck_assert_str_eq(frame_type_name(FRAME_PRINT), "PRINT");
	ck_assert_str_eq(frame_type_name(FRAME_DONE), "DONE");
	ck_assert_str_eq(frame_type_name(FRAME_ACK), "ACK");
	ck_assert_str_eq(frame_type_name(FRAME_SYSCALL_RESULT),
	    "SYSCALL_RESULT");
	ck_assert_str_eq(frame_type_name(FRAME_SUSPEND), "SUSPEND");
	ck_assert_str_eq(frame_type_name(FRAME_GO), "GO");
	ck_assert_str_eq(frame_type_name(FRAME_CALL), "CALL");
	ck_assert_str_eq(frame_type_name(FRAME_RESULT), "RESULT");
	ck_assert_str_eq(frame_type_name(FRAME_SYSCALL), "SYSCALL");
	ck_assert_str_eq(frame_type_name(26), "UNKNOWN");
	ck_assert_str_eq(frame_type_name(36), "UNKNOWN");
	ck_assert_str_eq(frame_type_name(0), "UNKNOWN");
	ck_assert_str_eq(frame_type_name(65535), "UNKNOWN");
}
END_TEST

/* ---- round trips of every message ---- */

START_TEST(msg_hello_ready)
{
	struct frame_builder fb;
	struct frame_msg msg;

	frame_begin(&fb, FRAME_HELLO, 0, 3);
	frame_pack_uint(&fb, "version", FRAME_VERSION);
	frame_pack_str(&fb, "role", "zygote");
	frame_pack_uint(&fb, "pid", 4242);
	round_trip(&fb, &msg);
	expect_uint(&msg, "version", FRAME_VERSION);
	expect_str(&msg, "role", "zygote");
	expect_uint(&msg, "pid", 4242);
	expect_end(&msg);
	frame_msg_free(&msg);

	frame_begin(&fb, FRAME_READY, 0, 0);
	round_trip(&fb, &msg);
	ck_assert_uint_eq(msg.header.length, 1);
	ck_assert_uint_eq(msg.map->size, 0);
	expect_end(&msg);
	frame_msg_free(&msg);
}
END_TEST

START_TEST(msg_spawn_spawned_exited)
{
	struct frame_builder fb;
	struct frame_msg msg;
	int64_t code = 0;
	char *cause = NULL;

	frame_begin(&fb, FRAME_SPAWN, 3, 8);
	frame_pack_uint(&fb, "worker_id", 17);
	frame_pack_uint(&fb, "uid", 65534);
	frame_pack_uint(&fb, "gid", 65534);
	frame_pack_str(&fb, "tmpdir", "/var/lib/autokitteh/tmp/w17");
	frame_pack_uint(&fb, "memory_limit", 512ull << 20);
	frame_pack_uint(&fb, "cpu_limit", 0);
	frame_pack_uint(&fb, "nofile", 256);
	frame_pack_uint(&fb, "fsize", UINT64_MAX);
	round_trip(&fb, &msg);
	expect_uint(&msg, "worker_id", 17);
	expect_uint(&msg, "uid", 65534);
	expect_uint(&msg, "gid", 65534);
	expect_str(&msg, "tmpdir", "/var/lib/autokitteh/tmp/w17");
	expect_uint(&msg, "memory_limit", 512ull << 20);
	expect_uint(&msg, "cpu_limit", 0);
	expect_uint(&msg, "nofile", 256);
	expect_uint(&msg, "fsize", UINT64_MAX);
	expect_end(&msg);
	frame_msg_free(&msg);

	frame_begin(&fb, FRAME_SPAWNED, 3, 2);
	frame_pack_uint(&fb, "worker_id", 17);
	frame_pack_uint(&fb, "pid", 31337);
	round_trip(&fb, &msg);
	expect_uint(&msg, "worker_id", 17);
	expect_uint(&msg, "pid", 31337);
	expect_end(&msg);
	frame_msg_free(&msg);

	frame_begin(&fb, FRAME_EXITED, 0, 3);
	frame_pack_uint(&fb, "pid", 31337);
	frame_pack_int(&fb, "code", -1);
	frame_pack_uint(&fb, "signal", 9);
	round_trip(&fb, &msg);
	expect_uint(&msg, "pid", 31337);
	ck_assert_int_eq(frame_get_int(&msg, "code", 1, &code, &cause), 0);
	ck_assert_int_eq(code, -1);
	expect_uint(&msg, "signal", 9);
	expect_end(&msg);
	frame_msg_free(&msg);

	/* A non-negative int64 packs as a positive integer: still an int. */
	frame_begin(&fb, FRAME_EXITED, 0, 3);
	frame_pack_uint(&fb, "pid", 1);
	frame_pack_int(&fb, "code", 3);
	frame_pack_uint(&fb, "signal", 0);
	round_trip(&fb, &msg);
	expect_uint(&msg, "pid", 1);
	ck_assert_int_eq(frame_get_int(&msg, "code", 1, &code, &cause), 0);
	ck_assert_int_eq(code, 3);
	expect_uint(&msg, "signal", 0);
	expect_end(&msg);
	frame_msg_free(&msg);
}
END_TEST

START_TEST(msg_build_built)
{
	struct frame_builder fb;
	struct frame_msg msg;
	const msgpack_object *files, *exports, *errors, *e;
	char *cause = NULL;

	frame_begin(&fb, FRAME_BUILD, 9, 1);
	frame_pack_key(&fb, "files");
	msgpack_pack_map(&fb.pk, 2);
	msgpack_pack_str_with_body(&fb.pk, "program.py", 10);
	msgpack_pack_bin_with_body(&fb.pk, "def f(e):\n\tpass\n", 16);
	msgpack_pack_str_with_body(&fb.pk, "autokitteh.yaml", 15);
	msgpack_pack_bin_with_body(&fb.pk, "version: v1\n", 12);
	round_trip(&fb, &msg);
	ck_assert_int_eq(frame_get_object(&msg, "files", 1,
	    MSGPACK_OBJECT_MAP, &files, &cause), 0);
	ck_assert_uint_eq(files->via.map.size, 2);
	ck_assert(str_is(&files->via.map.ptr[0].key, "program.py"));
	ck_assert_int_eq(files->via.map.ptr[0].val.type, MSGPACK_OBJECT_BIN);
	expect_end(&msg);
	frame_msg_free(&msg);

	frame_begin(&fb, FRAME_BUILT, 9, 4);
	frame_pack_bool(&fb, "ok", 1);
	frame_pack_bin(&fb, "artifact", "ART", 3);
	frame_pack_key(&fb, "exports");
	msgpack_pack_array(&fb.pk, 1);
	msgpack_pack_map(&fb.pk, 3);
	msgpack_pack_str_with_body(&fb.pk, "file", 4);
	msgpack_pack_str_with_body(&fb.pk, "program.py", 10);
	msgpack_pack_str_with_body(&fb.pk, "name", 4);
	msgpack_pack_str_with_body(&fb.pk, "on_hook", 7);
	msgpack_pack_str_with_body(&fb.pk, "line", 4);
	msgpack_pack_uint64(&fb.pk, 12);
	frame_pack_key(&fb, "errors");
	msgpack_pack_array(&fb.pk, 0);
	round_trip(&fb, &msg);
	expect_bool(&msg, "ok", 1);
	expect_bin(&msg, "artifact", "ART", 3);
	ck_assert_int_eq(frame_get_object(&msg, "exports", 1,
	    MSGPACK_OBJECT_ARRAY, &exports, &cause), 0);
	ck_assert_uint_eq(exports->via.array.size, 1);
	e = &exports->via.array.ptr[0];
	ck_assert_int_eq(e->type, MSGPACK_OBJECT_MAP);
	ck_assert(str_is(&e->via.map.ptr[1].val, "on_hook"));
	ck_assert_uint_eq(e->via.map.ptr[2].val.via.u64, 12);
	ck_assert_int_eq(frame_get_object(&msg, "errors", 1,
	    MSGPACK_OBJECT_ARRAY, &errors, &cause), 0);
	ck_assert_uint_eq(errors->via.array.size, 0);
	expect_end(&msg);
	frame_msg_free(&msg);

	/* A failed build: no artifact, errors as "file:line:col: message". */
	frame_begin(&fb, FRAME_BUILT, 9, 3);
	frame_pack_bool(&fb, "ok", 0);
	frame_pack_key(&fb, "exports");
	msgpack_pack_array(&fb.pk, 0);
	frame_pack_key(&fb, "errors");
	msgpack_pack_array(&fb.pk, 1);
	msgpack_pack_str_with_body(&fb.pk, "program.py:3:7: invalid syntax",
	    30);
	round_trip(&fb, &msg);
	expect_bool(&msg, "ok", 0);
	{
		const uint8_t *art = (const uint8_t *)"untouched";
		size_t alen = 9;

		ck_assert_int_eq(frame_get_bin(&msg, "artifact", 0, &art,
		    &alen, &cause), 0);
		ck_assert_uint_eq(alen, 9);
	}
	ck_assert_int_eq(frame_get_object(&msg, "exports", 1,
	    MSGPACK_OBJECT_ARRAY, &exports, &cause), 0);
	ck_assert_int_eq(frame_get_object(&msg, "errors", 1,
	    MSGPACK_OBJECT_ARRAY, &errors, &cause), 0);
	ck_assert(str_is(&errors->via.array.ptr[0],
	    "program.py:3:7: invalid syntax"));
	expect_end(&msg);
	frame_msg_free(&msg);
}
END_TEST

START_TEST(msg_run)
{
	struct frame_builder fb;
	struct frame_msg msg;

	build_run(&fb, &(size_t){ 0 });
	round_trip(&fb, &msg);
	check_run(&msg);
	frame_msg_free(&msg);
}
END_TEST

START_TEST(msg_print_done)
{
	struct frame_builder fb;
	struct frame_msg msg;
	char *value = NULL, *cause = NULL;

	frame_begin(&fb, FRAME_PRINT, 0, 1);
	frame_pack_strn(&fb, "text", "hello\nworld", 11);
	round_trip(&fb, &msg);
	expect_str(&msg, "text", "hello\nworld");
	expect_end(&msg);
	frame_msg_free(&msg);

	frame_begin(&fb, FRAME_DONE, 5, 2);
	frame_pack_bool(&fb, "ok", 1);
	frame_pack_str(&fb, "value", "{\"a\": [1, 2]}");
	round_trip(&fb, &msg);
	expect_bool(&msg, "ok", 1);
	expect_str(&msg, "value", "{\"a\": [1, 2]}");
	ck_assert_int_eq(frame_get_str(&msg, "error", 0, &value, &cause), 0);
	ck_assert_ptr_null(value);
	expect_end(&msg);
	frame_msg_free(&msg);

	frame_begin(&fb, FRAME_DONE, 5, 3);
	frame_pack_bool(&fb, "ok", 0);
	frame_pack_str(&fb, "error", "ZeroDivisionError: division by zero");
	frame_pack_str(&fb, "traceback",
	    "  File \"program.py\", line 3, in on_hook\n");
	round_trip(&fb, &msg);
	expect_bool(&msg, "ok", 0);
	ck_assert_int_eq(frame_get_str(&msg, "value", 0, &value, &cause), 0);
	ck_assert_ptr_null(value);
	expect_str(&msg, "error", "ZeroDivisionError: division by zero");
	expect_str(&msg, "traceback",
	    "  File \"program.py\", line 3, in on_hook\n");
	expect_end(&msg);
	frame_msg_free(&msg);
}
END_TEST

/* Every msgpack format the validator must accept, in one map. */
START_TEST(all_formats_accepted)
{
	struct frame_builder fb;
	struct frame_msg msg;
	static char big[70000];
	const uint8_t *f;
	size_t len;
	char *cause = NULL;

	memset(big, 'x', sizeof big);
	frame_begin(&fb, FRAME_PRINT, 0, 25);
#define K(s) msgpack_pack_str_with_body(&fb.pk, s, strlen(s))
	K("fixint"); msgpack_pack_uint8(&fb.pk, 5);
	K("negfix"); msgpack_pack_int8(&fb.pk, -3);
	K("nil"); msgpack_pack_nil(&fb.pk);
	K("true"); msgpack_pack_true(&fb.pk);
	K("f32"); msgpack_pack_float(&fb.pk, 1.5f);
	K("f64"); msgpack_pack_double(&fb.pk, 2.25);
	K("u8"); msgpack_pack_fix_uint8(&fb.pk, 200);
	K("u16"); msgpack_pack_fix_uint16(&fb.pk, 60000);
	K("u32"); msgpack_pack_fix_uint32(&fb.pk, 4000000000u);
	K("u64"); msgpack_pack_fix_uint64(&fb.pk, UINT64_MAX);
	K("i8"); msgpack_pack_fix_int8(&fb.pk, -100);
	K("i16"); msgpack_pack_fix_int16(&fb.pk, -30000);
	K("i32"); msgpack_pack_fix_int32(&fb.pk, -2000000000);
	K("i64"); msgpack_pack_fix_int64(&fb.pk, INT64_MIN);
	K("str8"); msgpack_pack_str_with_body(&fb.pk, big, 200);
	K("str16"); msgpack_pack_str_with_body(&fb.pk, big, 1000);
	K("str32"); msgpack_pack_str_with_body(&fb.pk, big, sizeof big);
	K("bin8"); msgpack_pack_bin_with_body(&fb.pk, big, 3);
	K("bin16"); msgpack_pack_bin_with_body(&fb.pk, big, 300);
	K("bin32"); msgpack_pack_bin_with_body(&fb.pk, big, sizeof big);
	K("array16"); msgpack_pack_array(&fb.pk, 20);
	for (int i = 0; i < 20; i++)
		msgpack_pack_nil(&fb.pk);
	K("array32"); msgpack_pack_array(&fb.pk, 70000);
	for (int i = 0; i < 70000; i++)
		msgpack_pack_false(&fb.pk);
	K("map16"); msgpack_pack_map(&fb.pk, 16);
	for (int i = 0; i < 16; i++) {
		char k[8];

		snprintf(k, sizeof k, "k%d", i);
		K(k);
		msgpack_pack_int(&fb.pk, i);
	}
	K("map32"); msgpack_pack_map(&fb.pk, 65536);
	for (int i = 0; i < 65536; i++) {
		char k[8];

		snprintf(k, sizeof k, "%x", i);
		K(k);
		msgpack_pack_nil(&fb.pk);
	}
	K("fixarray"); msgpack_pack_array(&fb.pk, 1);
	msgpack_pack_map(&fb.pk, 0);
#undef K
	f = frame_finish(&fb, &len);
	/* The formats are what we think they are. */
	ck_assert_ptr_nonnull(memmem(f, len, "\xa4" "str8" "\xd9\xc8", 7));
	ck_assert_ptr_nonnull(memmem(f, len, "\xa5str16\xda", 7));
	ck_assert_ptr_nonnull(memmem(f, len, "\xa5str32\xdb", 7));
	ck_assert_ptr_nonnull(memmem(f, len, "\xa5map32\xdf", 7));
	ck_assert_ptr_nonnull(memmem(f, len, "\xa7" "array32\xdd", 9));
	ck_assert_int_eq(frame_validate(f + FRAME_HEADER_SIZE,
	    len - FRAME_HEADER_SIZE, FRAME_MAX_DEPTH, &cause), 0);
	accept_body(f + FRAME_HEADER_SIZE, len - FRAME_HEADER_SIZE, &msg);
	expect_uint(&msg, "u64", UINT64_MAX);
	{
		int64_t v;

		ck_assert_int_eq(frame_get_int(&msg, "i64", 1, &v, &cause), 0);
		ck_assert_int_eq(v, INT64_MIN);
	}
	frame_msg_free(&msg);
	frame_builder_free(&fb);
}
END_TEST

/* ---- the stream reader ---- */

/* A valid frame cut at every offset: 0 until complete, never -1. */
START_TEST(reader_every_offset)
{
	struct frame_builder fb;
	struct frame_reader r;
	struct frame_msg msg;
	const uint8_t *f;
	size_t len;
	char *cause = NULL;

	f = build_run(&fb, &len);
	for (size_t cut = 0; cut < len; cut++) {
		frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
		frame_reader_feed(&r, f, cut);
		ck_assert_msg(frame_reader_next(&r, &msg, &cause) == 0,
		    "cut at %zu: %s", cut, cause ? cause : "returned 1");
		frame_msg_free(&msg);
		frame_reader_feed(&r, f + cut, len - cut);
		ck_assert_msg(frame_reader_next(&r, &msg, &cause) == 1,
		    "cut at %zu: %s", cut, cause);
		check_run(&msg);
		frame_msg_free(&msg);
		ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), 0);
		ck_assert_uint_eq(r.len, 0);
		frame_reader_free(&r);
	}
	frame_builder_free(&fb);
}
END_TEST

START_TEST(reader_byte_at_a_time)
{
	struct frame_builder fb;
	struct frame_reader r;
	struct frame_msg msg;
	const uint8_t *f;
	size_t len;
	char *cause = NULL;

	f = build_run(&fb, &len);
	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	for (size_t i = 0; i < len; i++) {
		int rc;

		frame_reader_feed(&r, f + i, 1);
		rc = frame_reader_next(&r, &msg, &cause);
		ck_assert_msg(rc == (i == len - 1 ? 1 : 0),
		    "byte %zu: rc %d %s", i, rc, cause ? cause : "");
		if (rc == 1)
			check_run(&msg);
		frame_msg_free(&msg);
	}
	frame_reader_free(&r);
	frame_builder_free(&fb);
}
END_TEST

START_TEST(reader_two_frames_one_feed)
{
	struct frame_builder fb;
	struct frame_reader r;
	struct frame_msg msg;
	const uint8_t *f;
	uint8_t *two;
	size_t len;
	char *cause = NULL;

	f = build_run(&fb, &len);
	two = xmalloc(3 * len);
	memcpy(two, f, len);
	memcpy(two + len, f, len);
	memcpy(two + 2 * len, f, len);
	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	/* Two and a half frames, then the rest. */
	frame_reader_feed(&r, two, 2 * len + len / 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(frame_reader_next(&r, &msg, &cause) == 1, "%s",
		    cause);
		check_run(&msg);
		frame_msg_free(&msg);
	}
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), 0);
	frame_reader_feed(&r, two + 2 * len + len / 2, len - len / 2);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), 1);
	check_run(&msg);
	frame_msg_free(&msg);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), 0);
	frame_reader_free(&r);
	free(two);
	frame_builder_free(&fb);
}
END_TEST

/*
 * Many frames of varying sizes fed in odd-sized chunks: exercises the
 * lazy compaction of consumed frames and the buffer growth.
 */
START_TEST(reader_many_frames)
{
	struct frame_reader r;
	struct frame_msg msg;
	uint8_t *stream = NULL;
	size_t slen = 0, got = 0;
	char *cause = NULL, want[64];

	for (int i = 0; i < 2000; i++) {
		struct frame_builder fb;
		const uint8_t *f;
		char text[8200];
		size_t len, pad = (size_t)(i * 37) % 8000;
		int n = snprintf(text, sizeof text, "n%d.", i);

		memset(text + n, 'a' + i % 26, pad);
		text[(size_t)n + pad] = '\0';
		frame_begin(&fb, FRAME_PRINT, (uint32_t)i, 1);
		frame_pack_str(&fb, "text", text);
		f = frame_finish(&fb, &len);
		stream = xreallocarray(stream, slen + len, 1);
		memcpy(stream + slen, f, len);
		slen += len;
		frame_builder_free(&fb);
	}
	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	for (size_t off = 0; off < slen; off += 777) {
		int rc;

		frame_reader_feed(&r, stream + off,
		    slen - off < 777 ? slen - off : 777);
		while ((rc = frame_reader_next(&r, &msg, &cause)) == 1) {
			char *text = NULL;

			ck_assert_uint_eq(msg.header.id, got);
			ck_assert_int_eq(frame_get_str(&msg, "text", 1, &text,
			    &cause), 0);
			snprintf(want, sizeof want, "n%zu.", got);
			ck_assert_msg(strncmp(text, want, strlen(want)) == 0 &&
			    strlen(text) == strlen(want) + (got * 37) % 8000,
			    "frame %zu: \"%.20s\"", got, text);
			free(text);
			expect_end(&msg);
			frame_msg_free(&msg);
			got++;
		}
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_le(r.cap, 65536);
	}
	ck_assert_uint_eq(got, 2000);
	ck_assert_uint_eq(r.len, 0);
	frame_reader_free(&r);
	free(stream);
}
END_TEST

/* Oversize is rejected from the 12 header bytes; the body is not kept. */
START_TEST(reader_oversize_from_header)
{
	struct frame_header h = {
		.length = 20000000, .type = FRAME_PRINT
	};
	struct frame_reader r;
	struct frame_msg msg;
	uint8_t buf[FRAME_HEADER_SIZE], junk[4096];
	char *cause = NULL;

	frame_header_encode(&h, buf);
	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	frame_reader_feed(&r, buf, 11);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), 0);
	frame_reader_feed(&r, buf + 11, 1);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), -1);
	ck_assert_str_eq(cause,
	    "frame length 20000000 exceeds the limit of 16777216 bytes");
	free(cause);
	cause = NULL;
	/* Sticky, and nothing more is buffered. */
	memset(junk, 0x80, sizeof junk);
	for (int i = 0; i < 100; i++)
		frame_reader_feed(&r, junk, sizeof junk);
	ck_assert_uint_le(r.len - r.off, FRAME_HEADER_SIZE);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	frame_reader_free(&r);

	/* A small limit: the header alone decides, fed in one piece with
	 * the start of the body. */
	h.length = 65537;
	frame_header_encode(&h, buf);
	frame_reader_init(&r, 65536);
	frame_reader_feed(&r, buf, sizeof buf);
	frame_reader_feed(&r, junk, 100);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), -1);
	ck_assert_str_eq(cause,
	    "frame length 65537 exceeds the limit of 65536 bytes");
	free(cause);
	frame_reader_free(&r);
}
END_TEST

/* A bad header or body makes the stream fail for good. */
static void
reader_rejects_frame(const uint8_t *f, size_t len, const char *want)
{
	struct frame_builder fb;
	struct frame_reader r;
	struct frame_msg msg;
	const uint8_t *good;
	size_t glen;
	char *cause = NULL;

	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	frame_reader_feed(&r, f, len);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), -1);
	assert_cause(cause, want);
	free(cause);
	cause = NULL;
	good = build_run(&fb, &glen);
	frame_reader_feed(&r, good, glen);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), -1);
	free(cause);
	frame_msg_free(&msg);
	frame_builder_free(&fb);
	frame_reader_free(&r);
}

START_TEST(reader_bad_headers)
{
	static const uint8_t empty_map[] = { 0x80 };
	uint8_t *f;
	size_t len;

	f = raw_frame(FRAME_READY, 0, NULL, 0, &len);
	reader_rejects_frame(f, len, "frame length 0 is not allowed");
	free(f);
	f = raw_frame(FRAME_READY, 1, empty_map, 1, &len);
	reader_rejects_frame(f, len, "flags 0x0001");
	free(f);
	f = raw_frame(1234, 0, empty_map, 1, &len);
	reader_rejects_frame(f, len, "unknown frame type 1234");
	free(f);
	/* Sticky after a body violation, too. */
	f = raw_frame(FRAME_READY, 0, (const uint8_t *)"\x90", 1, &len);
	reader_rejects_frame(f, len, "not a map");
	free(f);
}
END_TEST

/* ---- validator ---- */

START_TEST(count_bombs)
{
	/* {"a": array32 of 2^32-1} with 3 bytes left. */
	static const uint8_t array32[] = {
		0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0
	};
	static const uint8_t array16[] = {
		0x81, 0xa1, 'a', 0xdc, 0xff, 0xff, 0xc0
	};
	static const uint8_t map32[] = {
		0x81, 0xa1, 'a', 0xdf, 0x80, 0x00, 0x00, 0x00, 0xa0, 0xc0
	};
	static const uint8_t map16[] = {
		0x81, 0xa1, 'a', 0xde, 0x00, 0x02, 0xa0, 0xc0, 0xa1
	};
	static const uint8_t top_map32[] = {
		0xdf, 0xff, 0xff, 0xff, 0xff, 0xa0, 0xc0
	};
	static const uint8_t str32[] = {
		0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xf0, 'x'
	};
	static const uint8_t str8[] = { 0x81, 0xd9, 0x05, 'a', 'b' };
	static const uint8_t bin32[] = {
		0x81, 0xa1, 'a', 0xc6, 0x7f, 0xff, 0xff, 0xff, 1, 2
	};
	static const uint8_t bin16[] = {
		0x81, 0xa1, 'a', 0xc5, 0x00, 0x03, 1, 2
	};
	static const uint8_t fixarray[] = { 0x81, 0xa1, 'a', 0x9f, 0xc0 };

	REJECT(array32, "array of 4294967295 elements declared with 3 bytes "
	    "left");
	REJECT(array16, "array of 65535 elements declared with 1 bytes left");
	REJECT(map32, "map of 2147483648 entries declared with 2 bytes left");
	REJECT(map16, "map of 2 entries declared with 3 bytes left");
	REJECT(top_map32, "map of 4294967295 entries declared with 2 bytes "
	    "left");
	REJECT(str32, "string of 4294967280 bytes declared with 1 bytes left");
	REJECT(str8, "string of 5 bytes declared with 2 bytes left");
	REJECT(bin32, "binary data of 2147483647 bytes declared with 2 bytes "
	    "left");
	REJECT(bin16, "binary data of 3 bytes declared with 2 bytes left");
	REJECT(fixarray, "array of 15 elements declared with 1 bytes left");
}
END_TEST

/* {"a": [[[...]]]}: n nested arrays inside the top-level map. */
static uint8_t *
nested(int arrays, size_t *len)
{
	uint8_t *b = xmalloc(3 + (size_t)arrays);

	b[0] = 0x81;
	b[1] = 0xa1;
	b[2] = 'a';
	for (int i = 0; i < arrays; i++)
		b[3 + i] = i == arrays - 1 ? 0x90 : 0x91;
	*len = 3 + (size_t)arrays;
	return b;
}

START_TEST(depth_limit)
{
	struct frame_msg msg;
	const msgpack_object *o;
	char *cause = NULL;
	uint8_t *b;
	size_t len;

	/* The map plus 31 arrays: exactly 32 levels, accepted and unpacked. */
	b = nested(FRAME_MAX_DEPTH - 1, &len);
	accept_body(b, len, &msg);
	ck_assert_int_eq(frame_get_object(&msg, "a", 1, MSGPACK_OBJECT_ARRAY,
	    &o, &cause), 0);
	for (int i = 0; i < FRAME_MAX_DEPTH - 2; i++) {
		ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
		ck_assert_uint_eq(o->via.array.size, 1);
		o = &o->via.array.ptr[0];
	}
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(o->via.array.size, 0);
	expect_end(&msg);
	frame_msg_free(&msg);
	free(b);

	/* 33 levels (the innermost one empty), and far deeper. */
	b = nested(FRAME_MAX_DEPTH, &len);
	reject_body(b, len, "nesting deeper than 32");
	free(b);
	b = nested(FRAME_MAX_DEPTH + 1, &len);
	reject_body(b, len, "nesting deeper than 32");
	free(b);
	b = nested(100000, &len);
	reject_body(b, len, "nesting deeper than 32");
	ck_assert_int_eq(frame_validate(b, len, 200000, &cause), 0);
	free(b);

	/* The limit is a parameter of frame_validate. */
	b = nested(3, &len);
	ck_assert_int_eq(frame_validate(b, len, 4, &cause), 0);
	ck_assert_int_eq(frame_validate(b, len, 3, &cause), -1);
	ck_assert_str_eq(cause, "nesting deeper than 3");
	free(cause);
	free(b);
}
END_TEST

START_TEST(structure_rejects)
{
	static const uint8_t trailing[] = { 0x80, 0x00, 0x00 };
	static const uint8_t trailing1[] = { 0x81, 0xa1, 'k', 0x01, 0xc0 };
	static const uint8_t truncated_map[] = {
		0x82, 0xa1, 'k', 0x01, 0xa1, 'j'
	};
	static const uint8_t truncated_value[] = { 0x81, 0xa1, 'k' };
	static const uint8_t truncated_u32[] = {
		0x81, 0xa1, 'k', 0xce, 0, 0
	};
	static const uint8_t truncated_f64[] = {
		0x81, 0xa1, 'k', 0xcb, 0, 0, 0, 0
	};
	static const uint8_t truncated_count[] = { 0x81, 0xa1, 'k', 0xdd, 0 };
	static const uint8_t top_array[] = { 0x91, 0x80 };
	static const uint8_t top_int[] = { 0x05 };
	static const uint8_t top_str[] = { 0xa1, 'x' };
	static const uint8_t top_nil[] = { 0xc0 };
	static const uint8_t int_key[] = { 0x81, 0x01, 0x02 };
	static const uint8_t bin_key[] = { 0x81, 0xc4, 0x01, 'k', 0x02 };
	static const uint8_t nested_int_key[] = {
		0x81, 0xa1, 'm', 0x81, 0xc0, 0xc0
	};
	static const uint8_t map_key[] = { 0x81, 0x80, 0x01 };
	static const uint8_t dup_top[] = {
		0x83, 0xa3, 'p', 'i', 'd', 0x01, 0xa1, 'x', 0x02,
		0xa3, 'p', 'i', 'd', 0x03
	};
	static const uint8_t dup_nested[] = {
		0x81, 0xa3, 'e', 'n', 'v', 0x82, 0xa1, 'A', 0xa0, 0xa1, 'A',
		0xa0
	};
	static const uint8_t dup_in_array[] = {
		0x81, 0xa1, 'x', 0x91, 0x82, 0xa0, 0x01, 0xa0, 0x02
	};
	/* Same prefix, different lengths: not duplicates. */
	static const uint8_t prefix_keys[] = {
		0x82, 0xa1, 'a', 0x01, 0xa2, 'a', 'a', 0x02
	};
	static const uint8_t fixext[] = { 0x81, 0xa1, 'k', 0xd4, 0x01, 0x00 };
	static const uint8_t ext8[] = {
		0x81, 0xa1, 'k', 0xc7, 0x01, 0x05, 0x00
	};
	static const uint8_t ext32[] = {
		0x81, 0xa1, 'k', 0xc9, 0, 0, 0, 0, 0x05
	};
	static const uint8_t never[] = { 0x81, 0xa1, 'k', 0xc1 };
	static const uint8_t never_key[] = { 0x81, 0xc1, 0x01 };
	struct frame_msg msg;
	char *cause = NULL;

	REJECT(trailing, "2 bytes after the end of the object");
	REJECT(trailing1, "1 byte after the end of the object");
	REJECT(truncated_map, "truncated");
	REJECT(truncated_value, "truncated");
	REJECT(truncated_u32, "truncated: an integer at offset 3 needs 5 "
	    "bytes, 3 left");
	REJECT(truncated_f64, "truncated: a float");
	REJECT(truncated_count, "truncated: an array");
	REJECT(top_array, "the top level is an array, not a map");
	REJECT(top_int, "the top level is an integer, not a map");
	REJECT(top_str, "the top level is a string, not a map");
	REJECT(top_nil, "the top level is nil, not a map");
	REJECT(int_key, "map key at offset 1 is an integer, not a string");
	REJECT(bin_key, "map key at offset 1 is binary data, not a string");
	REJECT(nested_int_key, "map key at offset 4 is nil, not a string");
	REJECT(map_key, "is a map, not a string");
	REJECT(dup_top, "duplicate key \"pid\"");
	REJECT(dup_nested, "duplicate key \"A\"");
	REJECT(dup_in_array, "duplicate key \"\"");
	REJECT(fixext, "msgpack ext (type byte 0xd4 at offset 3) is not used");
	REJECT(ext8, "msgpack ext (type byte 0xc7");
	REJECT(ext32, "msgpack ext (type byte 0xc9");
	REJECT(never, "byte 0xc1 at offset 3 is never used in msgpack");
	REJECT(never_key, "byte 0xc1");

	accept_body(prefix_keys, sizeof prefix_keys, &msg);
	expect_uint(&msg, "a", 1);
	expect_uint(&msg, "aa", 2);
	expect_end(&msg);
	frame_msg_free(&msg);

	/* The header's length must match the body. */
	{
		struct frame_header h = { .length = 5, .type = FRAME_READY };

		ck_assert_int_eq(frame_msg_parse(&msg, &h, trailing, 1,
		    &cause), -1);
		assert_cause(cause, "header says 5");
		free(cause);
		frame_msg_free(&msg);
	}
	ck_assert_int_eq(frame_validate(trailing, 0, FRAME_MAX_DEPTH, &cause),
	    -1);
	free(cause);
}
END_TEST

/* Non-printable key bytes are escaped in causes (they go to logs). */
START_TEST(causes_are_printable)
{
	static const uint8_t evil_key[] = {
		0x82, 0xa3, 'a', '\n', 0x1b, 0x01, 0xa3, 'a', '\n', 0x1b, 0x01
	};
	struct frame_builder fb;
	struct frame_msg msg;
	char *cause = NULL, *longkey;

	REJECT(evil_key, "duplicate key \"a\\x0a\\x1b\"");

	longkey = xmalloc(1001);
	memset(longkey, 'k', 1000);
	longkey[1000] = '\0';
	frame_begin(&fb, FRAME_PRINT, 0, 1);
	frame_pack_uint(&fb, longkey, 1);
	round_trip(&fb, &msg);
	ck_assert_int_eq(frame_msg_end(&msg, &cause), -1);
	ck_assert_uint_lt(strlen(cause), 200);
	assert_cause(cause, "kkk...\"");
	free(cause);
	frame_msg_free(&msg);
	free(longkey);
}
END_TEST

/* ---- accessors ---- */

START_TEST(accessor_wrong_types)
{
	struct frame_builder fb;
	struct frame_msg msg;
	const msgpack_object *o;
	const uint8_t *bin;
	uint64_t u;
	int64_t i;
	size_t blen;
	char *s, *cause = NULL;
	int b;

	frame_begin(&fb, FRAME_HELLO, 0, 7);
	frame_pack_int(&fb, "pid", -5);
	frame_pack_bin(&fb, "role", "zygote", 6);
	frame_pack_str(&fb, "artifact", "text");
	frame_pack_uint(&fb, "ok", 1);
	frame_pack_bool(&fb, "code", 1);
	frame_pack_uint(&fb, "huge", (uint64_t)INT64_MAX + 1);
	frame_pack_str(&fb, "files", "not a map");
	round_trip(&fb, &msg);

	ck_assert_int_eq(frame_get_uint(&msg, "pid", 1, &u, &cause), -1);
	ck_assert_str_eq(cause, "field \"pid\" must be an unsigned integer");
	free(cause);
	ck_assert_int_eq(frame_get_str(&msg, "role", 1, &s, &cause), -1);
	ck_assert_str_eq(cause, "field \"role\" must be a string");
	free(cause);
	ck_assert_int_eq(frame_get_bin(&msg, "artifact", 1, &bin, &blen,
	    &cause), -1);
	ck_assert_str_eq(cause, "field \"artifact\" must be binary data");
	free(cause);
	ck_assert_int_eq(frame_get_bool(&msg, "ok", 1, &b, &cause), -1);
	ck_assert_str_eq(cause, "field \"ok\" must be a boolean");
	free(cause);
	ck_assert_int_eq(frame_get_int(&msg, "code", 1, &i, &cause), -1);
	ck_assert_str_eq(cause, "field \"code\" must be an integer");
	free(cause);
	ck_assert_int_eq(frame_get_uint(&msg, "code", 1, &u, &cause), -1);
	free(cause);
	ck_assert_int_eq(frame_get_int(&msg, "huge", 1, &i, &cause), -1);
	assert_cause(cause, "out of range");
	free(cause);
	ck_assert_int_eq(frame_get_object(&msg, "files", 1,
	    MSGPACK_OBJECT_MAP, &o, &cause), -1);
	ck_assert_str_eq(cause, "field \"files\" must be a map");
	free(cause);
	/* Optional or not, a wrong type is an error. */
	ck_assert_int_eq(frame_get_uint(&msg, "pid", 0, &u, &cause), -1);
	free(cause);
	/* Right types where they are right. */
	ck_assert_int_eq(frame_get_int(&msg, "pid", 1, &i, &cause), 0);
	ck_assert_int_eq(i, -5);
	expect_uint(&msg, "huge", (uint64_t)INT64_MAX + 1);
	expect_end(&msg);
	frame_msg_free(&msg);
}
END_TEST

START_TEST(accessor_missing_optional_leftover)
{
	struct frame_builder fb;
	struct frame_msg msg;
	const msgpack_object *o = NULL;
	const uint8_t *bin = NULL;
	uint64_t u = 77;
	int64_t i = 78;
	size_t blen = 79;
	char *s = NULL, *cause = NULL;
	int b = 80;

	frame_begin(&fb, FRAME_SPAWNED, 0, 2);
	frame_pack_uint(&fb, "worker_id", 1);
	frame_pack_uint(&fb, "bogus", 2);
	round_trip(&fb, &msg);

	ck_assert_int_eq(frame_get_uint(&msg, "pid", 1, &u, &cause), -1);
	ck_assert_str_eq(cause, "SPAWNED message is missing the field "
	    "\"pid\"");
	free(cause);
	ck_assert_int_eq(frame_get_str(&msg, "tmpdir", 1, &s, &cause), -1);
	assert_cause(cause, "missing the field \"tmpdir\"");
	free(cause);
	cause = NULL;

	/* Optional and absent: 0, outputs untouched, no cause. */
	ck_assert_int_eq(frame_get_uint(&msg, "pid", 0, &u, &cause), 0);
	ck_assert_int_eq(frame_get_int(&msg, "code", 0, &i, &cause), 0);
	ck_assert_int_eq(frame_get_bool(&msg, "ok", 0, &b, &cause), 0);
	ck_assert_int_eq(frame_get_str(&msg, "value", 0, &s, &cause), 0);
	ck_assert_int_eq(frame_get_bin(&msg, "artifact", 0, &bin, &blen,
	    &cause), 0);
	ck_assert_int_eq(frame_get_object(&msg, "env", 0, MSGPACK_OBJECT_MAP,
	    &o, &cause), 0);
	ck_assert_uint_eq(u, 77);
	ck_assert_int_eq(i, 78);
	ck_assert_int_eq(b, 80);
	ck_assert_ptr_null(s);
	ck_assert_ptr_null(bin);
	ck_assert_uint_eq(blen, 79);
	ck_assert_ptr_null(o);
	ck_assert_ptr_null(cause);

	expect_uint(&msg, "worker_id", 1);
	ck_assert_int_eq(frame_msg_end(&msg, &cause), -1);
	ck_assert_str_eq(cause, "unexpected field \"bogus\" in SPAWNED "
	    "message");
	free(cause);
	/* Reading it (even optionally) makes the message complete. */
	ck_assert_int_eq(frame_get_uint(&msg, "bogus", 0, &u, &cause), 0);
	expect_end(&msg);
	frame_msg_free(&msg);
}
END_TEST

START_TEST(accessor_embedded_nul)
{
	struct frame_builder fb;
	struct frame_msg msg;
	char *s = NULL, *cause = NULL;

	frame_begin(&fb, FRAME_PRINT, 0, 1);
	frame_pack_strn(&fb, "text", "ab\0cd", 5);
	round_trip(&fb, &msg);
	ck_assert_int_eq(frame_get_str(&msg, "text", 1, &s, &cause), -1);
	ck_assert_str_eq(cause, "field \"text\" contains a NUL byte");
	ck_assert_ptr_null(s);
	free(cause);
	frame_msg_free(&msg);

	/* An empty string is a string. */
	frame_begin(&fb, FRAME_PRINT, 0, 1);
	frame_pack_str(&fb, "text", "");
	round_trip(&fb, &msg);
	expect_str(&msg, "text", "");
	expect_end(&msg);
	frame_msg_free(&msg);
}
END_TEST

/* frame_msg_free is safe on a message that failed to parse, twice. */
START_TEST(msg_free_after_failure)
{
	static const uint8_t bad[] = { 0x90 };
	struct frame_msg msg;
	char *cause = NULL;

	ck_assert_int_eq(parse_body(bad, sizeof bad, &msg, &cause), -1);
	free(cause);
	frame_msg_free(&msg);
	frame_msg_free(&msg);
	ck_assert_int_eq(frame_msg_end(&msg, &cause), 0);
}
END_TEST

/* ---- fd passing ---- */

START_TEST(fd_passing)
{
	struct frame_builder fb;
	struct frame_reader r;
	struct frame_msg msg;
	const uint8_t *f;
	uint8_t buf[256];
	char *cause = NULL, got[8];
	int sv[2], pfd[2], fd = -2, flags;
	size_t len;
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pipe(pfd), 0);

	frame_begin(&fb, FRAME_SPAWN, 1, 1);
	frame_pack_uint(&fb, "worker_id", 5);
	f = frame_finish(&fb, &len);
	ck_assert_int_eq(frame_send_fd(sv[0], f, len, pfd[0]), 0);
	close(pfd[0]);
	frame_builder_free(&fb);

	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	n = frame_recv_fd(sv[1], buf, sizeof buf, &fd);
	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert_int_ge(fd, 0);
	flags = fcntl(fd, F_GETFD);
	ck_assert(flags & FD_CLOEXEC);
	frame_reader_feed(&r, buf, (size_t)n);
	ck_assert_int_eq(frame_reader_next(&r, &msg, &cause), 1);
	msg.fd = fd;
	expect_uint(&msg, "worker_id", 5);
	expect_end(&msg);
	/* The received fd is the pipe's read end. */
	ck_assert_int_eq(write(pfd[1], "meow", 4), 4);
	ck_assert_int_eq(read(msg.fd, got, sizeof got), 4);
	ck_assert(memcmp(got, "meow", 4) == 0);
	close(msg.fd);
	frame_msg_free(&msg);
	frame_reader_free(&r);

	/* Without an fd: -1. */
	frame_begin(&fb, FRAME_READY, 2, 0);
	f = frame_finish(&fb, &len);
	ck_assert_int_eq(frame_send_fd(sv[0], f, len, -1), 0);
	frame_builder_free(&fb);
	fd = -2;
	n = frame_recv_fd(sv[1], buf, sizeof buf, &fd);
	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert_int_eq(fd, -1);

	/* EOF: 0, no fd. */
	close(sv[0]);
	fd = -2;
	ck_assert_int_eq(frame_recv_fd(sv[1], buf, sizeof buf, &fd), 0);
	ck_assert_int_eq(fd, -1);
	close(sv[1]);
	close(pfd[1]);
}
END_TEST

/* Extra fds in one message are closed; the first one is kept. */
START_TEST(fd_extra_closed)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(3 * sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof cm.buf,
	};
	struct cmsghdr *c;
	int sv[2], fds[3], got = -2, after;
	uint8_t buf[8];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&cm, 0, sizeof cm);
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[2] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	ck_assert_int_eq(sendmsg(sv[0], &mh, 0), 1);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	/* The lowest free fd tells whether the extras were closed. */
	ck_assert_int_eq(frame_recv_fd(sv[1], buf, sizeof buf, &got), 1);
	ck_assert_int_ge(got, 0);
	after = dup(0);
	close(after);
	ck_assert_int_eq(after, got + 1);
	close(got);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A large frame goes out whole even when the socket buffer is small. */
START_TEST(send_large_frame)
{
	struct frame_builder fb;
	struct frame_reader r;
	struct frame_msg msg;
	const uint8_t *f;
	uint8_t *big, buf[65536];
	const uint8_t *bin;
	char *cause = NULL;
	size_t len, blen, total = 0;
	int sv[2], fd, fds = 0, sndbuf = 4096, status;
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	big = xmalloc(3u << 20);
	for (size_t i = 0; i < 3u << 20; i++)
		big[i] = (uint8_t)(i * 7);
	frame_begin(&fb, FRAME_BUILD, 1, 1);
	frame_pack_bin(&fb, "blob", big, 3u << 20);
	f = frame_finish(&fb, &len);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		close(sv[1]);
		_exit(frame_send_fd(sv[0], f, len, devnull) == 0 ? 0 : 1);
	}
	close(sv[0]);
	frame_reader_init(&r, FRAME_DEFAULT_LIMIT);
	for (;;) {
		int rc;

		n = frame_recv_fd(sv[1], buf, sizeof buf, &fd);
		ck_assert_int_gt(n, 0);
		total += (size_t)n;
		if (fd != -1) {
			fds++;
			close(fd);
		}
		frame_reader_feed(&r, buf, (size_t)n);
		rc = frame_reader_next(&r, &msg, &cause);
		ck_assert_int_ne(rc, -1);
		if (rc == 1)
			break;
	}
	ck_assert_uint_eq(total, len);
	ck_assert_int_eq(fds, 1);
	expect_bin(&msg, "blob", big, 3u << 20);
	ck_assert_int_eq(frame_get_bin(&msg, "blob", 1, &bin, &blen, &cause),
	    0);
	expect_end(&msg);
	frame_msg_free(&msg);
	frame_reader_free(&r);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[1]);
	frame_builder_free(&fb);
	free(big);
}
END_TEST

START_TEST(send_to_closed_peer)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	/* MSG_NOSIGNAL: an error, not SIGPIPE. */
	ck_assert_int_eq(frame_send_fd(sv[0], (const uint8_t *)"x", 1, -1),
	    -1);
	ck_assert_int_eq(errno, EPIPE);
	close(sv[0]);
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc;

	tc = tcase_create("header");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, header_round_trip);
	tcase_add_test(tc, header_rejects);
	tcase_add_test(tc, type_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, msg_hello_ready);
	tcase_add_test(tc, msg_spawn_spawned_exited);
	tcase_add_test(tc, msg_build_built);
	tcase_add_test(tc, msg_run);
	tcase_add_test(tc, msg_print_done);
	tcase_add_test(tc, all_formats_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("reader");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reader_every_offset);
	tcase_add_test(tc, reader_byte_at_a_time);
	tcase_add_test(tc, reader_two_frames_one_feed);
	tcase_add_test(tc, reader_many_frames);
	tcase_add_test(tc, reader_oversize_from_header);
	tcase_add_test(tc, reader_bad_headers);
	suite_add_tcase(s, tc);

	tc = tcase_create("validator");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, count_bombs);
	tcase_add_test(tc, depth_limit);
	tcase_add_test(tc, structure_rejects);
	tcase_add_test(tc, causes_are_printable);
	suite_add_tcase(s, tc);

	tc = tcase_create("accessors");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, accessor_wrong_types);
	tcase_add_test(tc, accessor_missing_optional_leftover);
	tcase_add_test(tc, accessor_embedded_nul);
	tcase_add_test(tc, msg_free_after_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("fd");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fd_passing);
	tcase_add_test(tc, fd_extra_closed);
	tcase_add_test(tc, send_large_frame);
	tcase_add_test(tc, send_to_closed_peer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(frame_suite());
	int failures;

	log_open("check-frame", 1, LOG_LEVEL_ERROR);
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
