/*
 * tests/bench/load: an open-loop HTTP load generator (docs/BENCHMARKS.md).
 *
 * Sends requests at a constant rate, whatever the server does: request i
 * is due at start + i / rate, and its latency is measured from that
 * intended time, not from when a connection was free to send it. A server
 * that stalls therefore shows the stall in the latency of every request
 * that should have been sent meanwhile, instead of hiding it by slowing the
 * client down ("coordinated omission"). Requests go out on kept-alive
 * HTTP/1.1 connections, one request per connection at a time; a due
 * request with no idle connection opens a new one, up to --conns, after
 * which it waits (and its wait counts).
 *
 * With --rate it runs one step; with --find it steps the rate up (doubling)
 * until a step misses, then bisects between the last rate held and the
 * first missed. A step is held when every request answered the expected
 * status and the p99 latency is within --p99-ms; with --drain-unix SOCK
 * also when the daemon's queue (SystemService/Status: sessions created +
 * running) is back to where it was within --drain-max seconds of the
 * step's end, so a rate whose sessions pile up is not counted as held.
 *
 * --report S prints, every S seconds, a JSON line with the latencies of
 * that interval's answers (for tests/bench/soak); the final summary is one
 * JSON line with --json.
 *
 * Not a test. libevent for the loop, jansson for the status answers.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <jansson.h>

enum parse { P_STATUS, P_HEADERS, P_BODY, P_CHUNK_SIZE, P_CHUNK_DATA,
	P_TRAILER, P_UNTIL_EOF };

struct conn {
	struct bufferevent	*bev;
	int			 connected;
	int			 busy;
	uint64_t		 req;		/* index of the request in flight */
	enum parse		 state;
	int			 status;
	long			 left;		/* body or chunk bytes to come */
	int			 chunked;
	int			 close_after;
	struct conn		*next_idle;
	struct conn		*prev, *next;	/* all connections */
};

struct step {
	double			 rate;
	uint64_t		 total;		/* requests in the step */
	uint64_t		 warmup;	/* first requests not counted */
	uint64_t		 sent, done, errors, bad_status, counted;
	int			 first_bad;
	uint64_t		*lat;		/* ns, per request index */
	uint64_t		 start;		/* CLOCK_MONOTONIC ns */
	uint64_t		 end;		/* last answer */
	double			 p50, p90, p99, max;	/* ms */
	double			 drain;		/* s, -1 if not measured */
	double			 achieved;	/* answers/s over the step */
	int			 held;
};

static struct {
	const char	*host;
	int		 port;
	const char	*unix_path;
	const char	*path;
	const char	*method;
	const char	*body;
	char		*headers;
	int		 expect;
	double		 seconds;
	double		 warmup;
	double		 rate;
	int		 find;
	double		 start_rate, max_rate;
	double		 p99_ms;
	int		 max_conns;
	const char	*drain_unix;
	double		 drain_max;
	double		 report;
	int		 json;
	int		 quiet;
} opt = {
	.method = "POST", .body = "{}", .expect = 0, .seconds = 5,
	.warmup = 1, .start_rate = 50, .max_rate = 100000, .p99_ms = 50,
	.max_conns = 512, .drain_max = 2,
};

static struct event_base *base;
static struct event	*ticker;
static struct conn	*conns, *idle;
static int		 nconns;
static struct step	*cur;
static char		*request;
static size_t		 request_len;
static uint64_t		 connect_errors;

/* --report: the answers of the current interval. */
static struct event	*reporter;
static uint64_t		*window;
static size_t		 nwindow, window_cap;
static uint64_t		 window_errors, window_bad;

static void dispatch(void);

