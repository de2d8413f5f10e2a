/*
 * secrets.c: secrets at rest (docs/SECURITY.md, "Secrets at rest").
 *
 * Secret vars and every var of a connection are stored sealed: encrypted
 * with AES-256-GCM under a random data key (the DEK), with a fresh random
 * 96-bit nonce per value and the record's identity as additional data, so
 * that a ciphertext copied into another record does not open. The DEK lives
 * in the store's secret_keys table, itself sealed ("wrapped") the same way
 * under the master key: 32 random bytes in [secrets] key_file, which we
 * create (mode 0600) at first start. We refuse to start when that file may
 * be read by its group or others, has the wrong size, belongs to another
 * user, or does not unwrap the store's DEK.
 *
 * A sealed value is: format version (1 byte, 1), the id of the key that
 * sealed it (4 bytes, big endian), the nonce (12 bytes), the ciphertext
 * (as long as the plaintext) and the GCM tag (16 bytes). The version and
 * key id are authenticated too: they start the additional data.
 *
 * Only the DEK stays in memory, in a page of its own that is locked
 * (never swapped), left out of core dumps and of forked children (the
 * workers), and wiped at exit. The
 * master key is read when needed and wiped at once. Rotating it is in
 * secrets-rotate.c; start-up here finishes or discards a rotation that a
 * crash interrupted (the crash windows are in docs/SECURITY.md).
 */
#include "autokittehd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SECRETS_VERSION		1
#define SECRETS_DEK_AAD		"autokitteh data key"

/* The key material, in one locked page. */
struct keyring {
	unsigned char	 dek[SECRETS_KEY_SIZE];
	/* Working space; SECRETS_SPARE_KEK is secrets_key_file_unwrap()'s. */
	unsigned char	 spare[SECRETS_SPARES][SECRETS_KEY_SIZE];
	uint32_t	 dek_id;
	int		 loaded;
};

static struct keyring *keyring;
static size_t keyring_size;
static char *keyring_file;		/* the master key's file */

/* ---- the primitives ---- */

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Seal len bytes of plain under key: a new buffer of len +
 * SECRETS_OVERHEAD bytes in *out. aad names the record the value belongs
 * to. -1 only if OpenSSL fails (no randomness, no cipher).
 */
int
secrets_encrypt(const unsigned char key[SECRETS_KEY_SIZE], uint32_t key_id,
    const char *aad, const void *plain, size_t len, unsigned char **out,
    size_t *outlen)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char *buf, *ct;
	int n, ok;

	*out = NULL;
	*outlen = 0;
	if (len > SECRETS_PLAIN_MAX)
		return -1;
	buf = xmalloc(len + SECRETS_OVERHEAD);
	buf[0] = SECRETS_VERSION;
	put_be32(buf + 1, key_id);
	ct = buf + SECRETS_HEADER_SIZE;
	if (RAND_bytes(buf + 5, SECRETS_NONCE_SIZE) != 1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL) {
		free(buf);
		return -1;
	}
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) ==
	    1 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    SECRETS_NONCE_SIZE, NULL) == 1 &&
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, buf + 5) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, buf, 5) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1 &&
	    (len == 0 || EVP_EncryptUpdate(ctx, ct, &n, plain, (int)len) ==
	    1) &&
	    EVP_EncryptFinal_ex(ctx, ct + len, &n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRETS_TAG_SIZE,
	    ct + len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = len + SECRETS_OVERHEAD;
	return 0;
}

/* The key id in a sealed value's header: 0, or -1 if it is no such value. */
int
secrets_sealed_key_id(const unsigned char *sealed, size_t len,
    uint32_t *key_id)
{
	if (sealed == NULL || len < SECRETS_OVERHEAD ||
	    sealed[0] != SECRETS_VERSION)
		return -1;
	*key_id = get_be32(sealed + 1);
	return 0;
}

