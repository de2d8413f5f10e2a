/*
 * fuzz-cel.c: libFuzzer target for the CEL subset of filters (src/cel.c).
 *
 * The input is an expression: cel_parse() must accept it or say
 * "column N: ..." (or that it is too long), never crash, leak or recurse
 * without bound; an accepted expression is evaluated against a fixed,
 * kittehub-like event and must give a value or a cause, and
 * cel_filter_matches() must agree with it. Linked with replay.c instead of
 * libFuzzer, it replays the seed corpus in `make check`.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *
event(void)
{
	static json_t *data;

	if (data == NULL)
		data = json_loads("{\"url\": {\"path\": \"/api/meow\", "
		    "\"query\": {\"q\": \"x\"}}, \"type\": \"view_submission\", "
		    "\"text\": \"roomstatus 42 open\", \"body\": {\"json\": "
		    "{\"n\": 5, \"f\": 2.5, \"list\": [1, 2, 3]}}, "
		    "\"items\": [\"a\", \"b\"], \"headers\": {\"Content-Type\": "
		    "\"application/json\"}, \"big\": 9223372036854775807, "
		    "\"small\": -9223372036854775808, \"nothing\": null, "
		    "\"flag\": true, \"uni\": \"h\\u00e9llo\", \"empty\": \"\"}",
		    0, NULL);
	if (data == NULL)
		abort();
	return data;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cel_expr *e;
	char *src, *cause = NULL;
	json_t *v;
	int rc;

	if (size > 8192)
		return 0;
	src = malloc(size + 1);
	if (src == NULL)
		abort();
	memcpy(src, data, size);
	src[size] = '\0';

	if ((e = cel_parse(src, &cause)) == NULL) {
		/* Every refusal says where, or why not at all. */
		if (cause == NULL || (strncmp(cause, "column ", 7) != 0 &&
		    strncmp(cause, "the expression is longer", 24) != 0))
			abort();
		free(cause);
		cause = NULL;
		if (cel_filter_matches(src, event(), "post", &cause) != -1 ||
		    cause == NULL)
			abort();
		free(cause);
		free(src);
		return 0;
	}
	v = cel_eval(e, event(), "post", &cause);
	cel_free(e);
	if ((v == NULL) == (cause == NULL))
		abort();
	free(cause);
	cause = NULL;
	rc = cel_filter_matches(src, event(), "post", &cause);
	if (v != NULL && json_is_boolean(v) ? rc != json_is_true(v) :
	    rc != -1 || cause == NULL)
		abort();
	free(cause);
	json_decref(v);
	free(src);
	return 0;
}
