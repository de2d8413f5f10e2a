/*
 * auth-token.c: API tokens for TCP clients.
 *
 * A token's secret is "akt_" + 43 base64url characters (32 random bytes
 * from OpenSSL's CSPRNG). It is shown once, at creation; the store keeps
 * only its SHA-256, so a copy of the database does not grant access. A
 * request's token is hashed and looked up by hash: the comparison happens
 * on a one-way digest, not on the secret.
 */
#include "autokittehd.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define TOKEN_RANDOM_BYTES 32

int
token_generate(char *secret, size_t size)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t raw[TOKEN_RANDOM_BYTES];
	size_t off, bits = 0, nbits = 0;

	if (size < strlen(TOKEN_SECRET_PREFIX) + 44)
		return -1;
	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	off = (size_t)snprintf(secret, size, "%s", TOKEN_SECRET_PREFIX);
	for (size_t i = 0; i < sizeof raw; i++) {
		bits = (bits << 8) | raw[i];
		nbits += 8;
		while (nbits >= 6) {
			nbits -= 6;
			secret[off++] = b64url[(bits >> nbits) & 0x3f];
		}
	}
	if (nbits > 0)
		secret[off++] = b64url[(bits << (6 - nbits)) & 0x3f];
	secret[off] = '\0';
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

/* Is s shaped like a secret we issue? Cheap rejection before hashing. */
int
token_format_valid(const char *s)
{
	size_t plen = strlen(TOKEN_SECRET_PREFIX);

	if (strncmp(s, TOKEN_SECRET_PREFIX, plen) != 0 ||
	    strlen(s) != plen + 43)
		return 0;
	return strspn(s + plen, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_") == 43;
}

void
token_hash(const char *secret, char hex[TOKEN_HASH_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < len && i < TOKEN_HASH_LEN / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[TOKEN_HASH_LEN] = '\0';
}

int
token_insert(struct store *s, const char *id, const char *name,
    const char *hash, int64_t created_at, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO tokens (token_id, "
	    "name, hash, created_at) VALUES (?, ?, ?, ?)");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, created_at);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "saving the token: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* 0 and the token's id when secret is a live token; -1 otherwise. */
int
token_verify(struct store *s, const char *secret, char *id, size_t size)
{
	char hash[TOKEN_HASH_LEN + 1];
	sqlite3_stmt *st;
	int found = 0;

	if (!token_format_valid(secret))
		return -1;
	token_hash(secret, hash);
	st = store_prepare(s, "SELECT token_id FROM tokens WHERE hash = ? "
	    "AND revoked_at IS NULL");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(id, size, "%s", sqlite3_column_text(st, 0));
		found = 1;
	}
	sqlite3_finalize(st);
	return found ? 0 : -1;
}

json_t *
timestamp_json(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *
token_list(struct store *s)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT token_id, name, "
	    "created_at FROM tokens WHERE revoked_at IS NULL ORDER BY "
	    "created_at, token_id");
	json_t *list = json_array();

	if (st == NULL) {
		json_decref(list);
		return NULL;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_array_append_new(list, json_pack("{s:s, s:s, s:o}",
		    "token_id", (const char *)sqlite3_column_text(st, 0),
		    "name", (const char *)sqlite3_column_text(st, 1),
		    "created_at", timestamp_json(sqlite3_column_int64(st, 2))));
	}
	sqlite3_finalize(st);
	return list;
}

int
token_revoke(struct store *s, const char *id, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "UPDATE tokens SET revoked_at = "
	    "strftime('%s', 'now') WHERE token_id = ? AND revoked_at IS NULL");
	int rc, changed;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	changed = sqlite3_changes(store_db(s));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "revoking the token: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return changed > 0 ? 1 : 0;
}

/* Is id a live (not revoked) token? */
int
token_exists(struct store *s, const char *id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT 1 FROM tokens WHERE "
	    "token_id = ? AND revoked_at IS NULL");
	int found;

	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}
