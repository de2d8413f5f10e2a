/*
 * value.c: native JSON <-> AutoKitteh's autokitteh.values.v1.Value JSON.
 *
 * The store keeps event data, session inputs and return values as native
 * JSON text. The API answers with Values in their proto3 JSON form:
 *
 *	"hi"		{"string":{"v":"hi"}}
 *	5		{"integer":{"v":"5"}}	(int64 is a JSON string)
 *	1.5		{"float":{"v":1.5}}
 *	true		{"boolean":{"v":true}}
 *	null		{"nothing":{}}
 *	[..]		{"list":{"vs":[..]}}
 *	{"k":..}	{"dict":{"items":[{"k":{"string":{"v":"k"}},"v":..}]}}
 *
 * With json_values (a request flag in AutoKitteh's API) every Value is
 * instead a String Value holding the compact native JSON. jansson bounds
 * the nesting depth of what it parses, so the recursion here is bounded.
 */
#include "autokittehd.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static json_t *
value_kind(const char *kind, json_t *payload)
{
	json_t *v = json_object();

	json_object_set_new(v, kind, payload);
	return v;
}

json_t *
value_from_json(json_t *native)
{
	json_t *list, *items, *elem;
	const char *key;
	char buf[32];
	size_t i;

	switch (native != NULL ? json_typeof(native) : JSON_NULL) {
	case JSON_STRING:
		return value_kind("string", json_pack("{s:s%}", "v",
		    json_string_value(native), json_string_length(native)));
	case JSON_INTEGER:
		snprintf(buf, sizeof buf, "%" PRId64,
		    (int64_t)json_integer_value(native));
		return value_kind("integer", json_pack("{s:s}", "v", buf));
	case JSON_REAL:
		return value_kind("float", json_pack("{s:f}", "v",
		    json_real_value(native)));
	case JSON_TRUE:
	case JSON_FALSE:
		return value_kind("boolean", json_pack("{s:b}", "v",
		    json_is_true(native)));
	case JSON_ARRAY:
		list = json_array();
		json_array_foreach(native, i, elem)
			json_array_append_new(list, value_from_json(elem));
		return value_kind("list", json_pack("{s:o}", "vs", list));
	case JSON_OBJECT:
		items = json_array();
		json_object_foreach(native, key, elem)
			json_array_append_new(items, json_pack("{s:{s:{s:s}}, s:o}",
			    "k", "string", "v", key, "v", value_from_json(elem)));
		return value_kind("dict", json_pack("{s:o}", "items", items));
	case JSON_NULL:
	default:
		return value_kind("nothing", json_object());
	}
}

