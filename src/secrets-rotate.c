/*
 * secrets-rotate.c: a new master key, and optionally a new data key
 * (SecretsService/Rotate, `akctl secrets rotate`), and what Status shows.
 *
 * The steps are ordered so that a crash at any point leaves a key file
 * that opens the store (docs/SECURITY.md, "Rotation and crashes"):
 *
 *  1. The key file (or the KEY_FILE.new of an earlier, unfinished rotation)
 *     must unwrap the store's data key, and it must be the one in use.
 *  2. The new master key is written to KEY_FILE.new: a temporary file,
 *     synced, linked into place, the directory synced.
 *  3. One write of the group commit re-wraps the data key under the new
 *     master key. With data_key, it also makes a new data key, re-seals
 *     every sealed value with it and replaces the old key's row: all
 *     values change in the same transaction as the key that opens them.
 *  4. Once that has committed, and is synced even under synchronous =
 *     normal, KEY_FILE.new is renamed over KEY_FILE and the directory
 *     synced. Only then is the rotation reported done.
 *
 * A crash before 3 commits leaves the old key in force and a stale .new,
 * which start-up removes. A crash between 3 and 4 leaves the store wrapped
 * under .new: start-up, finding that the key file no longer opens it,
 * tries .new and renames it into place. If the commit fails, the old data
 * key is put back in memory and .new removed.
 */
#include "autokittehd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define SPARE_OLD_DEK	0
#define SPARE_NEW_KEK	1
#define SPARE_NEW_DEK	SECRETS_SPARE_KEK	/* free once step 1 is done */

struct rotation {
	struct store		*store;
	int			 data_key;
	char			*next_path;	/* KEY_FILE.new */
	uint32_t		 old_dek_id;
	uint32_t		 new_dek_id;
	int64_t			 resealed;
	secrets_rotate_done_fn	 done;
	void			*arg;
};

static int rotating;

static void
rotation_finish(struct rotation *r, int ok, const char *cause)
{
	json_t *result = NULL;

	OPENSSL_cleanse(secrets_spare_key(SPARE_NEW_KEK), SECRETS_KEY_SIZE);
	OPENSSL_cleanse(secrets_spare_key(SPARE_OLD_DEK), SECRETS_KEY_SIZE);
	OPENSSL_cleanse(secrets_spare_key(SPARE_NEW_DEK), SECRETS_KEY_SIZE);
	if (ok) {
		result = json_pack("{s:s, s:I, s:b, s:I}", "key_file",
		    secrets_key_file(), "data_key_id",
		    (json_int_t)secrets_dek_id(), "data_key_rotated",
		    r->data_key, "resealed", (json_int_t)r->resealed);
		log_notice("secrets: rotated the master key (%s)%s",
		    secrets_key_file(), r->data_key ?
		    " and the data key" : "");
	}
	rotating = 0;
	r->done(ok, cause, result, r->arg);
	json_decref(result);
	free(r->next_path);
	free(r);
}

/* Step 1: the data key in use, unwrapped again from the store. */
static int
rotation_check(struct store *s, char **cause)
{
	unsigned char *wrapped, *dek = secrets_spare_key(SPARE_OLD_DEK);
	uint32_t id;
	size_t len;
	int rc;

	if ((rc = secrets_dek_row(store_db(s), &id, &wrapped, &len,
	    cause)) <= 0) {
		if (rc == 0)
			xasprintf(cause, "the store has no data key");
		return -1;
	}
	rc = secrets_key_file_unwrap(secrets_key_file(), store_path(s), id,
	    wrapped, len, dek, cause);
	free(wrapped);
	if (rc != 0)
		return -1;
	if (id != secrets_dek_id() || CRYPTO_memcmp(dek, secrets_dek(),
	    SECRETS_KEY_SIZE) != 0) {
		xasprintf(cause, "the store's data key %u is not the one in "
		    "use (%u); restart autokittehd, then rotate", id,
		    secrets_dek_id());
		return -1;
	}
	return 0;
}

struct sealed_row {
	char		*scope;
	char		*name;
	unsigned char	*blob;
	size_t		 len;
};

static void
sealed_rows_free(struct sealed_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].scope);
		free(rows[i].name);
		free(rows[i].blob);
	}
	free(rows);
}

