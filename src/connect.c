/*
 * connect.c: the Connect protocol's unary JSON codec.
 *
 * Requests are proto3 JSON objects. We accept a field by its proto name
 * ("token_id") or its lowerCamelCase JSON name ("tokenId"), reject unknown
 * fields as protojson does, and hand handlers an object keyed by proto
 * names. Errors are {"code", "message"} with Connect's code-to-HTTP-status
 * mapping, so AutoKitteh's own clients understand them.
 */
#include "autokittehd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char	*name;
	int		 http_status;
} connect_codes[] = {
	[CONNECT_OK] = { "ok", 200 },
	[CONNECT_CANCELED] = { "canceled", 499 },
	[CONNECT_UNKNOWN] = { "unknown", 500 },
	[CONNECT_INVALID_ARGUMENT] = { "invalid_argument", 400 },
	[CONNECT_DEADLINE_EXCEEDED] = { "deadline_exceeded", 504 },
	[CONNECT_NOT_FOUND] = { "not_found", 404 },
	[CONNECT_ALREADY_EXISTS] = { "already_exists", 409 },
	[CONNECT_PERMISSION_DENIED] = { "permission_denied", 403 },
	[CONNECT_RESOURCE_EXHAUSTED] = { "resource_exhausted", 429 },
	[CONNECT_FAILED_PRECONDITION] = { "failed_precondition", 400 },
	[CONNECT_ABORTED] = { "aborted", 409 },
	[CONNECT_OUT_OF_RANGE] = { "out_of_range", 400 },
	[CONNECT_UNIMPLEMENTED] = { "unimplemented", 501 },
	[CONNECT_INTERNAL] = { "internal", 500 },
	[CONNECT_UNAVAILABLE] = { "unavailable", 503 },
	[CONNECT_DATA_LOSS] = { "data_loss", 500 },
	[CONNECT_UNAUTHENTICATED] = { "unauthenticated", 401 },
};

const char *
connect_code_name(enum connect_code code)
{
	if ((size_t)code >= nitems(connect_codes))
		return "unknown";
	return connect_codes[code].name;
}

int
connect_code_http_status(enum connect_code code)
{
	if ((size_t)code >= nitems(connect_codes))
		return 500;
	return connect_codes[code].http_status;
}

int
connect_code_from_name(const char *name, enum connect_code *code)
{
	for (size_t i = 0; i < nitems(connect_codes); i++) {
		if (strcmp(name, connect_codes[i].name) == 0) {
			*code = (enum connect_code)i;
			return 0;
		}
	}
	return -1;
}

/*
 * A JSON string of s. Messages may quote client input (a parse error shows
 * the offending byte), which need not be UTF-8: replace every byte that is
 * not part of a valid sequence with U+FFFD rather than fail.
 */
static json_t *
json_string_lossy(const char *s)
{
	json_t *j = json_string(s);
	char *fixed, *o;

	if (j != NULL)
		return j;
	o = fixed = xmalloc(strlen(s) * 3 + 1);
	while (*s != '\0') {
		const unsigned char *u = (const unsigned char *)s;
		size_t len = *u < 0x80 ? 1 : (*u & 0xe0) == 0xc0 ? 2 :
		    (*u & 0xf0) == 0xe0 ? 3 : (*u & 0xf8) == 0xf0 ? 4 : 0;
		char one[5] = { 0 };
		size_t i;

		for (i = 1; len > 1 && i < len && (u[i] & 0xc0) == 0x80; i++)
			;
		if (len != 0 && i >= len) {
			memcpy(one, s, len);
			if ((j = json_string(one)) != NULL) {
				json_decref(j);
				memcpy(o, s, len);
				o += len;
				s += len;
				continue;
			}
		}
		memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
		o += 3;
		s++;
	}
	*o = '\0';
	j = json_string(fixed);
	free(fixed);
	return j;
}

/* The error body; the caller frees it. */
char *
connect_error_body(enum connect_code code, const char *message)
{
	json_t *o = json_pack("{s:s, s:o}", "code", connect_code_name(code),
	    "message", json_string_lossy(message));
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (s == NULL)
		fatalx("connect_error_body: out of memory");
	return s;
}

/* "token_id" -> "tokenId" */
static void
camel_name(const char *proto, char *out, size_t size)
{
	size_t o = 0;
	int upper = 0;

	for (; *proto != '\0' && o + 1 < size; proto++) {
		if (*proto == '_') {
			upper = 1;
			continue;
		}
		out[o++] = upper ? (char)toupper((unsigned char)*proto) : *proto;
		upper = 0;
	}
	out[o] = '\0';
}

/*
 * Parse a request body against the method's accepted fields. An empty body
 * is {}. Returns a new object keyed by proto names, or NULL with *cause.
 */
json_t *
connect_parse_request(const char *body, size_t len, const char *const *fields,
    char **cause)
{
	json_error_t err;
	json_t *in, *out, *seen, *value;
	const char *key;
	char camel[128];

	if (len == 0)
		return json_object();
	in = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &err);
	if (in == NULL) {
		xasprintf(cause, "the request body is not valid JSON: %s "
		    "(at byte %d)", err.text, err.position);
		return NULL;
	}
	if (!json_is_object(in)) {
		xasprintf(cause, "the request body must be a JSON object");
		json_decref(in);
		return NULL;
	}
	out = json_object();
	seen = json_object();
	json_object_foreach(in, key, value) {
		const char *proto = NULL;

		for (size_t i = 0; fields != NULL && fields[i] != NULL; i++) {
			camel_name(fields[i], camel, sizeof camel);
			if (strcmp(key, fields[i]) == 0 ||
			    strcmp(key, camel) == 0) {
				proto = fields[i];
				break;
			}
		}
		if (proto == NULL) {
			xasprintf(cause, "unknown field \"%s\" in the request",
			    key);
			goto fail;
		}
		if (json_object_get(seen, proto) != NULL) {
			xasprintf(cause, "field \"%s\" is given twice (as %s "
			    "and its JSON name)", proto, proto);
			goto fail;
		}
		json_object_set_new(seen, proto, json_true());
		if (!json_is_null(value))
			json_object_set(out, proto, value);
	}
	json_decref(in);
	json_decref(seen);
	return out;

fail:
	json_decref(in);
	json_decref(seen);
	json_decref(out);
	return NULL;
}

/* A string field, or NULL when absent; "" counts as absent, as in proto3. */
const char *
connect_get_string(json_t *req, const char *proto_name)
{
	const char *s = json_string_value(json_object_get(req, proto_name));

	return s != NULL && *s != '\0' ? s : NULL;
}
