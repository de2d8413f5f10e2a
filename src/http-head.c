/*
 * http-head.c: the checks on an HTTP/1.1 request head that evhttp does not
 * make, fed the bytes as they arrive (server-http.c owns one per
 * connection and feeds it from its input buffer).
 *
 * A server and a proxy in front of it that disagree on where a request
 * ends let a client smuggle one request inside another, and evhttp is lax
 * where a proxy may not be. So, from RFC 9112: lines end in CRLF (a bare CR
 * or LF is refused: 400), there is no NUL, no obsolete line folding (a
 * line starting with whitespace) and no whitespace between a header's
 * name and its colon (400); a Content-Length is decimal digits, repeated
 * only with the same value (400); Transfer-Encoding is "chunked", once
 * (else 501), and never comes with a Content-Length (400); the request
 * line ends with HTTP/1.1 or HTTP/1.0 (evhttp's version parser overflows
 * on more digits). The head may be at most a given size: past it 414 while
 * still in the request line, 431 after.
 *
 * Only the start of each line is kept (HTTP_HEAD_LINE_KEEP bytes, plus
 * the request line's last 9), so a head costs no memory however long it
 * is; everything else about it is left to evhttp, which parses it again.
 */
#include "autokittehd.h"

#include <string.h>
#include <strings.h>

void
http_head_reset(struct http_head *h)
{
	memset(h, 0, sizeof *h);
}

static int
http_head_refuse(struct http_head *h, int status, const char *why)
{
	h->status = status;
	h->cause = why;
	return HTTP_HEAD_BAD;
}

static int
all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
	}
	return 1;
}

/* The value of a "name: value" line without the whitespace around it. */
static void
head_value(const char *colon, const char *end, const char **v, size_t *n)
{
	const char *p = colon + 1;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*v = p;
	*n = (size_t)(end - p);
}

/* A complete line, without its CRLF. */
static int
http_head_line(struct http_head *h)
{
	size_t kept = h->line_len < sizeof h->line ? h->line_len :
	    sizeof h->line;
	const char *line = h->line, *colon, *v;
	size_t name_len, n;

	if (h->lines == 0) {
		if (h->line_len < sizeof h->tail || (memcmp(h->tail,
		    " HTTP/1.1", 9) != 0 && memcmp(h->tail, " HTTP/1.0",
		    9) != 0))
			return http_head_refuse(h, 400, "the request line "
			    "does not end with HTTP/1.1 or HTTP/1.0");
		return HTTP_HEAD_MORE;
	}
	if (line[0] == ' ' || line[0] == '\t')
		return http_head_refuse(h, 400, "obsolete line folding (a "
		    "header line starting with whitespace)");
	if ((colon = memchr(line, ':', kept)) == NULL)
		return HTTP_HEAD_MORE;	/* no colon, or a long name: evhttp's */
	name_len = (size_t)(colon - line);
	if (name_len == 0 || memchr(line, ' ', name_len) != NULL ||
	    memchr(line, '\t', name_len) != NULL)
		return http_head_refuse(h, 400, "a header name is empty or "
		    "has whitespace before its colon");
	if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		head_value(colon, line + kept, &v, &n);
		if (h->line_len > kept || n == 0 || n >= sizeof h->cl ||
		    !all_digits(v, n))
			return http_head_refuse(h, 400, "Content-Length is not "
			    "a decimal number");
		if (h->ncl++ == 0)
			memcpy(h->cl, v, n);
		else if (strlen(h->cl) != n || memcmp(h->cl, v, n) != 0)
			return http_head_refuse(h, 400, "Content-Length "
			    "headers with different values");
	} else if (name_len == 17 && strncasecmp(line, "Transfer-Encoding",
	    17) == 0) {
		head_value(colon, line + kept, &v, &n);
		if (h->line_len > kept || n != 7 || strncasecmp(v, "chunked",
		    7) != 0 || h->nte++ > 0)
			return http_head_refuse(h, 501, "the only "
			    "Transfer-Encoding accepted is \"chunked\", once");
	}
	return HTTP_HEAD_MORE;
}

/* One byte. */
static int
http_head_byte(struct http_head *h, unsigned char b, size_t limit)
{
	if (++h->bytes > limit)
		return http_head_refuse(h, h->lines == 0 ? 414 : 431,
		    h->lines == 0 ? "the request line is longer than "
		    "http.max_header_size" : "the request headers are larger "
		    "than http.max_header_size");
	if (b == '\0')
		return http_head_refuse(h, 400, "a NUL byte in the request "
		    "head");
	if (h->saw_cr && b != '\n')
		return http_head_refuse(h, 400, "a bare CR in the request "
		    "head (lines end with CRLF)");
	if (b == '\r') {
		h->saw_cr = 1;
		return HTTP_HEAD_MORE;
	}
	if (b != '\n') {
		if (h->line_len < sizeof h->line)
			h->line[h->line_len] = (char)b;
		h->line_len++;
		if (h->lines == 0) {
			memmove(h->tail, h->tail + 1, sizeof h->tail - 1);
			h->tail[sizeof h->tail - 1] = (char)b;
		}
		return HTTP_HEAD_MORE;
	}
	if (!h->saw_cr)
		return http_head_refuse(h, 400, "a bare LF in the request head "
		    "(lines end with CRLF)");
	h->saw_cr = 0;
	if (h->line_len == 0) {
		if (h->lines == 0)
			return HTTP_HEAD_MORE;	/* RFC 9112 2.2: allowed */
		if (h->nte > 0 && h->ncl > 0)
			return http_head_refuse(h, 400, "both Content-Length "
			    "and Transfer-Encoding");
		return HTTP_HEAD_DONE;
	}
	if (http_head_line(h) == HTTP_HEAD_BAD)
		return HTTP_HEAD_BAD;
	h->lines++;
	h->line_len = 0;
	return HTTP_HEAD_MORE;
}

/*
 * Feed n more bytes of the head. HTTP_HEAD_MORE: all used, the head goes
 * on. HTTP_HEAD_DONE: it ended after *used bytes (the rest is the body or
 * the next request). HTTP_HEAD_BAD: refuse the request with h->status and
 * the sentence h->cause. A finished head stays as it ended.
 */
int
http_head_feed(struct http_head *h, const void *data, size_t n,
    size_t limit, size_t *used)
{
	const unsigned char *p = data;
	size_t i;
	int rc = h->status != 0 ? HTTP_HEAD_BAD : h->done ? HTTP_HEAD_DONE :
	    HTTP_HEAD_MORE;

	for (i = 0; i < n && rc == HTTP_HEAD_MORE; i++)
		rc = http_head_byte(h, p[i], limit);
	if (rc == HTTP_HEAD_DONE)
		h->done = 1;
	if (used != NULL)
		*used = i;
	return rc;
}
