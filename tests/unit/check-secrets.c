/*
 * check-secrets.c: unit tests for src/secrets.c, secrets-rotate.c and
 * store-vars.c.
 *
 * The primitives: a sealed value opens with its key and record, and with
 * nothing else: every truncation, every flipped byte (header, nonce,
 * ciphertext, tag), another record's additional data and another key are
 * refused. The key file: made 0600 all or nothing, refused when open to
 * group or others, of the wrong size or not a file. The keyring on a real
 * store: a fresh store gets a key file and a data key; another key file,
 * or none, is refused; a store from before encryption has its cleartext
 * sealed, and the plaintext is then nowhere in the database or its WAL;
 * a sealed value moved to another var does not open; rotation (master and
 * data key) through the group commit keeps the values and retires the old
 * key file.
 */
#include "autokittehd.h"
#include "unit-sqlite.h"

#include <check.h>

#include <event2/event.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

static char tmpdir[64];
static char *db_path, *key_path;

static void
tmpdir_setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check-secrets.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	xasprintf(&db_path, "%s/autokitteh.db", tmpdir);
	xasprintf(&key_path, "%s/secrets.key", tmpdir);
}

static void
tmpdir_teardown(void)
{
	char cmd[128];

	secrets_stop();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	free(db_path);
	free(key_path);
	db_path = key_path = NULL;
}

static void
random_key(unsigned char key[SECRETS_KEY_SIZE])
{
	ck_assert_int_eq(RAND_bytes(key, SECRETS_KEY_SIZE), 1);
}

/* Does decrypting fail, with a cause? */
static int
refused(const unsigned char *key, const char *aad, const unsigned char *b,
    size_t len)
{
	unsigned char *plain = (unsigned char *)"x";
	size_t plen = 99;
	char *cause = NULL;
	int rc = secrets_decrypt(key, aad, b, len, &plain, &plen, &cause);

	if (rc == 0) {
		secrets_free(plain, plen);
		return 0;
	}
	ck_assert_ptr_null(plain);
	ck_assert_uint_eq(plen, 0);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	return 1;
}

/* ---- the primitives ---- */

START_TEST(roundtrip)
{
	static const char *const texts[] = { "", "x", "hunter2",
	    "a longer secret that spans more than one AES block of 16" };
	unsigned char key[SECRETS_KEY_SIZE], *b, *plain;
	size_t len, plen;
	uint32_t id;
	char *cause = NULL;

	random_key(key);
	for (size_t i = 0; i < nitems(texts); i++) {
		ck_assert_int_eq(secrets_encrypt(key, 7, "var:prj_1:A",
		    texts[i], strlen(texts[i]), &b, &len), 0);
		ck_assert_uint_eq(len, strlen(texts[i]) + SECRETS_OVERHEAD);
		ck_assert_int_eq(b[0], 1);
		ck_assert_int_eq(secrets_sealed_key_id(b, len, &id), 0);
		ck_assert_uint_eq(id, 7);
		/*
		 * The plaintext is not in the sealed bytes. Only for texts of
		 * 7 bytes or more: a 1-byte text is in ~30 random bytes one
		 * time in nine.
		 */
		if (strlen(texts[i]) >= 7)
			ck_assert_ptr_null(memmem(b, len, texts[i],
			    strlen(texts[i])));
		ck_assert_int_eq(secrets_decrypt(key, "var:prj_1:A", b, len,
		    &plain, &plen, &cause), 0);
		ck_assert_uint_eq(plen, strlen(texts[i]));
		ck_assert_str_eq((char *)plain, texts[i]);
		secrets_free(plain, plen);
		free(b);
	}
}
END_TEST

START_TEST(fresh_nonce)
{
	unsigned char key[SECRETS_KEY_SIZE], *a, *b;
	size_t alen, blen;

	random_key(key);
	ck_assert_int_eq(secrets_encrypt(key, 1, "r", "same", 4, &a, &alen), 0);
	ck_assert_int_eq(secrets_encrypt(key, 1, "r", "same", 4, &b, &blen), 0);
	ck_assert_uint_eq(alen, blen);
	/* Another nonce, so another ciphertext. */
	ck_assert_int_ne(memcmp(a + 5, b + 5, SECRETS_NONCE_SIZE), 0);
	ck_assert_int_ne(memcmp(a + SECRETS_HEADER_SIZE, b +
	    SECRETS_HEADER_SIZE, alen - SECRETS_HEADER_SIZE), 0);
	free(a);
	free(b);
}
END_TEST