/*
 * Open a sealed value: the plaintext in *plain (NUL-terminated, *plainlen
 * bytes before the NUL), or -1 with *cause when it is malformed or does
 * not authenticate (another key, another record, or changed bytes).
 */
int
secrets_decrypt(const unsigned char key[SECRETS_KEY_SIZE], const char *aad,
    const unsigned char *sealed, size_t len, unsigned char **plain,
    size_t *plainlen, char **cause)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char *buf, tag[SECRETS_TAG_SIZE];
	size_t ctlen;
	int n, ok;

	*plain = NULL;
	*plainlen = 0;
	if (sealed == NULL || len < SECRETS_OVERHEAD) {
		xasprintf(cause, "a sealed value is at least %d bytes; this "
		    "one has %zu", SECRETS_OVERHEAD, len);
		return -1;
	}
	if (sealed[0] != SECRETS_VERSION) {
		xasprintf(cause, "a sealed value in format %u, which this "
		    "autokittehd does not know (it knows %d)", sealed[0],
		    SECRETS_VERSION);
		return -1;
	}
	ctlen = len - SECRETS_OVERHEAD;
	if (ctlen > SECRETS_PLAIN_MAX) {
		xasprintf(cause, "a sealed value of %zu bytes is too large",
		    len);
		return -1;
	}
	memcpy(tag, sealed + len - SECRETS_TAG_SIZE, sizeof tag);
	buf = xmalloc(ctlen + 1);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		free(buf);
		xasprintf(cause, "OpenSSL cannot make a cipher context");
		return -1;
	}
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) ==
	    1 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    SECRETS_NONCE_SIZE, NULL) == 1 &&
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, sealed + 5) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, sealed, 5) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1 &&
	    (ctlen == 0 || EVP_DecryptUpdate(ctx, buf, &n, sealed +
	    SECRETS_HEADER_SIZE, (int)ctlen) == 1) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRETS_TAG_SIZE,
	    tag) == 1 &&
	    EVP_DecryptFinal_ex(ctx, buf + ctlen, &n) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(buf, ctlen);
		free(buf);
		xasprintf(cause, "a sealed value does not authenticate: it was "
		    "sealed with another key or for another record, or it was "
		    "changed");
		return -1;
	}
	buf[ctlen] = '\0';
	*plain = buf;
	*plainlen = ctlen;
	return 0;
}

/* Free a plaintext from secrets_decrypt() or secrets_open(), wiped. */
void
secrets_free(void *plain, size_t len)
{
	if (plain == NULL)
		return;
	OPENSSL_cleanse(plain, len);
	free(plain);
}

/* Wrap and unwrap a DEK under a master key. */
int
secrets_wrap_dek(const unsigned char kek[SECRETS_KEY_SIZE],
    const unsigned char dek[SECRETS_KEY_SIZE], uint32_t dek_id,
    unsigned char **wrapped, size_t *len)
{
	return secrets_encrypt(kek, dek_id, SECRETS_DEK_AAD, dek,
	    SECRETS_KEY_SIZE, wrapped, len);
}

int
secrets_unwrap_dek(const unsigned char kek[SECRETS_KEY_SIZE],
    const unsigned char *wrapped, size_t len, uint32_t dek_id,
    unsigned char dek[SECRETS_KEY_SIZE], char **cause)
{
	unsigned char *plain;
	size_t plen;
	uint32_t id;

	if (secrets_sealed_key_id(wrapped, len, &id) != 0 || id != dek_id) {
		xasprintf(cause, "the store's wrapped data key %u is "
		    "malformed", dek_id);
		return -1;
	}
	if (secrets_decrypt(kek, SECRETS_DEK_AAD, wrapped, len, &plain, &plen,
	    cause) != 0)
		return -1;
	if (plen != SECRETS_KEY_SIZE) {
		secrets_free(plain, plen);
		xasprintf(cause, "the store's data key %u is %zu bytes, not "
		    "%d", dek_id, plen, SECRETS_KEY_SIZE);
		return -1;
	}
	memcpy(dek, plain, SECRETS_KEY_SIZE);
	secrets_free(plain, plen);
	return 0;
}

