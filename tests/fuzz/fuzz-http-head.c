/*
 * fuzz-http-head.c: libFuzzer target for the request-head checks
 * (src/http-head.c), which see every byte a TCP client sends before evhttp
 * does.
 *
 * The input is a request as a client would send it. It is fed whole, one
 * byte at a time, and in pieces cut at points taken from the input, under
 * a limit also taken from it: every way must give the same answer at the
 * same byte, never use more bytes than it was given, end the head only at
 * an empty line after CRLF, and refuse only with one of the statuses
 * server-http.c answers and a sentence it can print. Linked with replay.c
 * instead of libFuzzer, it replays the seed corpus in `make check`.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
feed_pieces(struct http_head *h, const uint8_t *data, size_t size,
    size_t limit, size_t step, size_t *total)
{
	int rc = HTTP_HEAD_MORE;
	size_t used;

	*total = 0;
	http_head_reset(h);
	for (size_t off = 0; off < size && rc == HTTP_HEAD_MORE;
	    off += step) {
		size_t n = size - off < step ? size - off : step;

		rc = http_head_feed(h, data + off, n, limit, &used);
		if (used > n)
			abort();
		if (rc == HTTP_HEAD_MORE && used != n)
			abort();
		*total += used;
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head whole, piece;
	size_t limit, step, used_whole, used;
	int rc;

	if (size < 2 || size > 65536)
		return 0;
	/* The first two bytes choose the limit and the piece size. */
	limit = 64 + (size_t)data[0] * 16;
	step = 1 + data[1] % 17;
	data += 2;
	size -= 2;

	rc = feed_pieces(&whole, data, size, limit, size == 0 ? 1 : size,
	    &used_whole);
	if (used_whole > size || used_whole > limit + 1)
		abort();
	if (rc == HTTP_HEAD_DONE && (used_whole < 4 ||
	    memcmp(data + used_whole - 4, "\r\n\r\n", 4) != 0))
		abort();
	if (rc == HTTP_HEAD_BAD) {
		if (whole.status != 400 && whole.status != 414 &&
		    whole.status != 431 && whole.status != 501)
			abort();
		if (whole.cause == NULL || strlen(whole.cause) == 0)
			abort();
	} else if (whole.status != 0)
		abort();
	/* One byte at a time and in pieces: the same answer, same byte. */
	if (feed_pieces(&piece, data, size, limit, 1, &used) != rc ||
	    used != used_whole || piece.status != whole.status)
		abort();
	if (feed_pieces(&piece, data, size, limit, step, &used) != rc ||
	    used != used_whole || piece.status != whole.status)
		abort();
	return 0;
}