json_t *
value_json_string(json_t *native)
{
	char *text = native != NULL ? json_dumps(native, JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
	json_t *v;

	v = value_kind("string", json_pack("{s:s}", "v", text != NULL ? text :
	    "null"));
	free(text);
	return v;
}

static json_t *
value_of(json_t *native, int json_values)
{
	return json_values ? value_json_string(native) : value_from_json(native);
}

/* Stored JSON text -> one Value. Text that is not JSON is a String. */
json_t *
value_from_json_text(const char *text, int json_values)
{
	json_t *native, *v;

	if (text == NULL)
		return value_kind("nothing", json_object());
	native = json_loads(text, JSON_DECODE_ANY, NULL);
	if (native == NULL)
		return value_kind("string", json_pack("{s:s}", "v", text));
	v = value_of(native, json_values);
	json_decref(native);
	return v;
}

/*
 * Stored JSON object text -> map<string, Value> (event data, session
 * inputs). Anything but an object becomes an empty map.
 */
json_t *
value_map_from_json_text(const char *text, int json_values)
{
	json_t *native, *map = json_object(), *elem;
	const char *key;

	native = text != NULL ? json_loads(text, 0, NULL) : NULL;
	if (json_is_object(native)) {
		json_object_foreach(native, key, elem)
			json_object_set_new(map, key, value_of(elem,
			    json_values));
	}
	json_decref(native);
	return map;
}

/* Stored JSON object text -> map<string, string> (memos). */
json_t *
value_string_map_from_json_text(const char *text)
{
	json_t *native, *map = json_object(), *elem;
	const char *key;
	char *s;

	native = text != NULL ? json_loads(text, 0, NULL) : NULL;
	if (json_is_object(native)) {
		json_object_foreach(native, key, elem) {
			if (json_is_string(elem)) {
				json_object_set(map, key, elem);
				continue;
			}
			s = json_dumps(elem, JSON_COMPACT | JSON_ENCODE_ANY);
			json_object_set_new(map, key, json_string(s != NULL ?
			    s : ""));
			free(s);
		}
	}
	json_decref(native);
	return map;
}

/* ---- Value -> native JSON ---- */

static json_t *value_native_list(json_t *, int, char **);
static json_t *value_native_dict(json_t *, int, char **);

static json_t *
value_native_list(json_t *v, int json_values, char **why)
{
	json_t *out = json_array(), *elem, *e;
	size_t i;

	json_array_foreach(v, i, elem) {
		if ((e = value_to_native(elem, json_values, why)) == NULL) {
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, e);
	}
	return out;
}

static json_t *
value_native_dict(json_t *v, int json_values, char **why)
{
	json_t *out = json_object(), *elem, *k, *e;
	size_t i;

	json_array_foreach(v, i, elem) {
		k = json_object_get(elem, "k");
		if (k == NULL || (k = value_to_native(k, 0, why)) == NULL ||
		    !json_is_string(k)) {
			if (k != NULL || *why == NULL)
				xasprintf(why, "has a dict key that is not a "
				    "string");
			json_decref(k);
			json_decref(out);
			return NULL;
		}
		e = json_object_get(elem, "v");
		e = e != NULL ? value_to_native(e, json_values, why) : json_null();
		if (e == NULL) {
			json_decref(k);
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, json_string_value(k), e);
		json_decref(k);
	}
	return out;
}

/*
 * An autokitteh.values.v1.Value -> native JSON (new reference), or NULL
 * with *why (a phrase to follow the operand's name: "is not a Value ...").
 * Proto3 JSON omits default fields: {} is "", 0, false or an empty list,
 * as the kind says. With json_values, a String Value holds native JSON
 * text, as in answers to requests with json_values: true.
 */
json_t *
value_to_native(json_t *value, int json_values, char **why)
{
	json_t *kind = NULL, *v, *out;
	const char *name = NULL;
	char *end;
	long long n;
	double d;

	if (!json_is_object(value) || json_object_size(value) != 1) {
		xasprintf(why, "is not a Value (one kind, such as "
		    "{\"string\":{\"v\":\"hi\"}})");
		return NULL;
	}
	json_object_foreach(value, name, kind)
		break;
	if (!json_is_object(kind)) {
		xasprintf(why, "is not a Value: its %s is not an object", name);
		return NULL;
	}
	v = json_object_get(kind, strcmp(name, "list") == 0 ? "vs" :
	    strcmp(name, "dict") == 0 ? "items" : "v");
	if (strcmp(name, "nothing") == 0)
		return json_null();
	if (strcmp(name, "string") == 0) {
		if (v != NULL && !json_is_string(v))
			goto invalid;
		if (!json_values)
			return v != NULL ? json_incref(v) : json_string("");
		out = json_loads(v != NULL ? json_string_value(v) : "",
		    JSON_DECODE_ANY, NULL);
		if (out == NULL)
			xasprintf(why, "is a String Value that does not hold "
			    "JSON (json_values is set)");
		return out;
	}
	if (strcmp(name, "boolean") == 0) {
		if (v == NULL || json_is_boolean(v))
			return json_boolean(json_is_true(v));
	} else if (strcmp(name, "integer") == 0) {
		if (v == NULL)
			return json_integer(0);
		if (json_is_integer(v))
			return json_incref(v);
		if (json_is_string(v) && *json_string_value(v) != '\0') {
			errno = 0;
			n = strtoll(json_string_value(v), &end, 10);
			if (*end == '\0' && errno == 0)
				return json_integer(n);
		}
	} else if (strcmp(name, "float") == 0) {
		if (v == NULL)
			return json_real(0);
		if (json_is_number(v) && isfinite(d = json_number_value(v)))
			return json_real(d);
		if (json_is_string(v)) {
			xasprintf(why, "is a float JSON cannot hold (%.20s)",
			    json_string_value(v));
			return NULL;
		}
	} else if (strcmp(name, "list") == 0) {
		if (v == NULL || json_is_array(v))
			return value_native_list(v, json_values, why);
	} else if (strcmp(name, "dict") == 0) {
		if (v == NULL || json_is_array(v))
			return value_native_dict(v, json_values, why);
	} else {
		xasprintf(why, "is a %.20s Value; only strings, integers, "
		    "floats, booleans, nothing, lists and dicts are accepted",
		    name);
		return NULL;
	}
invalid:
	xasprintf(why, "is not a valid %s Value", name);
	return NULL;
}