static void
fatalx(const char *fmt, ...)
{
	va_list ap;

	fputs("load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static uint64_t
intended(uint64_t i)
{
	return cur->start + (uint64_t)((double)i * 1e9 / cur->rate);
}

static void
conn_free(struct conn *c)
{
	struct conn **pp;

	for (pp = &idle; *pp != NULL; pp = &(*pp)->next_idle) {
		if (*pp == c) {
			*pp = c->next_idle;
			break;
		}
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
	nconns--;
}

static void
request_done(struct conn *c, int ok)
{
	uint64_t t = now_ns();

	c->busy = 0;
	if (cur != NULL && c->req < cur->total) {
		cur->done++;
		cur->end = t;
		if (!ok)
			cur->errors++;
		else if (opt.expect ? c->status != opt.expect :
		    (c->status < 200 || c->status > 299)) {
			cur->bad_status++;
			if (cur->first_bad == 0)
				cur->first_bad = c->status;
		}
		/* 0 marks "not answered". */
		cur->lat[c->req] = t > intended(c->req) ?
		    t - intended(c->req) : 1;
		if (opt.report > 0) {
			if (nwindow == window_cap) {
				window_cap = window_cap ? window_cap * 2 : 4096;
				window = realloc(window,
				    window_cap * sizeof *window);
				if (window == NULL)
					fatalx("out of memory");
			}
			window[nwindow++] = cur->lat[c->req];
			if (!ok)
				window_errors++;
			else if (opt.expect ? c->status != opt.expect :
			    (c->status < 200 || c->status > 299))
				window_bad++;
		}
	}
}

static void
conn_idle(struct conn *c)
{
	c->next_idle = idle;
	idle = c;
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	for (;;) {
		if (!c->busy) {
			/* Nothing asked: drop it (there should be nothing). */
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		switch (c->state) {
		case P_STATUS:
		case P_HEADERS:
		case P_CHUNK_SIZE:
		case P_TRAILER:
			line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
			if (line == NULL)
				return;
			if (c->state == P_STATUS) {
				if (sscanf(line, "HTTP/%*d.%*d %d", &c->status) != 1)
					c->status = 0;
				c->left = -1;
				c->chunked = c->close_after = 0;
				if (strncmp(line, "HTTP/1.0", 8) == 0)
					c->close_after = 1;
				c->state = P_HEADERS;
			} else if (c->state == P_HEADERS && n > 0) {
				if (strncasecmp(line, "Content-Length:", 15) == 0)
					c->left = strtol(line + 15, NULL, 10);
				else if (strncasecmp(line, "Transfer-Encoding:",
				    18) == 0 && strstr(line, "chunked") != NULL)
					c->chunked = 1;
				else if (strncasecmp(line, "Connection:", 11) ==
				    0 && strcasestr(line, "close") != NULL)
					c->close_after = 1;
			} else if (c->state == P_HEADERS) {
				if (c->chunked)
					c->state = P_CHUNK_SIZE;
				else if (c->left >= 0)
					c->state = P_BODY;
				else
					c->state = P_UNTIL_EOF;
			} else if (c->state == P_CHUNK_SIZE) {
				c->left = strtol(line, NULL, 16);
				c->state = c->left == 0 ? P_TRAILER :
				    P_CHUNK_DATA;
			} else if (n == 0) {	/* P_TRAILER: end */
				free(line);
				goto complete;
			}
			free(line);
			break;
		case P_BODY:
			n = evbuffer_get_length(in);
			if ((long)n < c->left)
				return;
			evbuffer_drain(in, c->left);
			goto complete;
		case P_CHUNK_DATA:
			if ((long)evbuffer_get_length(in) < c->left + 2)
				return;
			evbuffer_drain(in, c->left + 2);
			c->state = P_CHUNK_SIZE;
			break;
		case P_UNTIL_EOF:
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
	}
complete:
	request_done(c, 1);
	if (c->close_after) {
		conn_free(c);
	} else
		conn_idle(c);
	dispatch();
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		c->connected = 1;
		if (opt.unix_path == NULL)
			setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
			    TCP_NODELAY, &one, sizeof one);
		conn_idle(c);
		dispatch();
		return;
	}
	/* EOF or error. */
	if (c->busy)
		request_done(c, c->state == P_UNTIL_EOF);
	else if (!c->connected)
		connect_errors++;
	conn_free(c);
	dispatch();
}

static void
conn_new(void)
{
	struct conn *c = calloc(1, sizeof *c);
	int r;

	if (c == NULL)
		fatalx("out of memory");
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (opt.unix_path != NULL) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof sun.sun_path, "%s",
		    opt.unix_path);
		r = bufferevent_socket_connect(c->bev,
		    (struct sockaddr *)&sun, sizeof sun);
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET,
		    .sin_port = htons(opt.port) };

		if (evutil_inet_pton(AF_INET, opt.host, &sin.sin_addr) != 1)
			fatalx("%s: not an IPv4 address", opt.host);
		r = bufferevent_socket_connect(c->bev,
		    (struct sockaddr *)&sin, sizeof sin);
	}
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	nconns++;
	if (r != 0) {
		connect_errors++;
		conn_free(c);
	}
}