/* ---- the key file ---- */

/* fsync the directory that holds path, so a new name in it is durable. */
int
secrets_sync_dir(const char *path, char **cause)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd, rc = 0;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		xasprintf(cause, "cannot sync the directory %s: %s", dir,
		    strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	free(dir);
	return rc;
}

/*
 * Read the master key from path: 1 read, 0 the file does not exist, -1
 * with *cause when it cannot be used: not a regular file, not ours, open
 * to group or others, or not exactly SECRETS_KEY_SIZE bytes.
 */
int
secrets_key_file_read(const char *path, unsigned char key[SECRETS_KEY_SIZE],
    char **cause)
{
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			return 0;
		xasprintf(cause, "cannot open the secrets key file %s: %s; it "
		    "must be readable by the daemon's user (uid %u) and no one "
		    "else", path, strerror(errno), (unsigned)geteuid());
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(cause, "the secrets key file %s is not a regular "
		    "file; set [secrets] key_file to the key's file", path);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		xasprintf(cause, "the secrets key file %s belongs to uid %u, "
		    "not to the daemon's user (uid %u): run 'chown %u %s'",
		    path, (unsigned)st.st_uid, (unsigned)geteuid(),
		    (unsigned)geteuid(), path);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		xasprintf(cause, "the secrets key file %s is open to %s (mode "
		    "%04o): whoever can read it can decrypt the secrets in the "
		    "store. Run 'chmod 600 %s', and if others may have read "
		    "it, 'akctl secrets rotate' once the daemon is up", path,
		    (st.st_mode & S_IRWXO) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_size != SECRETS_KEY_SIZE) {
		xasprintf(cause, "the secrets key file %s is %lld bytes long; "
		    "a key file holds exactly %d random bytes. Restore the key "
		    "file that belongs with this store, or set [secrets] "
		    "key_file to it", path, (long long)st.st_size,
		    SECRETS_KEY_SIZE);
		goto fail;
	}
	while (off < SECRETS_KEY_SIZE) {
		n = read(fd, key + off, SECRETS_KEY_SIZE - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			xasprintf(cause, "cannot read the secrets key file %s: "
			    "%s", path, n == 0 ? "it is shorter than its size" :
			    strerror(errno));
			OPENSSL_cleanse(key, SECRETS_KEY_SIZE);
			goto fail;
		}
		off += (size_t)n;
	}
	close(fd);
	return 1;
fail:
	close(fd);
	return -1;
}

/*
 * Create path holding key, all or nothing: written and synced under a
 * temporary name (O_CREAT|O_EXCL, mode 0600), then linked to path, which
 * must not exist, and the directory synced. A crash leaves either no
 * path or a complete one (and perhaps a stale path.tmp, removed next
 * time).
 */
