/*
 * ctl-client.c: akctl's HTTP client, the one place that talks to autokittehd.
 *
 * A request is a connect-rpc unary call: POST a JSON object to
 * /package.Service/Method over the Unix socket (the default) or over TCP to
 * the --url base. Every failure is turned here into one sentence on stderr
 * and an exit code (1: the daemon said no; 2: it cannot be reached), so the
 * commands never see curl and the user never sees a raw curl error.
 */
#include "akctl.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <curl/curl.h>

#define CTL_CONNECT_TIMEOUT	5L
#define CTL_TOTAL_TIMEOUT	30L
#define CTL_ANSWER_MAX		(16 * 1024 * 1024)

struct ctl_client {
	CURL	*curl;
};

/* The answer's body, kept in memory up to CTL_ANSWER_MAX. */
struct ctl_buffer {
	char	*data;
	size_t	 len;
	size_t	 size;
	int	 too_big;
};

/* One request's curl state, freed in one place. */
struct ctl_request {
	char			*url;
	char			*body;
	char			*authorization;
	struct curl_slist	*headers;
	struct ctl_buffer	 answer;
};

static void ctl_say(int quiet, const char *fmt, ...) AK_PRINTFLIKE(2, 3);

static void
ctl_say(int quiet, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	fputs("akctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static size_t
ctl_buffer_write(char *ptr, size_t size, size_t n, void *arg)
{
	struct ctl_buffer *b = arg;
	size_t len = size * n, want;

	if (b->len + len > CTL_ANSWER_MAX) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + len + 1 > b->size) {
		want = b->size != 0 ? b->size : 4096;
		while (want < b->len + len + 1)
			want *= 2;
		b->data = xreallocarray(b->data, 1, want);
		b->size = want;
	}
	memcpy(b->data + b->len, ptr, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* The socket must exist before curl tries it, so "not running" is clear. */
static int
ctl_socket_check(const char *path, int quiet)
{
	struct stat sb;

	if (stat(path, &sb) == 0) {
		if (S_ISSOCK(sb.st_mode))
			return 0;
		ctl_say(quiet, "%s is not a socket: check --socket or "
		    "AKCTL_SOCKET", path);
	} else if (errno == ENOENT)
		ctl_say(quiet, "autokittehd is not running (no socket at %s)",
		    path);
	else if (errno == EACCES)
		ctl_say(quiet, "permission denied on %s: run akctl as root or "
		    "as a member of group autokitteh", path);
	else
		ctl_say(quiet, "cannot use the socket %s: %s", path,
		    strerror(errno));
	return CTL_EXIT_UNREACHABLE;
}

/* A short lower-case reason for a transfer that failed. */
static void
ctl_failure_reason(CURLcode rc, long oserr, char *buf, size_t size)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		if (oserr != 0) {
			/* "Connection refused" -> "connection refused" */
			snprintf(buf, size, "%s", strerror((int)oserr));
			buf[0] = (char)tolower((unsigned char)buf[0]);
		} else
			snprintf(buf, size, "the connection failed");
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(buf, size, "unknown host");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(buf, size, "no answer within the timeout "
		    "(connect %lds, total %lds)", CTL_CONNECT_TIMEOUT,
		    CTL_TOTAL_TIMEOUT);
		break;
	case CURLE_GOT_NOTHING:
		snprintf(buf, size, "the connection closed without an answer");
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		snprintf(buf, size, "not an http:// or https:// URL");
		break;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(buf, size, "the TLS handshake failed");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(buf, size, "its TLS certificate cannot be verified");
		break;
	default:
		snprintf(buf, size, "the request failed");
		break;
	}
}

static int
ctl_unreachable(struct ctl_context *ctx, CURLcode rc, int quiet)
{
	long oserr = 0;
	char reason[256];

	curl_easy_getinfo(ctx->client->curl, CURLINFO_OS_ERRNO, &oserr);
	if (ctx->url == NULL && rc == CURLE_COULDNT_CONNECT) {
		if (oserr == ECONNREFUSED) {
			ctl_say(quiet, "autokittehd is not running (nothing is "
			    "listening on %s)", ctx->socket_path);
			return CTL_EXIT_UNREACHABLE;
		}
		if (oserr == ENOENT)
			return ctl_socket_check(ctx->socket_path, quiet);
		if (oserr == EACCES || oserr == EPERM) {
			ctl_say(quiet, "permission denied on %s: run akctl as "
			    "root or as a member of group autokitteh",
			    ctx->socket_path);
			return CTL_EXIT_UNREACHABLE;
		}
	}
	ctl_failure_reason(rc, oserr, reason, sizeof reason);
	if (ctx->url != NULL)
		ctl_say(quiet, "cannot reach autokittehd at %s: %s", ctx->url,
		    reason);
	else
		ctl_say(quiet, "cannot reach autokittehd on %s: %s",
		    ctx->socket_path, reason);
	return CTL_EXIT_UNREACHABLE;
}

/* The daemon's words may come from far away: no control characters. */
static char *
ctl_printable(const char *s)
{
	char *copy = xstrdup(s);

	for (char *p = copy; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p))
			*p = '?';
	}
	return copy;
}