/* Send every due request that has a connection; open more if allowed. */
static void
dispatch(void)
{
	uint64_t t, due;
	int pending = 0;

	if (cur == NULL)
		return;
	t = now_ns();
	due = t < cur->start ? 0 :
	    (uint64_t)((double)(t - cur->start) * cur->rate / 1e9) + 1;
	if (due > cur->total)
		due = cur->total;
	while (cur->sent < due) {
		struct conn *c = idle;

		if (c == NULL) {
			pending = due - cur->sent;
			break;
		}
		idle = c->next_idle;
		c->busy = 1;
		c->state = P_STATUS;
		c->req = cur->sent++;
		bufferevent_write(c->bev, request, request_len);
	}
	/* Connections still connecting will take some of the pending. */
	for (struct conn *c = conns; c != NULL && pending > 0; c = c->next)
		if (!c->connected)
			pending--;
	while (pending-- > 0 && nconns < opt.max_conns)
		conn_new();
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	dispatch();
	if (cur->done >= cur->total ||
	    now_ns() > intended(cur->total) + 10000000000ULL)
		event_base_loopbreak(base);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(uint64_t *v, uint64_t n, double p)
{
	uint64_t k;

	if (n == 0)
		return NAN;
	k = (uint64_t)ceil(p / 100 * (double)n);
	k = k == 0 ? 0 : k - 1;
	if (k >= n)
		k = n - 1;
	return (double)v[k] / 1e6;
}

/* One blocking connect-rpc call over a Unix socket; the parsed answer. */
static json_t *
unix_call(const char *sock, const char *method, const char *body)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *req, buf[65536];
	size_t len = 0;
	ssize_t r;
	int fd, n;
	json_t *j = NULL;
	char *p;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return NULL;
	}
	n = asprintf(&req, "POST /%s HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", method, strlen(body), body);
	if (n < 0 || write(fd, req, n) != n) {
		free(req);
		close(fd);
		return NULL;
	}
	free(req);
	while (len < sizeof buf - 1 &&
	    (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += r;
	close(fd);
	buf[len] = '\0';
	if ((p = strstr(buf, "\r\n\r\n")) != NULL)
		j = json_loads(p + 4, 0, NULL);
	return j;
}

/* Sessions the daemon has yet to finish: created + running. */
static long
queue_depth(void)
{
	json_t *j = unix_call(opt.drain_unix,
	    "autokitteh.system.v1.SystemService/Status", "{}");
	json_t *s;
	long n = -1;

	if (j != NULL && (s = json_object_get(j, "sessions")) != NULL)
		n = json_integer_value(json_object_get(s, "created")) +
		    json_integer_value(json_object_get(s, "running"));
	json_decref(j);
	return n;
}

/*
 * --report S: every S seconds one JSON line on stdout with the latencies
 * (from the intended send time) of the answers received in that interval,
 * and the requests due but not yet answered.
 */
static void
report_tick(evutil_socket_t fd, short what, void *arg)
{
	uint64_t t = now_ns(), due;

	qsort(window, nwindow, sizeof *window, cmp_u64);
	due = t < cur->start ? 0 :
	    (uint64_t)((double)(t - cur->start) * cur->rate / 1e9) + 1;
	if (due > cur->total)
		due = cur->total;
	if (due < cur->done)
		due = cur->done;
	printf("{\"t\":%.1f,\"answers\":%zu,\"errors\":%llu,"
	    "\"bad_status\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
	    "\"max_ms\":%.3f,\"outstanding\":%llu}\n",
	    (double)(t - cur->start) / 1e9, nwindow,
	    (unsigned long long)window_errors,
	    (unsigned long long)window_bad, pct(window, nwindow, 50),
	    pct(window, nwindow, 99),
	    nwindow ? (double)window[nwindow - 1] / 1e6 : NAN,
	    (unsigned long long)(due - cur->done));
	fflush(stdout);
	nwindow = 0;
	window_errors = window_bad = 0;
}

static void
run_step(struct step *s, double rate)
{
	long q0 = 0, q;
	uint64_t t0, n;
	struct timeval tv = { 0, 1000 };

	memset(s, 0, sizeof *s);
	s->rate = rate;
	s->total = (uint64_t)ceil(rate * (opt.seconds + opt.warmup));
	if (s->total < 1)
		s->total = 1;
	s->warmup = (uint64_t)(rate * opt.warmup);
	if (s->warmup >= s->total)
		s->warmup = 0;
	s->lat = calloc(s->total, sizeof *s->lat);
	if (s->lat == NULL)
		fatalx("out of memory");
	s->drain = -1;
	if (opt.drain_unix != NULL && (q0 = queue_depth()) < 0)
		fatalx("%s: no SystemService/Status answer", opt.drain_unix);
	connect_errors = 0;
	cur = s;
	s->start = now_ns() + 1000000;
	event_add(ticker, &tv);
	if (opt.report > 0) {
		struct timeval rtv = { (time_t)opt.report,
		    (suseconds_t)((opt.report - (time_t)opt.report) * 1e6) };

		nwindow = 0;
		window_errors = window_bad = 0;
		event_add(reporter, &rtv);
	}
	event_base_dispatch(base);
	event_del(ticker);
	if (opt.report > 0)
		event_del(reporter);
	/* Anything not answered within 10 s of the end failed. */
	for (uint64_t i = 0; i < s->total; i++)
		if (s->lat[i] == 0)
			s->lat[i] = now_ns() - intended(i);
	s->errors += s->total - s->done;
	/* Drop connections with a request still in flight. */
	for (struct conn *c = conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->busy || !c->connected)
			conn_free(c);
	}
	cur = NULL;
	n = s->total - s->warmup;
	qsort(s->lat + s->warmup, n, sizeof *s->lat, cmp_u64);
	s->counted = n;
	s->p50 = pct(s->lat + s->warmup, n, 50);
	s->p90 = pct(s->lat + s->warmup, n, 90);
	s->p99 = pct(s->lat + s->warmup, n, 99);
	s->max = (double)s->lat[s->total - 1] / 1e6;
	s->achieved = s->end > s->start ?
	    (double)s->done / ((double)(s->end - s->start) / 1e9) : 0;
	s->held = s->errors == 0 && s->bad_status == 0 &&
	    s->p99 <= opt.p99_ms;
	if (opt.drain_unix != NULL) {
		t0 = now_ns();
		for (;;) {
			q = queue_depth();
			if (q >= 0 && q <= q0)
				break;
			if (now_ns() - t0 > (uint64_t)(opt.drain_max * 1e9) +
			    30000000000ULL)
				break;
			usleep(20000);
		}
		s->drain = (double)(now_ns() - t0) / 1e9;
		if (s->drain > opt.drain_max)
			s->held = 0;
	}
	free(s->lat);
	s->lat = NULL;
	if (!opt.quiet) {
		fprintf(stderr, "load: %8.1f/s: %6llu sent, %llu errors, "
		    "%llu bad status", rate, (unsigned long long)s->sent,
		    (unsigned long long)s->errors,
		    (unsigned long long)s->bad_status);
		if (s->first_bad)
			fprintf(stderr, " (first %d)", s->first_bad);
		fprintf(stderr, "; latency ms p50 %.2f p90 %.2f p99 %.2f "
		    "max %.2f; %.1f answers/s", s->p50, s->p90, s->p99,
		    s->max, s->achieved);
		if (s->drain >= 0)
			fprintf(stderr, "; queue drained in %.2f s", s->drain);
		fprintf(stderr, " -> %s\n", s->held ? "held" : "missed");
	}
	/* Let the server settle before the next step. */
	usleep(500000);
}

