/*
 * api-token.c: autokitteh.system.v1.TokensService: Create, List, Revoke.
 *
 * The secret is returned once, by Create, and only its hash is written.
 * Create and Revoke answer after their write has committed.
 */
#include "autokittehd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const api_token_create_fields[] = { "name", NULL };
const char *const api_token_list_fields[] = { NULL };
const char *const api_token_revoke_fields[] = { "token_id", NULL };

struct token_new {
	char	 id[80];
	char	 name[80];
	char	 hash[TOKEN_HASH_LEN + 1];
	int64_t	 created_at;
};

static int
token_create_write(struct store *s, void *arg, char **cause)
{
	struct token_new *t = arg;

	return token_insert(s, t->id, t->name, t->hash, t->created_at, cause);
}

static int
token_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isprint((unsigned char)name[i]))
			return 0;
	}
	return 1;
}

void
api_token_create(struct api_call *call, json_t *req)
{
	struct token_new t;
	char secret[128];
	const char *name;
	json_t *out;

	if (api_string_field(call, req, "name", &name) != 0)
		return;
	if (name != NULL && *name != '\0' && !token_name_valid(name)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "a token name is 1 to "
		    "64 printable characters");
		return;
	}
	memset(&t, 0, sizeof t);
	snprintf(t.name, sizeof t.name, "%s", name != NULL ? name : "");
	if (typeid_new("tok", t.id, sizeof t.id) != 0 ||
	    token_generate(secret, sizeof secret) != 0) {
		api_error(call, CONNECT_INTERNAL, "cannot get random bytes for "
		    "a token");
		return;
	}
	token_hash(secret, t.hash);
	t.created_at = (int64_t)time(NULL);
	out = json_pack("{s:{s:s, s:s, s:o}, s:s}", "token", "token_id", t.id,
	    "name", t.name, "created_at", timestamp_json(t.created_at),
	    "secret", secret);
	/* The write runs now, inside the batch; t may live on our stack. */
	if (api_write(call, token_create_write, &t, out) == 0)
		log_notice("token %s (%s) created", t.id, t.name);
}

void
api_token_list(struct api_call *call, json_t *req)
{
	json_t *list = token_list(server_store(api_server(call)));

	if (list == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the tokens");
		return;
	}
	api_reply(call, json_pack("{s:o}", "tokens", list));
}

struct token_revoke_arg {
	const char	*id;
	int		 found;
};

static int
token_revoke_write(struct store *s, void *arg, char **cause)
{
	struct token_revoke_arg *r = arg;
	int rc = token_revoke(s, r->id, cause);

	if (rc < 0)
		return -1;
	r->found = rc;
	return 0;
}

void
api_token_revoke(struct api_call *call, json_t *req)
{
	struct token_revoke_arg r = { NULL, 0 };

	if (api_string_field(call, req, "token_id", &r.id) != 0)
		return;
	if (r.id == NULL || *r.id == '\0') {
		api_error(call, CONNECT_INVALID_ARGUMENT, "token_id is "
		    "required: see 'akctl token list'");
		return;
	}
	if (typeid_check(r.id, "tok") != 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "\"%s\" is not a "
		    "token id (tok_ followed by 26 characters)", r.id);
		return;
	}
	if (!token_exists(server_store(api_server(call)), r.id)) {
		api_error(call, CONNECT_NOT_FOUND, "no live token %s: see "
		    "'akctl token list'", r.id);
		return;
	}
	if (api_write(call, token_revoke_write, &r, json_object()) == 0)
		log_notice("token %s revoked", r.id);
}
