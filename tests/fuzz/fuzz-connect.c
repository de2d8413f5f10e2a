/*
 * fuzz-connect.c: libFuzzer target for Connect request bodies.
 *
 * The input is an HTTP request body, or "/<method path>\n" and the body,
 * which picks that method's field list from the server's table
 * (server-route.c); otherwise a fixed list. It goes where the server sends
 * it: connect_parse_request(), then either the handler's string getters
 * or, on error, connect_error_body() with the cause, since that message
 * goes back to the client and must be JSON whatever bytes it quotes.
 * Requests carry Values (Dispatch's event.data, Start's session.inputs,
 * Mutate's operands): every object and array in an accepted request is
 * also decoded the way the handlers decode those, with and without
 * json_values (value_map_native(), value_to_native()), which must give a
 * result or a cause. Linked with replay.c instead of libFuzzer, it
 * replays the seed corpus in `make check`.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const default_fields[] = {
	"name", "token_id", "project_id", NULL
};

static void
check_native(json_t *native)
{
	char *s = json_dumps(native, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s == NULL)
		abort();
	free(s);
}

/* Decode every object and array under v as handlers decode Values. */
static void
decode_values(json_t *v, int depth)
{
	json_t *elem, *native;
	const char *key;
	char *cause;
	size_t i;

	if (depth > 24 || (!json_is_object(v) && !json_is_array(v)))
		return;
	for (int jv = 0; jv <= 1; jv++) {
		cause = NULL;
		native = value_map_native(v, "field", jv, &cause);
		if ((native == NULL) == (cause == NULL))
			abort();
		if (native != NULL)
			check_native(native);
		json_decref(native);
		free(cause);
		cause = NULL;
		native = value_to_native(v, jv, &cause);
		if ((native == NULL) == (cause == NULL))
			abort();
		if (native != NULL)
			check_native(native);
		json_decref(native);
		free(cause);
	}
	if (json_is_object(v)) {
		json_object_foreach(v, key, elem)
			decode_values(elem, depth + 1);
	} else {
		json_array_foreach(v, i, elem)
			decode_values(elem, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *fields = default_fields;
	const char *body = (const char *)data;
	const struct api_method *m;
	json_t *req, *err;
	char *cause = NULL, *out, *path;
	const uint8_t *nl;

	if (size > 0 && data[0] == '/' &&
	    (nl = memchr(data, '\n', size)) != NULL) {
		path = xstrndup((const char *)data, (size_t)(nl - data));
		m = route_find_method(path);
		free(path);
		if (m == NULL)
			return 0;
		fields = m->fields;
		body = (const char *)nl + 1;
		size -= (size_t)(nl + 1 - data);
	}
	req = connect_parse_request(body, size, fields, &cause);
	if (req == NULL) {
		if (cause == NULL)
			abort();
		out = connect_error_body(CONNECT_INVALID_ARGUMENT, cause);
		if ((err = json_loads(out, 0, NULL)) == NULL ||
		    !json_is_string(json_object_get(err, "message")))
			abort();
		json_decref(err);
		free(out);
		free(cause);
		return 0;
	}
	for (size_t i = 0; fields[i] != NULL; i++)
		(void)connect_get_string(req, fields[i]);
	decode_values(req, 0);
	json_decref(req);
	return 0;
}