static json_t *
step_json(const struct step *s)
{
	json_t *j = json_pack("{s:f, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, "
	    "s:b}", "rate", s->rate, "sent", (json_int_t)s->sent,
	    "errors", (json_int_t)s->errors,
	    "bad_status", (json_int_t)s->bad_status, "p50_ms", s->p50,
	    "p90_ms", s->p90, "p99_ms", s->p99, "max_ms", s->max,
	    "answers_per_s", s->achieved, "held", s->held);

	if (s->drain >= 0)
		json_object_set_new(j, "drain_s", json_real(s->drain));
	return j;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: load {--url http://IP:PORT/PATH | --unix SOCKET --path PATH}\n"
"            {--rate R | --find [--start R] [--max R]} [--seconds S]\n"
"            [--warmup S] [--p99-ms MS] [--method M] [--body TEXT]\n"
"            [--header 'Name: value']... [--expect STATUS] [--conns N]\n"
"            [--drain-unix SOCKET] [--drain-max S] [--report S] [--json]\n"
"            [--quiet]\n");
	exit(2);
}

static double
number(const char *s, const char *what, double min)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= min))
		fatalx("%s: %s is not a number >= %g", what, s, min);
	return v;
}

static void
parse_url(const char *url)
{
	static char host[64];
	const char *p, *slash, *colon;

	if (strncmp(url, "http://", 7) != 0)
		fatalx("%s: only http://IP:PORT/PATH URLs", url);
	p = url + 7;
	slash = strchr(p, '/');
	colon = strchr(p, ':');
	if (slash == NULL || colon == NULL || colon > slash ||
	    (size_t)(colon - p) >= sizeof host)
		fatalx("%s: expected http://IP:PORT/PATH", url);
	memcpy(host, p, colon - p);
	host[colon - p] = '\0';
	opt.host = host;
	opt.port = (int)number(strndup(colon + 1, slash - colon - 1),
	    "port", 1);
	opt.path = slash;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "unix", required_argument, NULL, 'U' },
		{ "path", required_argument, NULL, 'P' },
		{ "method", required_argument, NULL, 'm' },
		{ "body", required_argument, NULL, 'b' },
		{ "header", required_argument, NULL, 'H' },
		{ "expect", required_argument, NULL, 'e' },
		{ "rate", required_argument, NULL, 'r' },
		{ "find", no_argument, NULL, 'f' },
		{ "start", required_argument, NULL, 's' },
		{ "max", required_argument, NULL, 'M' },
		{ "seconds", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "p99-ms", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "drain-unix", required_argument, NULL, 'D' },
		{ "drain-max", required_argument, NULL, 'd' },
		{ "report", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	struct step s, best = { 0 };
	json_t *steps = json_array(), *out;
	double lo = 0, hi = 0, r;
	int ch, have_best = 0;
	size_t hlen = 0;

	opt.headers = calloc(1, 1);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': parse_url(optarg); break;
		case 'U': opt.unix_path = optarg; break;
		case 'P': opt.path = optarg; break;
		case 'm': opt.method = optarg; break;
		case 'b': opt.body = optarg; break;
		case 'H':
			if (strchr(optarg, ':') == NULL)
				fatalx("--header %s: expected 'Name: value'",
				    optarg);
			opt.headers = realloc(opt.headers,
			    hlen + strlen(optarg) + 3);
			hlen += sprintf(opt.headers + hlen, "%s\r\n", optarg);
			break;
		case 'e': opt.expect = (int)number(optarg, "--expect", 100);
			break;
		case 'r': opt.rate = number(optarg, "--rate", 0.001); break;
		case 'f': opt.find = 1; break;
		case 's': opt.start_rate = number(optarg, "--start", 0.001);
			break;
		case 'M': opt.max_rate = number(optarg, "--max", 0.001); break;
		case 't': opt.seconds = number(optarg, "--seconds", 0.1);
			break;
		case 'w': opt.warmup = number(optarg, "--warmup", 0); break;
		case 'p': opt.p99_ms = number(optarg, "--p99-ms", 0); break;
		case 'c': opt.max_conns = (int)number(optarg, "--conns", 1);
			break;
		case 'D': opt.drain_unix = optarg; break;
		case 'd': opt.drain_max = number(optarg, "--drain-max", 0);
			break;
		case 'R': opt.report = number(optarg, "--report", 0.1);
			break;
		case 'j': opt.json = 1; break;
		case 'q': opt.quiet = 1; break;
		default: usage();
		}
	}
	if (optind != argc || opt.path == NULL || opt.path[0] != '/' ||
	    (opt.host == NULL) == (opt.unix_path == NULL) ||
	    (opt.rate > 0) == opt.find)
		usage();
	if (opt.unix_path != NULL && strlen(opt.unix_path) >=
	    sizeof ((struct sockaddr_un *)0)->sun_path)
		fatalx("%s: socket path too long", opt.unix_path);

	request_len = (size_t)asprintf(&request, "%s %s HTTP/1.1\r\n"
	    "Host: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n%s\r\n%s", opt.method, opt.path,
	    opt.host != NULL ? opt.host : "localhost", strlen(opt.body),
	    opt.headers, opt.body);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	ticker = event_new(base, -1, EV_PERSIST, tick, NULL);
	reporter = event_new(base, -1, EV_PERSIST, report_tick, NULL);

	if (!opt.find) {
		run_step(&s, opt.rate);
		json_array_append_new(steps, step_json(&s));
		best = s;
		have_best = s.held;
	} else {
		/* Double until a step misses, then bisect to within 10%. */
		for (r = opt.start_rate; r <= opt.max_rate; r *= 2) {
			run_step(&s, r);
			json_array_append_new(steps, step_json(&s));
			if (!s.held) {
				hi = r;
				break;
			}
			lo = r;
			best = s;
			have_best = 1;
		}
		if (hi == 0 && lo > 0 && lo < opt.max_rate) {
			run_step(&s, opt.max_rate);
			json_array_append_new(steps, step_json(&s));
			if (s.held) {
				best = s;
				lo = opt.max_rate;
			} else
				hi = opt.max_rate;
		}
		if (lo == 0 && hi > 0) {
			/* The start missed: halve down to a rate held. */
			for (r = hi / 2; r >= 0.5; r /= 2) {
				run_step(&s, r);
				json_array_append_new(steps, step_json(&s));
				if (s.held) {
					lo = r;
					best = s;
					have_best = 1;
					break;
				}
				hi = r;
			}
		}
		while (lo > 0 && hi > 0 && hi / lo > 1.1) {
			r = sqrt(lo * hi);
			run_step(&s, r);
			json_array_append_new(steps, step_json(&s));
			if (s.held) {
				lo = r;
				best = s;
			} else
				hi = r;
		}
	}
	out = json_pack("{s:o, s:f, s:f}", "steps", steps, "p99_limit_ms",
	    opt.p99_ms, "best_rate", have_best ? best.rate : 0.0);
	if (have_best)
		json_object_set_new(out, "best", step_json(&best));
	if (opt.json) {
		char *text = json_dumps(out, JSON_COMPACT);

		printf("%s\n", text);
		free(text);
	} else if (opt.find)
		printf("highest rate held with p99 <= %g ms: %.1f/s\n",
		    opt.p99_ms, have_best ? best.rate : 0.0);
	json_decref(out);
	while (conns != NULL)
		conn_free(conns);
	event_free(ticker);
	event_free(reporter);
	free(window);
	event_base_free(base);
	free(request);
	free(opt.headers);
	return have_best ? 0 : 1;
}
