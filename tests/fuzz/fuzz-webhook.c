/*
 * fuzz-webhook.c: libFuzzer target for incoming HTTP requests that become
 * events: /webhooks/<slug> (webhook.c) and GitHub deliveries
 * (integration-github.c).
 *
 * The input is a request as text: "METHOD URI", then "Name: value" header
 * lines, an empty line and the body (lines end with \n or \r\n). Only the
 * methods evhttp knows are taken, and headers go in through
 * evhttp_add_header(), which refuses what evhttp's parser would. Then:
 *
 * - webhook_event_data() must give the event data or a cause, never both;
 *   the data must survive what the daemon does with it (stored as JSON
 *   text, read back without JSON_ALLOW_NUL into the Values sessions see)
 *   unchanged, carry the method, a /webhooks/ path and the body's bytes.
 * - github_signature_valid() must accept the body's true signature under
 *   a fixed secret, refuse it altered, and accept the header given only
 *   if it is that signature; github_delivery_parse() must give an event
 *   type and delivery id that are short words and a payload object that
 *   survives storage, or a cause.
 *
 * Linked with replay.c instead of libFuzzer, it replays the seed corpus in
 * `make check`.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/queue.h>

#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "fuzz-webhook-secret"

static const char *const methods[] = {
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE",
	"CONNECT", "PATCH",
};

/* Stored as JSON text, read back the way the daemon reads event data. */
static void
check_stored(json_t *data)
{
	char *text = json_dumps(data, JSON_COMPACT);
	json_t *back, *map;

	if (text == NULL)
		abort();
	if ((back = json_loads(text, 0, NULL)) == NULL ||
	    !json_equal(back, data))
		abort();
	map = value_map_from_json_text(text, 0);
	if (json_object_size(map) != json_object_size(data))
		abort();
	json_decref(map);
	json_decref(back);
	free(text);
}

static void
check_webhook(const char *method, const char *uri,
    const struct evkeyvalq *hdrs, const uint8_t *body, size_t len)
{
	json_t *data, *b;
	char *cause = NULL;
	const char *path, *bytes;

	data = webhook_event_data(method, uri, hdrs, body, len, &cause);
	if ((data == NULL) == (cause == NULL))
		abort();
	if (data == NULL) {
		if (*cause == '\0')
			abort();
		free(cause);
		return;
	}
	if (strcmp(json_string_value(json_object_get(data, "method")),
	    method) != 0)
		abort();
	path = json_string_value(json_object_get(json_object_get(data, "url"),
	    "path"));
	if (path == NULL || strncmp(path, "/webhooks/", 10) != 0)
		abort();
	b = json_object_get(data, "body");
	bytes = json_string_value(json_object_get(b, "bytes"));
	if ((bytes == NULL) != (len == 0))
		abort();
	if (bytes != NULL) {
		size_t blen = strlen(bytes);
		unsigned char *dec = xmalloc(blen / 4 * 3 + 1);
		int n = EVP_DecodeBlock(dec, (const unsigned char *)bytes,
		    (int)blen);

		/* DecodeBlock keeps the padding's zero bytes. */
		if (n < 0 || (size_t)n < len || (size_t)n > len + 2 ||
		    memcmp(dec, body, len) != 0)
			abort();
		free(dec);
	}
	check_stored(data);
	json_decref(data);
}

static void
check_github(const struct evkeyvalq *hdrs, const uint8_t *body, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char sig[8 + 64 + 1], type[GITHUB_MAX_EVENT_TYPE + 1] = "";
	char delivery[GITHUB_MAX_DELIVERY + 1] = "", *cause = NULL;
	const char *given;
	json_t *data;
	char first;

	if (HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
	    len > 0 ? body : (const uint8_t *)"", len, mac, &mac_len) ==
	    NULL || mac_len != 32)
		abort();
	memcpy(sig, "sha256=", 7);
	for (unsigned int i = 0; i < mac_len; i++)
		snprintf(sig + 7 + 2 * i, 3, "%02x", mac[i]);
	if (!github_signature_valid(sig, body, len, SECRET) ||
	    github_signature_valid(sig, body, len, "") ||
	    github_signature_valid(sig, body, len, SECRET "x"))
		abort();
	first = sig[7];
	sig[7] = first == '0' ? '1' : '0';
	if (github_signature_valid(sig, body, len, SECRET))
		abort();
	sig[7] = first;
	given = evhttp_find_header(hdrs, "X-Hub-Signature-256");
	if (github_signature_valid(given, body, len, SECRET) &&
	    strcasecmp(given, sig) != 0)
		abort();

	data = github_delivery_parse(hdrs, body, len, type, delivery, &cause);
	if ((data == NULL) == (cause == NULL))
		abort();
	if (data == NULL) {
		if (*cause == '\0')
			abort();
		free(cause);
		return;
	}
	if (!json_is_object(data) || *type == '\0' || *delivery == '\0' ||
	    strspn(type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") != strlen(type))
		abort();
	check_stored(data);
	json_decref(data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evkeyvalq hdrs;
	const uint8_t *body = NULL;
	size_t head_len = size, len = 0;
	char *head, *line, *next, *sp, *colon, *value;
	const char *method = NULL;

	if (size > 65536)
		return 0;
	/* The head ends at the first empty line; the body is the rest. */
	for (size_t i = 0; i < size; i++) {
		if (data[i] != '\n')
			continue;
		if (i + 1 < size && data[i + 1] == '\n') {
			head_len = i + 1;
			body = data + i + 2;
			break;
		}
		if (i + 2 < size && data[i + 1] == '\r' &&
		    data[i + 2] == '\n') {
			head_len = i + 1;
			body = data + i + 3;
			break;
		}
	}
	if (body != NULL)
		len = size - (size_t)(body - data);
	head = xstrndup((const char *)data, head_len);

	/* The request line. */
	line = head;
	if ((next = strchr(line, '\n')) != NULL)
		*next++ = '\0';
	line[strcspn(line, "\r")] = '\0';
	if ((sp = strchr(line, ' ')) == NULL) {
		free(head);
		return 0;
	}
	*sp = '\0';
	for (size_t i = 0; i < nitems(methods); i++) {
		if (strcmp(line, methods[i]) == 0)
			method = methods[i];
	}
	if (method == NULL) {
		free(head);
		return 0;
	}

	TAILQ_INIT(&hdrs);
	while ((line = next) != NULL && *line != '\0') {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		value = colon + 1 + strspn(colon + 1, " \t");
		(void)evhttp_add_header(&hdrs, line, value);
	}

	check_webhook(method, sp + 1, &hdrs, body, len);
	check_github(&hdrs, body, len);
	evhttp_clear_headers(&hdrs);
	free(head);
	return 0;
}