START_TEST(truncated)
{
	unsigned char key[SECRETS_KEY_SIZE], *b;
	size_t len;

	random_key(key);
	ck_assert_int_eq(secrets_encrypt(key, 1, "r", "secret", 6, &b, &len),
	    0);
	for (size_t n = 0; n < len; n++)
		ck_assert_msg(refused(key, "r", b, n), "%zu of %zu bytes "
		    "opened", n, len);
	ck_assert(refused(key, "r", NULL, 0));
	ck_assert_int_eq(refused(key, "r", b, len), 0);
	free(b);
}
END_TEST

START_TEST(every_byte_flipped)
{
	unsigned char key[SECRETS_KEY_SIZE], *b;
	size_t len;

	random_key(key);
	ck_assert_int_eq(secrets_encrypt(key, 3, "r", "secret value", 12, &b,
	    &len), 0);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1 << bit);
			ck_assert_msg(refused(key, "r", b, len), "flipping bit "
			    "%d of byte %zu went unnoticed", bit, i);
			b[i] ^= (unsigned char)(1 << bit);
		}
	}
	ck_assert_int_eq(refused(key, "r", b, len), 0);
	free(b);
}
END_TEST

START_TEST(tag_and_length)
{
	unsigned char key[SECRETS_KEY_SIZE], *b, *longer;
	size_t len;

	random_key(key);
	ck_assert_int_eq(secrets_encrypt(key, 1, "r", "secret", 6, &b, &len),
	    0);
	/* A zeroed tag; a byte appended; the tag dropped. */
	longer = xmalloc(len + 1);
	memcpy(longer, b, len);
	longer[len] = 0;
	ck_assert(refused(key, "r", longer, len + 1));
	memset(b + len - SECRETS_TAG_SIZE, 0, SECRETS_TAG_SIZE);
	ck_assert(refused(key, "r", b, len));
	ck_assert(refused(key, "r", b, len - SECRETS_TAG_SIZE));
	free(longer);
	free(b);
}
END_TEST

START_TEST(wrong_aad_or_key)
{
	unsigned char key[SECRETS_KEY_SIZE], other[SECRETS_KEY_SIZE], *b;
	size_t len;
	char *cause = NULL;
	unsigned char *plain;
	size_t plen;

	random_key(key);
	random_key(other);
	ck_assert_int_eq(secrets_encrypt(key, 1, "var:prj_1:TOKEN", "s3cret",
	    6, &b, &len), 0);
	ck_assert(refused(key, "var:prj_1:OTHER", b, len));
	ck_assert(refused(key, "var:prj_2:TOKEN", b, len));
	ck_assert(refused(key, "", b, len));
	ck_assert(refused(other, "var:prj_1:TOKEN", b, len));
	ck_assert_int_eq(secrets_decrypt(other, "var:prj_1:TOKEN", b, len,
	    &plain, &plen, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "does not authenticate"));
	free(cause);
	cause = NULL;
	b[0] = 2;
	ck_assert_int_eq(secrets_decrypt(key, "var:prj_1:TOKEN", b, len,
	    &plain, &plen, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "format 2"));
	free(cause);
	free(b);
}
END_TEST