/* Every sealed value, read in full before any is rewritten. */
static struct sealed_row *
sealed_rows(struct store *s, size_t *n, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT scope_id, name, sealed "
	    "FROM vars WHERE sealed IS NOT NULL");
	struct sealed_row *rows = NULL;
	size_t cap = 0;
	int rc;

	*n = 0;
	if (st == NULL) {
		xasprintf(cause, "cannot read the sealed vars");
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sealed_row *r;

		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			rows = xreallocarray(rows, cap, sizeof *rows);
		}
		r = &rows[(*n)++];
		r->scope = xstrdup(api_column_text(st, 0));
		r->name = xstrdup(api_column_text(st, 1));
		r->len = (size_t)sqlite3_column_bytes(st, 2);
		r->blob = xmalloc(r->len + 1);
		if (r->len > 0)
			memcpy(r->blob, sqlite3_column_blob(st, 2), r->len);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "cannot read the sealed vars: %s",
		    sqlite3_errmsg(store_db(s)));
		sealed_rows_free(rows, *n);
		return NULL;
	}
	if (rows == NULL)
		rows = xcalloc(1, sizeof *rows);
	return rows;
}

/* Re-seal one value from the old data key to the new one. */
static int
reseal(sqlite3_stmt *upd, const struct sealed_row *row, uint32_t new_id,
    char **cause)
{
	unsigned char *plain, *sealed;
	size_t plen, slen;
	char *aad = vars_aad(row->scope, row->name), *why = NULL;
	int rc;

	if (secrets_decrypt(secrets_dek(), aad, row->blob, row->len, &plain,
	    &plen, &why) != 0) {
		xasprintf(cause, "var %s of %s cannot be decrypted (%s); "
		    "nothing was rotated", row->name, row->scope, why);
		free(why);
		free(aad);
		return -1;
	}
	rc = secrets_encrypt(secrets_spare_key(SPARE_NEW_DEK), new_id, aad,
	    plain, plen, &sealed, &slen);
	secrets_free(plain, plen);
	free(aad);
	if (rc != 0) {
		xasprintf(cause, "cannot encrypt a secret (OpenSSL failed)");
		return -1;
	}
	sqlite3_reset(upd);
	sqlite3_bind_blob(upd, 1, sealed, (int)slen, free);
	sqlite3_bind_text(upd, 2, row->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(upd, 3, row->name, -1, SQLITE_STATIC);
	if (sqlite3_step(upd) != SQLITE_DONE) {
		xasprintf(cause, "cannot re-seal the vars: %s",
		    sqlite3_errmsg(sqlite3_db_handle(upd)));
		return -1;
	}
	return 0;
}

/* A new data key: every sealed value re-sealed, the new key's row alone. */
static int
rotate_data_key(struct store *s, struct rotation *r, char **cause)
{
	unsigned char *dek = secrets_spare_key(SPARE_NEW_DEK), *wrapped;
	struct sealed_row *rows;
	sqlite3_stmt *st;
	size_t n, len;
	int rc = -1;

	r->new_dek_id = r->old_dek_id + 1;
	if (RAND_bytes(dek, SECRETS_KEY_SIZE) != 1) {
		xasprintf(cause, "cannot make a data key: OpenSSL has no "
		    "randomness");
		return -1;
	}
	if ((rows = sealed_rows(s, &n, cause)) == NULL)
		return -1;
	if ((st = store_prepare(s, "UPDATE vars SET sealed = ?1 WHERE "
	    "scope_id = ?2 AND name = ?3")) == NULL) {
		xasprintf(cause, "cannot re-seal the vars");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (reseal(st, &rows[i], r->new_dek_id, cause) != 0) {
			sqlite3_finalize(st);
			goto out;
		}
	}
	sqlite3_finalize(st);
	r->resealed = (int64_t)n;
	if (secrets_wrap_dek(secrets_spare_key(SPARE_NEW_KEK), dek,
	    r->new_dek_id, &wrapped, &len) != 0) {
		xasprintf(cause, "cannot wrap the data key (OpenSSL failed)");
		goto out;
	}
	if ((st = store_prepare(s, "DELETE FROM secret_keys")) == NULL ||
	    sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		free(wrapped);
		xasprintf(cause, "cannot replace the data key: %s",
		    sqlite3_errmsg(store_db(s)));
		goto out;
	}
	sqlite3_finalize(st);
	if ((st = store_prepare(s, "INSERT INTO secret_keys (key_id, wrapped, "
	    "created_at, wrapped_at) VALUES (?1, ?2, ?3, ?3)")) == NULL) {
		free(wrapped);
		xasprintf(cause, "cannot save the data key");
		goto out;
	}
	sqlite3_bind_int64(st, 1, r->new_dek_id);
	sqlite3_bind_blob(st, 2, wrapped, (int)len, free);
	sqlite3_bind_int64(st, 3, now_us());
	if (sqlite3_step(st) != SQLITE_DONE)
		xasprintf(cause, "cannot save the data key: %s",
		    sqlite3_errmsg(store_db(s)));
	else
		rc = 0;
	sqlite3_finalize(st);
	if (rc == 0) {
		/* From here on the batch seals with the new key. */
		memcpy(secrets_spare_key(SPARE_OLD_DEK), secrets_dek(),
		    SECRETS_KEY_SIZE);
		secrets_set_dek(dek, r->new_dek_id);
	}
out:
	sealed_rows_free(rows, n);
	return rc;
}

/* Step 3, inside the group commit. */
static int
rotate_write(struct store *s, void *arg, char **cause)
{
	struct rotation *r = arg;
	unsigned char *wrapped;
	sqlite3_stmt *st;
	size_t len;
	int rc;

	if (r->data_key)
		return rotate_data_key(s, r, cause);
	if (secrets_wrap_dek(secrets_spare_key(SPARE_NEW_KEK), secrets_dek(),
	    r->old_dek_id, &wrapped, &len) != 0) {
		xasprintf(cause, "cannot wrap the data key (OpenSSL failed)");
		return -1;
	}
	if ((st = store_prepare(s, "UPDATE secret_keys SET wrapped = ?1, "
	    "wrapped_at = ?2 WHERE key_id = ?3")) == NULL) {
		free(wrapped);
		xasprintf(cause, "cannot save the data key");
		return -1;
	}
	sqlite3_bind_blob(st, 1, wrapped, (int)len, free);
	sqlite3_bind_int64(st, 2, now_us());
	sqlite3_bind_int64(st, 3, r->old_dek_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_changes(store_db(s)) != 1) {
		xasprintf(cause, "cannot save the data key: %s",
		    rc != SQLITE_DONE ? sqlite3_errmsg(store_db(s)) :
		    "its row is gone");
		return -1;
	}
	return 0;
}

static void
remove_next(struct rotation *r)
{
	char *why = NULL;

	if (unlink(r->next_path) == -1 && errno != ENOENT)
		log_warning("secrets: cannot remove %s: %s", r->next_path,
		    strerror(errno));
	if (secrets_sync_dir(r->next_path, &why) != 0) {
		log_warning("secrets: %s", why);
		free(why);
	}
}

/* Step 4, once the write has committed (or failed to). */
static void
rotate_committed(int ok, const char *cause, void *arg)
{
	struct rotation *r = arg;
	char *why = NULL, *msg;

	if (!ok) {
		if (r->data_key)
			secrets_set_dek(secrets_spare_key(SPARE_OLD_DEK),
			    r->old_dek_id);
		remove_next(r);
		xasprintf(&msg, "the store could not commit the rotation (%s); "
		    "nothing changed: %s still holds the key", cause != NULL ?
		    cause : "unknown error", secrets_key_file());
		rotation_finish(r, 0, msg);
		free(msg);
		return;
	}
	if (store_sync(r->store, &why) != 0) {
		xasprintf(&msg, "the rotation committed but could not be "
		    "synced to disk (%s). The store may now need the new key "
		    "in %s: leave that file where it is; the next rotation or "
		    "start-up finishes the rename", why, r->next_path);
		free(why);
		rotation_finish(r, 0, msg);
		free(msg);
		return;
	}
	if (rename(r->next_path, secrets_key_file()) == -1 ||
	    secrets_sync_dir(secrets_key_file(), &why) != 0) {
		xasprintf(&msg, "the rotation committed, but %s could not be "
		    "renamed to %s (%s). The store now needs the new key: "
		    "leave %s where it is; start-up finishes the rename",
		    r->next_path, secrets_key_file(), why != NULL ? why :
		    strerror(errno), r->next_path);
		free(why);
		rotation_finish(r, 0, msg);
		free(msg);
		return;
	}
	rotation_finish(r, 1, NULL);
}

/*
 * Rotate the master key and, with data_key, the data key too. Returns -1
 * with *cause when it cannot begin (done is then never called); otherwise
 * done is called once, after the store has committed and the new key
 * file is in place, or with the reason it failed.
 */
int
secrets_rotate(struct store *s, int data_key, secrets_rotate_done_fn done,
    void *arg, char **cause)
{
	struct rotation *r;
	char *next;
	int next_ok = 0;

	if (!secrets_loaded()) {
		xasprintf(cause, "no data key is loaded");
		return -1;
	}
	if (rotating) {
		xasprintf(cause, "a rotation is already running; wait for it");
		return -1;
	}
	if (rotation_check(s, cause) != 0)
		return -1;
	OPENSSL_cleanse(secrets_spare_key(SPARE_OLD_DEK), SECRETS_KEY_SIZE);
	xasprintf(&next, "%s.new", secrets_key_file());
	if (RAND_bytes(secrets_spare_key(SPARE_NEW_KEK), SECRETS_KEY_SIZE) !=
	    1) {
		xasprintf(cause, "cannot make a key: OpenSSL has no "
		    "randomness");
		free(next);
		return -1;
	}
	if (unlink(next) == -1 && errno != ENOENT)
		xasprintf(cause, "cannot remove %s: %s", next,
		    strerror(errno));
	else if (secrets_key_file_create(next, secrets_spare_key(
	    SPARE_NEW_KEK), cause) == 0)
		next_ok = 1;
	if (!next_ok) {
		OPENSSL_cleanse(secrets_spare_key(SPARE_NEW_KEK),
		    SECRETS_KEY_SIZE);
		free(next);
		return -1;
	}
	r = xcalloc(1, sizeof *r);
	r->store = s;
	r->data_key = data_key;
	r->next_path = next;
	r->old_dek_id = secrets_dek_id();
	r->done = done;
	r->arg = arg;
	rotating = 1;
	if (store_write(s, rotate_write, r, rotate_committed, r, cause) != 0) {
		remove_next(r);
		rotating = 0;
		OPENSSL_cleanse(secrets_spare_key(SPARE_NEW_KEK),
		    SECRETS_KEY_SIZE);
		free(r->next_path);
		free(r);
		return -1;
	}
	return 0;
}

/* What SecretsService/Status answers. */
json_t *
secrets_status_json(struct store *s, char **cause)
{
	sqlite3_stmt *st;
	json_t *out;
	int64_t sealed = 0, clear = 0;

	if (!secrets_loaded()) {
		xasprintf(cause, "no data key is loaded");
		return NULL;
	}
	st = store_prepare(s, "SELECT key_id, created_at, wrapped_at FROM "
	    "secret_keys WHERE key_id = ?");
	if (st == NULL || store_count(s, "SELECT count(*) FROM vars WHERE "
	    "sealed IS NOT NULL", &sealed) != 0 || store_count(s, "SELECT "
	    "count(*) FROM vars WHERE sealed IS NULL AND " VARS_SEALED_WHERE,
	    &clear) != 0) {
		sqlite3_finalize(st);
		xasprintf(cause, "cannot read the store's keys");
		return NULL;
	}
	sqlite3_bind_int64(st, 1, secrets_dek_id());
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		xasprintf(cause, "the store has no row for data key %u",
		    secrets_dek_id());
		return NULL;
	}
	out = json_pack("{s:s, s:s, s:I, s:o, s:o, s:I, s:I}",
	    "key_file", secrets_key_file(), "cipher", "AES-256-GCM",
	    "data_key_id", (json_int_t)secrets_dek_id(),
	    "data_key_created_at", timestamp_us_json(sqlite3_column_int64(st,
	    1)), "data_key_wrapped_at", timestamp_us_json(
	    sqlite3_column_int64(st, 2)), "sealed_values", (json_int_t)sealed,
	    "cleartext_values", (json_int_t)clear);
	sqlite3_finalize(st);
	return out;
}