/* A non-200 answer: a connect error {"code","message"}, or not. */
static int
ctl_answer_error(long status, const struct ctl_buffer *b, int quiet)
{
	json_t *error = NULL;
	const char *code, *message;
	char *safe;

	if (b->data != NULL)
		error = json_loadb(b->data, b->len, 0, NULL);
	code = json_string_value(json_object_get(error, "code"));
	message = json_string_value(json_object_get(error, "message"));
	if (code != NULL && message != NULL && *message != '\0') {
		safe = ctl_printable(message);
		ctl_say(quiet, "%s", safe);
		free(safe);
	} else
		ctl_say(quiet, "unexpected answer from autokittehd: HTTP %ld",
		    status);
	json_decref(error);
	return CTL_EXIT_ERROR;
}

static int
ctl_answer_ok(const struct ctl_buffer *b, json_t **response, int quiet)
{
	json_t *answer = NULL;

	if (b->data != NULL)
		answer = json_loadb(b->data, b->len, 0, NULL);
	if (!json_is_object(answer)) {
		json_decref(answer);
		ctl_say(quiet, "unexpected answer from autokittehd: not a JSON "
		    "object");
		return CTL_EXIT_ERROR;
	}
	*response = answer;
	return CTL_EXIT_OK;
}

static CURL *
ctl_client_handle(struct ctl_context *ctx)
{
	if (ctx->client == NULL) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatalx("cannot initialise libcurl");
		ctx->client = xcalloc(1, sizeof *ctx->client);
		if ((ctx->client->curl = curl_easy_init()) == NULL)
			fatalx("cannot initialise libcurl");
	} else
		curl_easy_reset(ctx->client->curl);
	return ctx->client->curl;
}

static void
ctl_request_prepare(struct ctl_context *ctx, struct ctl_request *r,
    const char *path, json_t *request)
{
	const char *base = ctx->url != NULL ? ctx->url : "http://localhost";
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	xasprintf(&r->url, "%.*s%s", (int)len, base, path);
	if (request != NULL)
		r->body = json_dumps(request, JSON_COMPACT);
	if (r->body == NULL)
		r->body = xstrdup("{}");
	r->headers = curl_slist_append(r->headers,
	    "Content-Type: application/json");
	r->headers = curl_slist_append(r->headers, "Accept: application/json");
	r->headers = curl_slist_append(r->headers, "Expect:");
	if (ctx->token != NULL) {
		xasprintf(&r->authorization, "Authorization: Bearer %s",
		    ctx->token);
		r->headers = curl_slist_append(r->headers, r->authorization);
	}
	if (r->headers == NULL)
		fatalx("cannot allocate request headers");
}

static void
ctl_request_setup(struct ctl_context *ctx, CURL *curl, struct ctl_request *r)
{
	curl_easy_setopt(curl, CURLOPT_URL, r->url);
	if (ctx->url == NULL)
		curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH,
		    ctx->socket_path);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CTL_CONNECT_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, CTL_TOTAL_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "akctl/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ctl_buffer_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->answer);
}

static void
ctl_request_free(struct ctl_request *r)
{
	free(r->url);
	free(r->body);
	free(r->authorization);
	curl_slist_free_all(r->headers);
	free(r->answer.data);
}

static int
ctl_request(struct ctl_context *ctx, const char *path, json_t *request,
    json_t **response, int quiet)
{
	struct ctl_request r;
	CURL *curl;
	CURLcode rc;
	long status = 0;
	int ret;

	*response = NULL;
	if (ctx->url == NULL &&
	    (ret = ctl_socket_check(ctx->socket_path, quiet)) != 0)
		return ret;
	memset(&r, 0, sizeof r);
	curl = ctl_client_handle(ctx);
	ctl_request_prepare(ctx, &r, path, request);
	ctl_request_setup(ctx, curl, &r);
	log_debug("%s: POST %s", __func__, r.url);

	rc = curl_easy_perform(curl);
	if (rc == CURLE_WRITE_ERROR && r.answer.too_big) {
		ctl_say(quiet, "unexpected answer from autokittehd: larger "
		    "than %d bytes", CTL_ANSWER_MAX);
		ret = CTL_EXIT_ERROR;
	} else if (rc != CURLE_OK)
		ret = ctl_unreachable(ctx, rc, quiet);
	else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200)
			ret = ctl_answer_ok(&r.answer, response, quiet);
		else
			ret = ctl_answer_error(status, &r.answer, quiet);
	}
	ctl_request_free(&r);
	return ret;
}

/*
 * Call method_path (CTL_SYSTEM_STATUS...) with request (NULL for {}). On
 * success return 0 with *response a JSON object the caller must decref;
 * else print why on stderr and return the exit code, 1 or 2.
 */
int
ctl_call(struct ctl_context *ctx, const char *method_path, json_t *request,
    json_t **response)
{
	return ctl_request(ctx, method_path, request, response, 0);
}

/* The same, printing nothing: for optional extras. */
int
ctl_call_quiet(struct ctl_context *ctx, const char *method_path,
    json_t *request, json_t **response)
{
	return ctl_request(ctx, method_path, request, response, 1);
}

void
ctl_client_free(struct ctl_context *ctx)
{
	if (ctx->client == NULL)
		return;
	curl_easy_cleanup(ctx->client->curl);
	free(ctx->client);
	ctx->client = NULL;
	curl_global_cleanup();
}