START_TEST(dek_wrapping)
{
	unsigned char kek[SECRETS_KEY_SIZE], other[SECRETS_KEY_SIZE];
	unsigned char dek[SECRETS_KEY_SIZE], out[SECRETS_KEY_SIZE], *w, *v;
	size_t len, vlen;
	char *cause = NULL;

	random_key(kek);
	random_key(other);
	random_key(dek);
	ck_assert_int_eq(secrets_wrap_dek(kek, dek, 4, &w, &len), 0);
	ck_assert_int_eq(secrets_unwrap_dek(kek, w, len, 4, out, &cause), 0);
	ck_assert_int_eq(memcmp(dek, out, SECRETS_KEY_SIZE), 0);
	/* Another master key; another key id than the row says. */
	ck_assert_int_eq(secrets_unwrap_dek(other, w, len, 4, out, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(secrets_unwrap_dek(kek, w, len, 5, out, &cause), -1);
	free(cause);
	cause = NULL;
	/* A value sealed under the master key is not a data key. */
	ck_assert_int_eq(secrets_encrypt(kek, 4, "var:prj_1:A", dek,
	    SECRETS_KEY_SIZE, &v, &vlen), 0);
	ck_assert_int_eq(secrets_unwrap_dek(kek, v, vlen, 4, out, &cause), -1);
	free(cause);
	cause = NULL;
	/* The right AAD but not 32 bytes. */
	free(v);
	ck_assert_int_eq(secrets_encrypt(kek, 4, "autokitteh data key", "short",
	    5, &v, &vlen), 0);
	ck_assert_int_eq(secrets_unwrap_dek(kek, v, vlen, 4, out, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "5 bytes"));
	free(cause);
	free(v);
	free(w);
}
END_TEST

/* ---- the key file ---- */

static void
write_bytes(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* The cause of refusing path, which must contain needle. */
static void
key_file_refused(const char *path, const char *needle)
{
	unsigned char key[SECRETS_KEY_SIZE];
	char *cause = NULL;

	ck_assert_int_eq(secrets_key_file_read(path, key, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, needle) != NULL, "\"%s\" not in: %s",
	    needle, cause);
	ck_assert_ptr_nonnull(strstr(cause, path));
	free(cause);
}

START_TEST(key_file_create_and_read)
{
	unsigned char key[SECRETS_KEY_SIZE], back[SECRETS_KEY_SIZE];
	struct stat st;
	char *cause = NULL, *tmp;

	random_key(key);
	ck_assert_int_eq(secrets_key_file_read(key_path, back, &cause), 0);
	/* A stale temporary file from a crash is replaced. */
	xasprintf(&tmp, "%s.tmp", key_path);
	write_bytes(tmp, "junk", 4, 0644);
	ck_assert_int_eq(secrets_key_file_create(key_path, key, &cause), 0);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	ck_assert_int_eq(stat(key_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, SECRETS_KEY_SIZE);
	ck_assert_int_eq(secrets_key_file_read(key_path, back, &cause), 1);
	ck_assert_int_eq(memcmp(key, back, SECRETS_KEY_SIZE), 0);
	/* Never over an existing key. */
	ck_assert_int_eq(secrets_key_file_create(key_path, back, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "File exists"));
	free(cause);
	free(tmp);
}
END_TEST

START_TEST(key_file_refusals)
{
	unsigned char key[SECRETS_KEY_SIZE + 1];

	random_key(key);
	write_bytes(key_path, key, SECRETS_KEY_SIZE, 0644);
	key_file_refused(key_path, "chmod 600");
	write_bytes(key_path, key, SECRETS_KEY_SIZE, 0640);
	key_file_refused(key_path, "open to its group");
	write_bytes(key_path, key, SECRETS_KEY_SIZE, 0604);
	key_file_refused(key_path, "open to others");
	write_bytes(key_path, key, SECRETS_KEY_SIZE, 0620);
	key_file_refused(key_path, "mode 0620");
	write_bytes(key_path, key, SECRETS_KEY_SIZE - 1, 0600);
	key_file_refused(key_path, "31 bytes long");
	write_bytes(key_path, key, SECRETS_KEY_SIZE + 1, 0600);
	key_file_refused(key_path, "33 bytes long");
	write_bytes(key_path, key, 0, 0600);
	key_file_refused(key_path, "0 bytes long");
	key_file_refused(tmpdir, "not a regular file");
	/* 0400 is as good as 0600. */
	write_bytes(key_path, key, SECRETS_KEY_SIZE, 0400);
	ck_assert_int_eq(secrets_key_file_read(key_path, key,
	    &(char *){ NULL }), 1);
}
END_TEST

START_TEST(key_file_path)
{
	struct config cf;
	char *p;

	config_init(&cf);
	free(cf.data_dir);
	cf.data_dir = xstrdup("/var/lib/ak");
	p = secrets_key_file_path(&cf);
	ck_assert_str_eq(p, "/var/lib/ak/secrets.key");
	free(p);
	free(cf.secrets_key_file);
	cf.secrets_key_file = xstrdup("/etc/ak/master.key");
	p = secrets_key_file_path(&cf);
	ck_assert_str_eq(p, "/etc/ak/master.key");
	free(p);
	config_free(&cf);
}
END_TEST

/* ---- the keyring on a store ---- */


static void
start_ok(struct store *s, const char *key_file)
{
	char *cause = NULL;

	ck_assert_msg(secrets_start(s, key_file, &cause) == 0,
	    "secrets_start: %s", cause);
	ck_assert(secrets_loaded());
}

static char *
start_refused(struct store *s, const char *key_file)
{
	char *cause = NULL;

	ck_assert_int_eq(secrets_start(s, key_file, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert(!secrets_loaded());
	return cause;
}



/* Set var name of scope through store-vars.c, as the API does. */
static void
set_var(struct store *s, const char *scope, const char *name,
    const char *value, int secret)
{
	sqlite3_stmt *st;
	char *cause = NULL;

	st = store_prepare(s, "INSERT OR REPLACE INTO vars (scope_id, name, "
	    "value, is_secret, sealed) VALUES (?1, ?2, ?3, ?4, ?5)");
	ck_assert_ptr_nonnull(st);
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, secret);
	ck_assert_msg(vars_bind_value(st, 3, 5, scope, name, value, secret,
	    &cause) == 0, "%s", cause);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static char *
get_var(struct store *s, const char *scope, const char *name)
{
	char *cause = NULL, *v = vars_get(s, scope, name, &cause);

	ck_assert_msg(v != NULL, "vars_get %s %s: %s", scope, name, cause);
	return v;
}

/* Does any of the database and its WAL hold needle? */
static int
in_files(const char *needle)
{
	const char *suffixes[] = { "", "-wal" };
	int found = 0;

	for (size_t i = 0; i < nitems(suffixes); i++) {
		char *path, *data;
		struct stat st;
		int fd;

		xasprintf(&path, "%s%s", db_path, suffixes[i]);
		if ((fd = open(path, O_RDONLY)) != -1 && fstat(fd, &st) == 0 &&
		    st.st_size > 0) {
			data = xmalloc((size_t)st.st_size);
			ck_assert_int_eq(read(fd, data, (size_t)st.st_size),
			    st.st_size);
			found |= memmem(data, (size_t)st.st_size, needle,
			    strlen(needle)) != NULL;
			free(data);
		}
		if (fd != -1)
			close(fd);
		free(path);
	}
	return found;
}

START_TEST(fresh_store)
{
	struct store *s = open_store_at(db_path, NULL);
	unsigned char key[SECRETS_KEY_SIZE];
	char *v, *cause;
	struct stat st;

	start_ok(s, key_path);
	ck_assert_int_eq(stat(key_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(secrets_dek_id(), 1);
	ck_assert_str_eq(secrets_key_file(), key_path);

	set_var(s, "prj_1", "TOKEN", "tok-marker-5d1c", 1);
	set_var(s, "prj_1", "PLAIN", "plain-marker-77ab", 0);
	set_var(s, "con_1", "base_url", "conn-marker-0f3e", 0);
	ck_assert(vars_sealed("prj_1", 1));
	ck_assert(!vars_sealed("prj_1", 0));
	ck_assert(vars_sealed("con_1", 0));
	v = get_var(s, "prj_1", "TOKEN");
	ck_assert_str_eq(v, "tok-marker-5d1c");
	vars_value_free(v);
	v = get_var(s, "con_1", "base_url");
	ck_assert_str_eq(v, "conn-marker-0f3e");
	vars_value_free(v);
	ck_assert_ptr_null(vars_get(s, "prj_1", "NOPE", NULL));
	ck_assert(in_files("plain-marker-77ab"));
	ck_assert(!in_files("tok-marker-5d1c"));
	ck_assert(!in_files("conn-marker-0f3e"));
	store_close(s);
	secrets_stop();

	/* Re-opened with its key: the same data key. */
	s = open_store_at(db_path, NULL);
	start_ok(s, key_path);
	v = get_var(s, "prj_1", "TOKEN");
	ck_assert_str_eq(v, "tok-marker-5d1c");
	vars_value_free(v);

	/* A sealed value moved to another var does not open. */
	exec_ok(store_db(s), "UPDATE vars SET sealed = (SELECT sealed FROM "
	    "vars WHERE name = 'TOKEN') WHERE name = 'base_url'");
	cause = NULL;
	ck_assert_ptr_null(vars_get(s, "con_1", "base_url", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "base_url of con_1 cannot be "
	    "decrypted"));
	free(cause);
	store_close(s);
	secrets_stop();

	/* Another key file, or none, is refused. */
	s = open_store_at(db_path, NULL);
	ck_assert_int_eq(unlink(key_path), 0);
	random_key(key);
	ck_assert_int_eq(secrets_key_file_create(key_path, key, &(char *){
	    NULL }), 0);
	cause = start_refused(s, key_path);
	ck_assert_ptr_nonnull(strstr(cause, "does not decrypt the data key"));
	free(cause);
	ck_assert_int_eq(unlink(key_path), 0);
	cause = start_refused(s, key_path);
	ck_assert_ptr_nonnull(strstr(cause, "is missing, but the store"));
	free(cause);
	/* Not re-created: the store's secrets need the old one. */
	ck_assert_int_eq(access(key_path, F_OK), -1);
	store_close(s);
}
END_TEST

/*
 * A store from before encryption, as the migration that adds secret_keys
 * and vars.sealed leaves it (whatever its number, once merged): no data
 * key, no sealed values, secrets in the clear, in the file and the WAL.
 */
START_TEST(cleartext_from_older_store)
{
	struct store *s = open_store_at(db_path, NULL);
	sqlite3 *db;
	char *v;

	ck_assert_int_eq(count_rows(store_db(s), "SELECT count(*) FROM "
	    "secret_keys"), 0);
	exec_ok(store_db(s), "INSERT INTO vars (scope_id, name, value, "
	    "is_secret) VALUES ('prj_1', 'TOKEN', 'old-secret-91ac', 1), "
	    "('prj_1', 'PLAIN', 'old-plain-33fe', 0), ('con_1', 'pat', "
	    "'old-pat-c0de', 0)");
	exec_ok(store_db(s), "PRAGMA wal_checkpoint(TRUNCATE)");
	store_close(s);
	/* And a change still in the WAL, as a crash would leave it. */
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	exec_ok(db, "PRAGMA journal_mode = WAL");
	exec_ok(db, "PRAGMA wal_autocheckpoint = 0");
	/* As an SQLite built without SECURE_DELETE leaves freed bytes. */
	exec_ok(db, "PRAGMA secure_delete = OFF");
	exec_ok(db, "UPDATE vars SET value = 'old-wal-secret-4b4b' WHERE "
	    "name = 'TOKEN'");
	ck_assert(in_files("old-wal-secret-4b4b"));
	ck_assert(in_files("old-secret-91ac"));

	s = open_store_at(db_path, NULL);
	start_ok(s, key_path);
	sqlite3_close(db);
	ck_assert_int_eq(secrets_dek_id(), 1);
	v = get_var(s, "prj_1", "TOKEN");
	ck_assert_str_eq(v, "old-wal-secret-4b4b");
	vars_value_free(v);
	v = get_var(s, "con_1", "pat");
	ck_assert_str_eq(v, "old-pat-c0de");
	vars_value_free(v);
	ck_assert(!in_files("old-wal-secret-4b4b"));
	ck_assert(!in_files("old-secret-91ac"));
	ck_assert(!in_files("old-pat-c0de"));
	ck_assert(in_files("old-plain-33fe"));
	ck_assert_int_eq(count_rows(store_db(s), "SELECT count(*) FROM vars "
	    "WHERE sealed IS NOT NULL AND value = ''"), 2);
	store_close(s);
	secrets_stop();
	/* Sealed once: the next start has nothing to do. */
	s = open_store_at(db_path, NULL);
	start_ok(s, key_path);
	v = get_var(s, "prj_1", "TOKEN");
	ck_assert_str_eq(v, "old-wal-secret-4b4b");
	vars_value_free(v);
	store_close(s);
}
END_TEST

struct rotated {
	int	 calls;
	int	 ok;
	char	*cause;
	json_t	*result;
};

static void
rotated_cb(int ok, const char *cause, json_t *result, void *arg)
{
	struct rotated *r = arg;

	r->calls++;
	r->ok = ok;
	r->cause = cause != NULL ? xstrdup(cause) : NULL;
	r->result = json_incref(result);
}

static void
rotate_ok(struct store *s, struct event_base *base, int data_key,
    struct rotated *r)
{
	char *cause = NULL;

	memset(r, 0, sizeof *r);
	ck_assert_msg(secrets_rotate(s, data_key, rotated_cb, r, &cause) == 0,
	    "secrets_rotate: %s", cause);
	/* A second one while the first runs is refused. */
	ck_assert_int_eq(secrets_rotate(s, 0, rotated_cb, r, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "already running"));
	free(cause);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(r->calls, 1);
	ck_assert_msg(r->ok, "rotation failed: %s", r->cause);
}

START_TEST(rotation)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	unsigned char k1[SECRETS_KEY_SIZE], k2[SECRETS_KEY_SIZE];
	struct rotated r;
	char *next, *v, *cause;

	xasprintf(&next, "%s.new", key_path);
	start_ok(s, key_path);
	ck_assert_int_eq(secrets_key_file_read(key_path, k1, &cause), 1);
	set_var(s, "prj_1", "TOKEN", "rot-secret", 1);
	set_var(s, "con_1", "pat", "rot-pat", 0);

	/* The master key: a new file, the same data key. */
	rotate_ok(s, base, 0, &r);
	ck_assert_int_eq(access(next, F_OK), -1);
	ck_assert_int_eq(secrets_key_file_read(key_path, k2, &cause), 1);
	ck_assert_int_ne(memcmp(k1, k2, SECRETS_KEY_SIZE), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r.result,
	    "data_key_id")), 1);
	json_decref(r.result);
	v = get_var(s, "prj_1", "TOKEN");
	ck_assert_str_eq(v, "rot-secret");
	vars_value_free(v);

	/* The data key: every value re-sealed under key 2. */
	rotate_ok(s, base, 1, &r);
	ck_assert_int_eq(json_integer_value(json_object_get(r.result,
	    "data_key_id")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(r.result,
	    "resealed")), 2);
	json_decref(r.result);
	ck_assert_uint_eq(secrets_dek_id(), 2);
	v = get_var(s, "con_1", "pat");
	ck_assert_str_eq(v, "rot-pat");
	vars_value_free(v);
	store_close(s);
	secrets_stop();

	/* Re-opened: the new key file opens it, the first one does not. */
	s = open_store_at(db_path, base);
	start_ok(s, key_path);
	ck_assert_uint_eq(secrets_dek_id(), 2);
	v = get_var(s, "prj_1", "TOKEN");
	ck_assert_str_eq(v, "rot-secret");
	vars_value_free(v);
	store_close(s);
	secrets_stop();
	ck_assert_int_eq(unlink(key_path), 0);
	ck_assert_int_eq(secrets_key_file_create(key_path, k1, &cause), 0);
	s = open_store_at(db_path, base);
	cause = start_refused(s, key_path);
	ck_assert_ptr_nonnull(strstr(cause, "does not decrypt"));
	free(cause);
	store_close(s);
	free(next);
	event_base_free(base);
}
END_TEST

/* A rotation whose commit fails changes nothing. */
START_TEST(rotation_commit_fails)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	unsigned char k1[SECRETS_KEY_SIZE], k2[SECRETS_KEY_SIZE];
	struct rotated r;
	char *next, *v, *cause = NULL;

	xasprintf(&next, "%s.new", key_path);
	start_ok(s, key_path);
	ck_assert_int_eq(secrets_key_file_read(key_path, k1, &cause), 1);
	set_var(s, "prj_1", "TOKEN", "kept", 1);
	/* A deferred foreign key violation fails the batch at COMMIT. */
	exec_ok(store_db(s), "CREATE TABLE parent (id PRIMARY KEY);"
	    "CREATE TABLE child (pid REFERENCES parent(id) DEFERRABLE "
	    "INITIALLY DEFERRED)");
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(secrets_rotate(s, 1, rotated_cb, &r, &cause), 0);
	ck_assert_uint_eq(secrets_dek_id(), 2);
	exec_ok(store_db(s), "INSERT INTO child VALUES ('no such parent')");
	ck_assert_int_eq(access(next, F_OK), 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.ok, 0);
	ck_assert_ptr_nonnull(strstr(r.cause, "nothing changed"));
	free(r.cause);
	ck_assert_int_eq(access(next, F_OK), -1);
	ck_assert_int_eq(secrets_key_file_read(key_path, k2, &cause), 1);
	ck_assert_int_eq(memcmp(k1, k2, SECRETS_KEY_SIZE), 0);
	ck_assert_uint_eq(secrets_dek_id(), 1);
	v = get_var(s, "prj_1", "TOKEN");
	ck_assert_str_eq(v, "kept");
	vars_value_free(v);
	store_close(s);
	free(next);
	event_base_free(base);
}
END_TEST

static Suite *
secrets_suite(void)
{
	Suite *s = suite_create("secrets");
	TCase *tc = tcase_create("primitives");

	tcase_add_test(tc, roundtrip);
	tcase_add_test(tc, fresh_nonce);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, every_byte_flipped);
	tcase_add_test(tc, tag_and_length);
	tcase_add_test(tc, wrong_aad_or_key);
	tcase_add_test(tc, dek_wrapping);
	suite_add_tcase(s, tc);

	tc = tcase_create("key_file");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, key_file_create_and_read);
	tcase_add_test(tc, key_file_refusals);
	tcase_add_test(tc, key_file_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, fresh_store);
	tcase_add_test(tc, cleartext_from_older_store);
	tcase_add_test(tc, rotation);
	tcase_add_test(tc, rotation_commit_fails);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(secrets_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