int
secrets_key_file_create(const char *path,
    const unsigned char key[SECRETS_KEY_SIZE], char **cause)
{
	char *tmp;
	ssize_t n;
	int fd, rc = -1;

	xasprintf(&tmp, "%s.tmp", path);
	if (unlink(tmp) == -1 && errno != ENOENT) {
		xasprintf(cause, "cannot remove %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		xasprintf(cause, "cannot create the secrets key file %s: %s; "
		    "its directory must exist and be writable by the daemon's "
		    "user", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	do
		n = write(fd, key, SECRETS_KEY_SIZE);
	while (n == -1 && errno == EINTR);
	if (n != SECRETS_KEY_SIZE || fchmod(fd, 0600) == -1 ||
	    fsync(fd) == -1) {
		xasprintf(cause, "cannot write the secrets key file %s: %s",
		    tmp, n >= 0 && n != SECRETS_KEY_SIZE ? "short write" :
		    strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) == -1) {
		xasprintf(cause, "cannot write the secrets key file %s: %s",
		    tmp, strerror(errno));
		goto out;
	}
	if (link(tmp, path) == -1) {
		xasprintf(cause, "cannot create the secrets key file %s: %s",
		    path, strerror(errno));
		goto out;
	}
	rc = secrets_sync_dir(path, cause);
out:
	unlink(tmp);
	free(tmp);
	return rc;
}

/* [secrets] key_file, or data_dir/secrets.key when it is empty. */
char *
secrets_key_file_path(const struct config *cf)
{
	char *path;

	if (cf->secrets_key_file != NULL && *cf->secrets_key_file != '\0')
		return xstrdup(cf->secrets_key_file);
	xasprintf(&path, "%s/" SECRETS_DEFAULT_KEY_FILE, cf->data_dir);
	return path;
}

/* ---- the keyring ---- */

static void
keyring_alloc(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	keyring_size = page > 0 && (size_t)page >= sizeof *keyring ?
	    (size_t)page : sizeof *keyring;
	p = mmap(NULL, keyring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap for the secrets keyring");
	if (mlock(p, keyring_size) == -1)
		log_info("secrets: cannot lock the key page in memory (%s); "
		    "it may be swapped out", strerror(errno));
#ifdef MADV_DONTDUMP
	if (madvise(p, keyring_size, MADV_DONTDUMP) == -1)
		log_info("secrets: cannot keep the key page out of core "
		    "dumps: %s", strerror(errno));
#endif
	/* Not even between fork and exec does a child get a copy. */
	if (madvise(p, keyring_size, MADV_DONTFORK) == -1)
		log_info("secrets: cannot keep the key page from forked "
		    "children: %s", strerror(errno));
	keyring = p;
}

void
secrets_stop(void)
{
	if (keyring != NULL) {
		OPENSSL_cleanse(keyring, keyring_size);
		munlock(keyring, keyring_size);
		munmap(keyring, keyring_size);
		keyring = NULL;
	}
	free(keyring_file);
	keyring_file = NULL;
}

int
secrets_loaded(void)
{
	return keyring != NULL && keyring->loaded;
}

const char *
secrets_key_file(void)
{
	return keyring_file;
}

uint32_t
secrets_dek_id(void)
{
	return keyring != NULL ? keyring->dek_id : 0;
}

/* The DEK in use, for secrets-rotate.c. */
unsigned char *
secrets_dek(void)
{
	return keyring->dek;
}

/* A key-sized buffer in the locked page, for secrets-rotate.c. */
unsigned char *
secrets_spare_key(int which)
{
	return keyring->spare[which];
}

void
secrets_set_dek(const unsigned char dek[SECRETS_KEY_SIZE], uint32_t id)
{
	memmove(keyring->dek, dek, SECRETS_KEY_SIZE);
	keyring->dek_id = id;
}

/* Seal a value under the DEK in use. */
int
secrets_seal(const char *aad, const void *plain, size_t len,
    unsigned char **out, size_t *outlen, char **cause)
{
	if (!secrets_loaded()) {
		xasprintf(cause, "secrets cannot be stored: no data key is "
		    "loaded");
		return -1;
	}
	if (len > SECRETS_PLAIN_MAX) {
		xasprintf(cause, "a secret is at most %d bytes",
		    SECRETS_PLAIN_MAX);
		return -1;
	}
	if (secrets_encrypt(keyring->dek, keyring->dek_id, aad, plain, len,
	    out, outlen) != 0) {
		xasprintf(cause, "cannot encrypt a secret (OpenSSL failed)");
		return -1;
	}
	return 0;
}

/* Open a value sealed under the DEK in use; see secrets_decrypt(). */
int
secrets_open(const char *aad, const void *sealed, size_t len,
    unsigned char **plain, size_t *plainlen, char **cause)
{
	uint32_t id;

	if (!secrets_loaded()) {
		xasprintf(cause, "secrets cannot be read: no data key is "
		    "loaded");
		return -1;
	}
	if (secrets_sealed_key_id(sealed, len, &id) == 0 &&
	    id != keyring->dek_id) {
		xasprintf(cause, "a value sealed with data key %u, but the "
		    "store's data key is %u", id, keyring->dek_id);
		return -1;
	}
	return secrets_decrypt(keyring->dek, aad, sealed, len, plain,
	    plainlen, cause);
}

/* ---- start-up ---- */

static int
exec_sql(sqlite3 *db, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	xasprintf(cause, "the store: %s: %s", sql, err != NULL ? err :
	    sqlite3_errmsg(db));
	sqlite3_free(err);
	return -1;
}

/*
 * The store's data key, wrapped: 1 found (*wrapped is a new buffer), 0
 * none yet, -1 with *cause.
 */
int
secrets_dek_row(sqlite3 *db, uint32_t *id, unsigned char **wrapped,
    size_t *len, char **cause)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	*wrapped = NULL;
	if (sqlite3_prepare_v2(db, "SELECT key_id, wrapped FROM secret_keys "
	    "ORDER BY key_id DESC", -1, &st, NULL) != SQLITE_OK) {
		xasprintf(cause, "cannot read the store's data key: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ > 0)
			continue;
		*id = (uint32_t)sqlite3_column_int64(st, 0);
		*len = (size_t)sqlite3_column_bytes(st, 1);
		*wrapped = xmalloc(*len + 1);
		if (*len > 0)
			memcpy(*wrapped, sqlite3_column_blob(st, 1), *len);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || n > 1) {
		free(*wrapped);
		*wrapped = NULL;
		if (rc != SQLITE_DONE)
			xasprintf(cause, "cannot read the store's data key: %s",
			    sqlite3_errmsg(db));
		else
			xasprintf(cause, "the store has %d data keys in "
			    "secret_keys; it should have one", n);
		return -1;
	}
	return n;
}

/* A fresh store (or one from before encryption): make its data key. */
static int
dek_create(sqlite3 *db, const unsigned char kek[SECRETS_KEY_SIZE],
    char **cause)
{
	unsigned char *wrapped;
	sqlite3_stmt *st;
	size_t len;
	int rc;

	if (RAND_bytes(keyring->dek, SECRETS_KEY_SIZE) != 1 ||
	    secrets_wrap_dek(kek, keyring->dek, 1, &wrapped, &len) != 0) {
		xasprintf(cause, "cannot make a data key: OpenSSL has no "
		    "randomness or no AES-256-GCM");
		return -1;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO secret_keys (key_id, wrapped, "
	    "created_at, wrapped_at) VALUES (1, ?1, ?2, ?2)", -1, &st, NULL) !=
	    SQLITE_OK) {
		free(wrapped);
		xasprintf(cause, "cannot save the data key: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_blob(st, 1, wrapped, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now_us());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(wrapped);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "cannot save the data key: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	keyring->dek_id = 1;
	return 0;
}

/*
 * The store has a data key (id, wrapped): unwrap it into dek with the key
 * file, or else with KEY_FILE.new, the key of a rotation that committed
 * but did not rename it into place (then finish that). A leftover
 * KEY_FILE.new that is not needed is from a rotation that never
 * committed: remove it. -1 with *cause: no key file opens the store.
 */
int
secrets_key_file_unwrap(const char *path, const char *store_path,
    uint32_t id, const unsigned char *wrapped, size_t len,
    unsigned char dek[SECRETS_KEY_SIZE], char **cause)
{
	unsigned char *kek = keyring->spare[SECRETS_SPARE_KEK];
	char *next, *why = NULL, *why_next = NULL;
	int have, have_next, rc = -1;

	xasprintf(&next, "%s.new", path);
	if ((have = secrets_key_file_read(path, kek, cause)) < 0)
		goto out;
	if (have && secrets_unwrap_dek(kek, wrapped, len, id, dek,
	    &why) == 0) {
		if (unlink(next) == 0) {
			log_notice("secrets: removed %s, left by a key "
			    "rotation that did not commit", next);
			secrets_sync_dir(next, &why_next);
		}
		rc = 0;
		goto out;
	}
	if ((have_next = secrets_key_file_read(next, kek, cause)) < 0)
		goto out;
	if (have_next && secrets_unwrap_dek(kek, wrapped, len, id, dek,
	    &why_next) == 0) {
		if (rename(next, path) == -1) {
			xasprintf(cause, "the store's data key is wrapped by "
			    "the new key %s of an interrupted rotation, but it "
			    "cannot be renamed to %s: %s; rename it by hand",
			    next, path, strerror(errno));
			goto out;
		}
		if (secrets_sync_dir(path, cause) != 0)
			goto out;
		log_notice("secrets: finished an interrupted key rotation: "
		    "%s is now %s", next, path);
		rc = 0;
		goto out;
	}
	if (!have)
		xasprintf(cause, "the secrets key file %s is missing, but the "
		    "store %s holds secrets encrypted under it: restore the "
		    "file from your backup (mode 0600, owned by the daemon's "
		    "user), or set [secrets] key_file to where it is. If it is "
		    "lost, so are the secrets: see \"Secrets at rest\" in "
		    "autokitteh(8)", path, store_path);
	else
		xasprintf(cause, "the secrets key file %s does not decrypt "
		    "the data key of the store %s: it is not the key this "
		    "store's secrets were encrypted with. Restore the key file "
		    "that belongs with this store, or set [secrets] key_file "
		    "to it", path, store_path);
out:
	OPENSSL_cleanse(kek, SECRETS_KEY_SIZE);
	free(why);
	free(why_next);
	free(next);
	return rc;
}

static int
secure_delete_get(sqlite3 *db)
{
	sqlite3_stmt *st;
	int value = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA secure_delete", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return value;
}

static int
secure_delete_set(sqlite3 *db, int value, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(db, value == 0 ? "PRAGMA secure_delete = OFF" : value
	    == 1 ? "PRAGMA secure_delete = ON" : "PRAGMA secure_delete = FAST",
	    NULL, NULL, &err) == SQLITE_OK)
		return 0;
	if (cause != NULL)
		xasprintf(cause, "the store: PRAGMA secure_delete: %s", err);
	sqlite3_free(err);
	return -1;
}

/*
 * Seal what an older store kept in the clear: secret vars and connection
 * vars with no sealed value. secure_delete makes SQLite zero the bytes the
 * cleartext occupied; VACUUM then rebuilds the file, so that no free space
 * keeps an older copy (freed before, without secure_delete); and the
 * TRUNCATE checkpoint empties the WAL, whose old frames held them too.
 * Done once, at the first start after an upgrade.
 */
static int
seal_cleartext(sqlite3 *db, char **cause)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	unsigned char *sealed;
	size_t len, n = 0;
	char *aad;
	int rc, was;

	/* Put back as it was: SQLite may be built with it on (Debian's is). */
	if ((was = secure_delete_get(db)) < 0 ||
	    exec_sql(db, "PRAGMA secure_delete = ON", cause) != 0) {
		if (was < 0)
			xasprintf(cause, "the store: PRAGMA secure_delete: %s",
			    sqlite3_errmsg(db));
		return -1;
	}
	if (exec_sql(db, "BEGIN IMMEDIATE", cause) != 0)
		goto fail_nobegin;
	/* One row at a time, never updating under an open scan. */
	if (sqlite3_prepare_v2(db, "SELECT scope_id, name, value FROM vars "
	    "WHERE sealed IS NULL AND " VARS_SEALED_WHERE " LIMIT 1", -1, &sel,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db, "UPDATE vars SET "
	    "value = '', sealed = ?1 WHERE scope_id = ?2 AND name = ?3", -1,
	    &upd, NULL) != SQLITE_OK) {
		xasprintf(cause, "cannot read the vars: %s",
		    sqlite3_errmsg(db));
		goto fail;
	}
	while (sqlite3_reset(sel), (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *scope = (const char *)sqlite3_column_text(sel, 0);
		const char *name = (const char *)sqlite3_column_text(sel, 1);
		const char *value = (const char *)sqlite3_column_text(sel, 2);

		aad = vars_aad(scope, name);
		if (secrets_seal(aad, value != NULL ? value : "", value !=
		    NULL ? strlen(value) : 0, &sealed, &len, cause) != 0) {
			free(aad);
			goto fail;
		}
		free(aad);
		sqlite3_reset(upd);
		sqlite3_bind_blob(upd, 1, sealed, (int)len, free);
		sqlite3_bind_text(upd, 2, scope, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(upd, 3, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			xasprintf(cause, "cannot seal the vars: %s",
			    sqlite3_errmsg(db));
			goto fail;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "cannot read the vars: %s",
		    sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sel = upd = NULL;
	if (exec_sql(db, "COMMIT", cause) != 0)
		goto fail;
	if (n > 0) {
		notify_status("rewriting the store without its cleartext "
		    "secrets (VACUUM)");
		log_notice("secrets: rewriting the store so that no copy of "
		    "the %zu cleartext value(s) is left (VACUUM; once)", n);
		if (exec_sql(db, "VACUUM", cause) != 0 ||
		    exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)", cause) != 0)
			goto fail_nobegin;
		log_notice("secrets: sealed %zu var value(s) that an older "
		    "autokittehd stored in the clear", n);
	}
	return secure_delete_set(db, was, cause);
fail:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
fail_nobegin:
	secure_delete_set(db, was, NULL);
	return -1;
}

/*
 * Load the data key before the store serves anything: create the key
 * file and the data key for a store that has none, otherwise unwrap it,
 * then seal any cleartext an older autokittehd left. Runs before the
 * event loop, with no group-commit batch open, as migrations do. -1 with
 * *cause means "refuse to start" (EXIT_CONFIG: a restart cannot fix it).
 */
int
secrets_start(struct store *s, const char *key_file, char **cause)
{
	sqlite3 *db = store_db(s);
	unsigned char *wrapped = NULL, *kek;
	uint32_t id = 0;
	size_t len = 0;
	int have, rc = -1;

	secrets_stop();
	keyring_alloc();
	keyring_file = xstrdup(key_file);
	kek = keyring->spare[SECRETS_SPARE_KEK];
	if ((have = secrets_dek_row(db, &id, &wrapped, &len, cause)) < 0)
		goto out;
	if (have) {
		if (secrets_key_file_unwrap(key_file, store_path(s), id,
		    wrapped, len, keyring->dek, cause) != 0)
			goto out;
		keyring->dek_id = id;
	} else {
		if ((have = secrets_key_file_read(key_file, kek, cause)) < 0)
			goto out;
		if (!have) {
			if (RAND_bytes(kek, SECRETS_KEY_SIZE) != 1) {
				xasprintf(cause, "cannot make a secrets key: "
				    "OpenSSL has no randomness");
				goto out;
			}
			if (secrets_key_file_create(key_file, kek, cause) != 0)
				goto out;
			log_notice("secrets: created the key file %s; back it "
			    "up apart from the store: without it the store's "
			    "secrets cannot be read", key_file);
		}
		if (exec_sql(db, "BEGIN IMMEDIATE", cause) != 0)
			goto out;
		if (dek_create(db, kek, cause) != 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		if (exec_sql(db, "COMMIT", cause) != 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		log_info("secrets: made the store's data key");
	}
	keyring->loaded = 1;
	if (seal_cleartext(db, cause) != 0) {
		keyring->loaded = 0;
		goto out;
	}
	log_info("secrets: data key %u loaded with the key file %s",
	    keyring->dek_id, key_file);
	rc = 0;
out:
	OPENSSL_cleanse(kek, SECRETS_KEY_SIZE);
	free(wrapped);
	if (rc != 0)
		secrets_stop();
	return rc;
}
