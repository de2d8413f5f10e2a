/*
 * check-powerloss.c: simulated power loss under the real store code.
 *
 * A test-only SQLite VFS ("powerloss", made the default here and nowhere
 * else) wraps the unix VFS. It keeps, for every named file SQLite opens
 * (the database, its -wal, a -journal), the before-image of each 512-byte
 * sector written or truncated away since that file's last xSync, and the
 * size it had then; xSync makes them durable (and does not call fsync, so
 * the test is fast). It counts the I/O operations (xWrite, xTruncate,
 * xSync, xDelete) and at the Nth one the power goes: that operation and
 * every later one fail without effect. Then the store is closed (what the
 * dead process would have done is refused), and "reboot" rewrites the
 * files as a disk may leave them:
 *   - drop: every unsynced sector goes back to its synced contents and
 *     every file to its synced size;
 *   - tear: each unsynced sector independently keeps its new or its old
 *     contents (zeros past the old end), and each file keeps its old or
 *     new size; the -shm file is overwritten with garbage.
 * File creation and deletion are taken as durable at once (directory
 * entries are not modelled).
 *
 * The workload runs through store_open (schema creation included) and
 * store_write/group commit, writing session log rows with
 * session_log_append() in batches of 1-4 writes, recording which writes
 * were acknowledged (their done callback said ok). A small
 * wal_autocheckpoint makes checkpoints and WAL restarts happen inside the
 * workload. For every N from 1 to the number of I/O operations that
 * creating the store makes, and then from 1 to the number the workload
 * makes on a created store (plus a power cut after it ends), in both
 * modes: store_open succeeds on the surviving files, PRAGMA
 * integrity_check is "ok", the rows present are a prefix of the writes
 * made ending at a batch boundary, and with synchronous FULL (the
 * default, [store] synchronous) it includes every acknowledged write. The
 * same simulation with synchronous NORMAL (every 5th N) must lose
 * acknowledged writes in some cuts: that shows it bites (NORMAL promises
 * to survive a crash of the process, not of the machine).
 */
#include "autokittehd.h"

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR		512
#define NBATCH		40	/* commits in the workload, after the first */
#define MAXWRITES	(1 + NBATCH * 4)
#define SESSION_ID	"ses_powerloss"

/* ---- the VFS shim ---- */

struct pl_saved {
	sqlite3_int64	 sector;
	unsigned char	 old[SECTOR];
};

/* A file SQLite named, across its opens. */
struct pl_state {
	char		*path;
	sqlite3_int64	 synced_size;
	unsigned char	*dirty;		/* bitmap of sectors saved */
	size_t		 dirty_bytes;
	struct pl_saved	*saved;
	size_t		 nsaved, cap;
	struct pl_state	*next;
};

struct pl_file {
	sqlite3_file	 base;
	struct pl_state	*st;		/* NULL: an unnamed temporary file */
	sqlite3_file	*real;
};

static struct {
	sqlite3_vfs	*real;
	struct pl_state	*states;
	long		 ops;		/* I/O operations so far */
	long		 crash_at;	/* 0: never */
	int		 crashed;
} pl;

static struct pl_state *
pl_state_find(const char *path)
{
	for (struct pl_state *st = pl.states; st != NULL; st = st->next) {
		if (strcmp(st->path, path) == 0)
			return st;
	}
	return NULL;
}

static void
pl_state_clear(struct pl_state *st)
{
	free(st->saved);
	st->saved = NULL;
	st->nsaved = st->cap = 0;
	memset(st->dirty, 0, st->dirty_bytes);
}

static void
pl_state_free(struct pl_state *st)
{
	free(st->path);
	free(st->saved);
	free(st->dirty);
	free(st);
}

static void
pl_forget(const char *path)
{
	for (struct pl_state **p = &pl.states; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->path, path) == 0) {
			struct pl_state *st = *p;

			*p = st->next;
			pl_state_free(st);
			return;
		}
	}
}

static void
pl_reset(void)
{
	while (pl.states != NULL) {
		struct pl_state *st = pl.states;

		pl.states = st->next;
		pl_state_free(st);
	}
	pl.ops = 0;
	pl.crash_at = 0;
	pl.crashed = 0;
}

/* One more I/O operation: 1 if the power is (now) off. */
static int
pl_tick(void)
{
	if (pl.crashed)
		return 1;
	pl.ops++;
	if (pl.crash_at != 0 && pl.ops >= pl.crash_at)
		pl.crashed = 1;
	return pl.crashed;
}

/* Keep the synced contents of sectors first..last before they change. */
static int
pl_save(struct pl_state *st, sqlite3_file *real, sqlite3_int64 first,
    sqlite3_int64 last)
{
	for (sqlite3_int64 sec = first; sec <= last; sec++) {
		size_t byte = (size_t)(sec / 8);
		struct pl_saved *sv;
		int rc;

		if (byte >= st->dirty_bytes) {
			size_t n = byte * 2 + 64;

			st->dirty = xreallocarray(st->dirty, n, 1);
			memset(st->dirty + st->dirty_bytes, 0, n -
			    st->dirty_bytes);
			st->dirty_bytes = n;
		}
		if (st->dirty[byte] & (1 << (sec % 8)))
			continue;
		st->dirty[byte] |= (unsigned char)(1 << (sec % 8));
		if (st->nsaved == st->cap) {
			st->cap = st->cap == 0 ? 64 : st->cap * 2;
			st->saved = xreallocarray(st->saved, st->cap,
			    sizeof *st->saved);
		}
		sv = &st->saved[st->nsaved++];
		sv->sector = sec;
		/* Past the end reads short, zero-filled: what we want. */
		rc = real->pMethods->xRead(real, sv->old, SECTOR, sec * SECTOR);
		if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
			return rc;
	}
	return SQLITE_OK;
}

static int
pl_close(sqlite3_file *f)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xClose(p->real);
}

static int
pl_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xRead(p->real, buf, amt, off);
}

static int
pl_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct pl_file *p = (struct pl_file *)f;
	int rc;

	if (p->st != NULL) {
		if (pl_tick())
			return SQLITE_IOERR_WRITE;
		rc = pl_save(p->st, p->real, off / SECTOR, (off + amt - 1) /
		    SECTOR);
		if (rc != SQLITE_OK)
			return rc;
	}
	return p->real->pMethods->xWrite(p->real, buf, amt, off);
}

static int
pl_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct pl_file *p = (struct pl_file *)f;
	sqlite3_int64 cur;
	int rc;

	if (p->st != NULL) {
		if (pl_tick())
			return SQLITE_IOERR_TRUNCATE;
		rc = p->real->pMethods->xFileSize(p->real, &cur);
		if (rc == SQLITE_OK && cur > size)
			rc = pl_save(p->st, p->real, size / SECTOR, (cur - 1) /
			    SECTOR);
		if (rc != SQLITE_OK)
			return rc;
	}
	return p->real->pMethods->xTruncate(p->real, size);
}

/* Durable now. No fsync: the simulation decides what survives. */
static int
pl_sync(sqlite3_file *f, int flags)
{
	struct pl_file *p = (struct pl_file *)f;
	sqlite3_int64 size;
	int rc;

	if (p->st == NULL)
		return SQLITE_OK;
	if (pl_tick())
		return SQLITE_IOERR_FSYNC;
	rc = p->real->pMethods->xFileSize(p->real, &size);
	if (rc != SQLITE_OK)
		return rc;
	p->st->synced_size = size;
	pl_state_clear(p->st);
	return SQLITE_OK;
}

static int
pl_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xFileSize(p->real, size);
}

static int
pl_lock(sqlite3_file *f, int level)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xLock(p->real, level);
}

static int
pl_unlock(sqlite3_file *f, int level)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xUnlock(p->real, level);
}

static int
pl_check_reserved(sqlite3_file *f, int *out)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int
pl_file_control(sqlite3_file *f, int op, void *arg)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int
pl_sector_size(sqlite3_file *f)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xSectorSize(p->real);
}

static int
pl_device_characteristics(sqlite3_file *f)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xDeviceCharacteristics(p->real);
}

static int
pl_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xShmMap(p->real, pg, pgsz, extend, pp);
}

static int
pl_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	struct pl_file *p = (struct pl_file *)f;

	return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

static void
pl_shm_barrier(sqlite3_file *f)
{
	struct pl_file *p = (struct pl_file *)f;

	p->real->pMethods->xShmBarrier(p->real);
}

static int
pl_shm_unmap(sqlite3_file *f, int delete_flag)
{
	struct pl_file *p = (struct pl_file *)f;

	/* A dead machine deletes nothing. */
	return p->real->pMethods->xShmUnmap(p->real, delete_flag &&
	    !pl.crashed);
}

/* Version 2: no xFetch, so SQLite never reads through mmap. */
static const sqlite3_io_methods pl_io = {
	2, pl_close, pl_read, pl_write, pl_truncate, pl_sync, pl_file_size,
	pl_lock, pl_unlock, pl_check_reserved, pl_file_control, pl_sector_size,
	pl_device_characteristics, pl_shm_map, pl_shm_lock, pl_shm_barrier,
	pl_shm_unmap, NULL, NULL,
};

static int
pl_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out_flags)
{
	struct pl_file *p = (struct pl_file *)f;
	sqlite3_int64 size = 0;
	int rc;

	p->real = (sqlite3_file *)(p + 1);
	p->st = NULL;
	rc = pl.real->xOpen(pl.real, name, p->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		f->pMethods = NULL;
		return rc;
	}
	f->pMethods = &pl_io;
	if (name != NULL && !(flags & SQLITE_OPEN_DELETEONCLOSE)) {
		p->st = pl_state_find(name);
		if (p->st == NULL) {
			/* What is there when we first see it is durable. */
			p->st = xcalloc(1, sizeof *p->st);
			p->st->path = xstrdup(name);
			if (p->real->pMethods->xFileSize(p->real, &size) ==
			    SQLITE_OK)
				p->st->synced_size = size;
			p->st->next = pl.states;
			pl.states = p->st;
		}
	}
	return SQLITE_OK;
}

static int
pl_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	if (pl_tick())
		return SQLITE_IOERR_DELETE;
	pl_forget(name);
	return pl.real->xDelete(pl.real, name, sync_dir);
}

static int
pl_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return pl.real->xAccess(pl.real, name, flags, out);
}

static int
pl_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return pl.real->xFullPathname(pl.real, name, n, out);
}

static int
pl_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return pl.real->xRandomness(pl.real, n, out);
}

static int
pl_sleep(sqlite3_vfs *vfs, int us)
{
	return pl.real->xSleep(pl.real, us);
}

static int
pl_current_time(sqlite3_vfs *vfs, double *t)
{
	return pl.real->xCurrentTime(pl.real, t);
}

static int
pl_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return pl.real->xGetLastError(pl.real, n, out);
}

static int
pl_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
	return pl.real->xCurrentTimeInt64(pl.real, t);
}

static sqlite3_vfs pl_vfs;

static void
pl_register(void)
{
	pl.real = sqlite3_vfs_find(NULL);
	if (pl.real == NULL)
		fatalx("no default SQLite VFS");
	memset(&pl_vfs, 0, sizeof pl_vfs);
	pl_vfs.iVersion = 2;
	pl_vfs.szOsFile = (int)sizeof(struct pl_file) + pl.real->szOsFile;
	pl_vfs.mxPathname = pl.real->mxPathname;
	pl_vfs.zName = "powerloss";
	pl_vfs.xOpen = pl_open;
	pl_vfs.xDelete = pl_delete;
	pl_vfs.xAccess = pl_access;
	pl_vfs.xFullPathname = pl_full_pathname;
	pl_vfs.xRandomness = pl_randomness;
	pl_vfs.xSleep = pl_sleep;
	pl_vfs.xCurrentTime = pl_current_time;
	pl_vfs.xGetLastError = pl_last_error;
	pl_vfs.xCurrentTimeInt64 = pl_current_time64;
	if (sqlite3_vfs_register(&pl_vfs, 1) != SQLITE_OK)
		fatalx("cannot register the powerloss VFS");
}

static void *
read_whole(const char *path, size_t *len)
{
	struct stat sb;
	void *p;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	p = xmalloc((size_t)sb.st_size + 1);
	ck_assert_int_eq(read(fd, p, (size_t)sb.st_size), sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return p;
}

/* ---- rebooting ---- */

enum pl_mode { PL_DROP, PL_TEAR };

struct pl_rng {
	uint64_t	 x;
};

static unsigned
pl_rand(struct pl_rng *r)
{
	r->x ^= r->x << 13;
	r->x ^= r->x >> 7;
	r->x ^= r->x << 17;
	return (unsigned)(r->x >> 32);
}

struct pl_stats {
	long	 restored, kept;	/* unsynced sectors */
};

/* What the disk holds after the power comes back. */
static void
pl_reboot(enum pl_mode mode, struct pl_rng *rng, const char *db,
    struct pl_stats *stats)
{
	char *shm;
	int fd;

	for (struct pl_state *st = pl.states; st != NULL; st = st->next) {
		struct stat sb;
		off_t size;

		fd = open(st->path, O_RDWR);
		if (fd == -1)
			continue;	/* deleted */
		ck_assert_int_eq(fstat(fd, &sb), 0);
		size = (off_t)st->synced_size;
		if (mode == PL_TEAR && pl_rand(rng) % 2 != 0)
			size = sb.st_size;
		for (size_t i = 0; i < st->nsaved; i++) {
			struct pl_saved *sv = &st->saved[i];

			if (mode == PL_TEAR && pl_rand(rng) % 2 != 0) {
				stats->kept++;
				continue;
			}
			ck_assert_int_eq(pwrite(fd, sv->old, SECTOR, (off_t)
			    sv->sector * SECTOR), SECTOR);
			stats->restored++;
		}
		ck_assert_int_eq(ftruncate(fd, size), 0);
		close(fd);
	}
	/* The wal-index is never synced: anything may be in it. */
	xasprintf(&shm, "%s-shm", db);
	if (mode == PL_DROP)
		unlink(shm);
	else if ((fd = open(shm, O_RDWR)) != -1) {
		struct stat sb;
		unsigned char junk[4096];

		ck_assert_int_eq(fstat(fd, &sb), 0);
		for (off_t off = 0; off < sb.st_size; off += (off_t)sizeof junk) {
			for (size_t i = 0; i < sizeof junk; i++)
				junk[i] = (unsigned char)pl_rand(rng);
			ck_assert_int_ge(pwrite(fd, junk, sizeof junk, off), 0);
		}
		ck_assert_int_eq(ftruncate(fd, sb.st_size), 0);
		close(fd);
	}
	free(shm);
}

/* ---- the workload ---- */

struct wl_write {
	int		 i;		/* 0: the setup write */
	int		 batch;
	int		*acked;
};

struct workload {
	struct wl_write	 w[MAXWRITES];
	int		 acked[MAXWRITES];
	int		 batch_of[MAXWRITES];
	int		 nwrites;	/* made (accepted by store_write) */
};

static int
wl_setup_write(struct store *s, void *arg, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(store_db(s), "INSERT INTO projects (project_id, name, "
	    "created_at) VALUES ('prj_powerloss', 'powerloss', 0); "
	    "INSERT INTO sessions (session_id, project_id, state, created_at) "
	    "VALUES ('" SESSION_ID "', 'prj_powerloss', 'running', 0)", NULL,
	    NULL, &err) != SQLITE_OK) {
		xasprintf(cause, "%s", err);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
wl_log_write(struct store *s, void *arg, char **cause)
{
	struct wl_write *w = arg;
	size_t padlen = (size_t)(w->i * 389 % 1800);
	char *pad = xmalloc(padlen + 1);
	json_t *data;
	int rc;

	memset(pad, 'a' + w->i % 26, padlen);
	pad[padlen] = '\0';
	data = json_pack("{s:i, s:i, s:s}", "i", w->i, "batch", w->batch,
	    "pad", pad);
	rc = session_log_append(s, SESSION_ID, "PRINT", data);
	json_decref(data);
	free(pad);
	if (rc != 0)
		xasprintf(cause, "session_log_append failed");
	return rc;
}

static void
wl_done(int ok, const char *cause, void *arg)
{
	struct wl_write *w = arg;

	if (ok)
		w->acked[w->i] = 1;
}

static void
wl_commit(struct event_base *base, struct store *s)
{
	for (int turn = 0; turn < 10 && store_pending(s) > 0; turn++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* Until the power goes (or to the end). */
static void
wl_run(struct workload *wl, const char *db, int sync)
{
	struct event_base *base = event_base_new();
	struct store *s;
	char *cause = NULL;
	int i = 1;

	s = store_open(db, sync, STORE_CHECK_ALWAYS, base, &cause);
	if (s == NULL) {
		ck_assert_msg(pl.crashed, "store_open with the power on: %s",
		    cause);
		free(cause);
		event_base_free(base);
		return;
	}
	/* Checkpoints and WAL restarts within the workload. */
	sqlite3_exec(store_db(s), "PRAGMA wal_autocheckpoint = 16", NULL, NULL,
	    NULL);
	wl->w[0] = (struct wl_write){ 0, 0, wl->acked };
	if (store_write(s, wl_setup_write, NULL, wl_done, &wl->w[0],
	    &cause) != 0) {
		free(cause);
		cause = NULL;
	} else
		wl->nwrites = 1;
	wl_commit(base, s);
	for (int b = 1; b <= NBATCH && !pl.crashed; b++) {
		int k = 1 + (b * 7) % 4;

		for (int j = 0; j < k && !pl.crashed; j++, i++) {
			wl->w[i] = (struct wl_write){ i, b, wl->acked };
			wl->batch_of[i] = b;
			if (store_write(s, wl_log_write, &wl->w[i], wl_done,
			    &wl->w[i], &cause) != 0) {
				free(cause);
				cause = NULL;
				break;
			}
			wl->nwrites = i + 1;
		}
		wl_commit(base, s);
	}
	/* The power goes now if it has not yet: nothing more is saved. */
	pl.crashed = 1;
	store_close(s);
	event_base_free(base);
}

struct verdict {
	int	 lost;		/* acknowledged writes missing */
	int	 present;	/* writes present */
};

/* Reopen, check, and compare with what was acknowledged. */
static void
wl_verify(struct workload *wl, const char *db, int sync, long n,
    const char *mode, struct verdict *v)
{
	struct store *s;
	sqlite3_stmt *st;
	char *cause = NULL;
	int m = 0, setup = 0;

	pl.crashed = 0;
	pl.crash_at = 0;
	s = store_open(db, sync, STORE_CHECK_ALWAYS, NULL, &cause);
	ck_assert_msg(s != NULL, "N=%ld %s: the store does not open after "
	    "the power loss: %s", n, mode, cause);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(s), "PRAGMA "
	    "integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_msg(strcmp((const char *)sqlite3_column_text(st, 0), "ok")
	    == 0, "N=%ld %s: integrity_check: %s", n, mode,
	    sqlite3_column_text(st, 0));
	sqlite3_finalize(st);

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(s), "SELECT count(*) "
	    "FROM sessions WHERE session_id = '" SESSION_ID "'", -1, &st,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	setup = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	/* The rows, in log order: writes 1..m exactly. */
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(s), "SELECT seq, "
	    "json_extract(data, '$.i'), json_extract(data, '$.batch'), "
	    "length(json_extract(data, '$.pad')) FROM session_logs WHERE "
	    "session_id = '" SESSION_ID "' ORDER BY seq", -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int i = sqlite3_column_int(st, 1);

		m++;
		ck_assert_msg(sqlite3_column_int(st, 0) == m && i == m,
		    "N=%ld %s: row %d is write %d: not a prefix", n, mode, m,
		    i);
		ck_assert_int_lt(i, wl->nwrites);
		ck_assert_int_eq(sqlite3_column_int(st, 2), wl->batch_of[i]);
		ck_assert_int_eq(sqlite3_column_int(st, 3), i * 389 % 1800);
	}
	sqlite3_finalize(st);
	ck_assert_msg(m == 0 || setup == 1, "N=%ld %s: log rows without their "
	    "session", n, mode);
	/* Whole batches only. */
	ck_assert_msg(m + 1 >= wl->nwrites || m == 0 ||
	    wl->batch_of[m + 1] != wl->batch_of[m], "N=%ld %s: batch %d is "
	    "half there", n, mode, wl->batch_of[m]);

	v->present = m;
	v->lost = 0;
	if (wl->acked[0] && !setup)
		v->lost++;
	for (int i = m + 1; i < wl->nwrites; i++)
		v->lost += wl->acked[i];
	store_close(s);
}

struct sweep {
	long	 create_ops;	/* I/O operations creating the store */
	long	 work_ops;	/* ... of the workload on a created one */
	long	 cuts;		/* power cuts simulated */
	long	 cuts_losing;	/* ... after which acknowledged writes were lost */
	long	 lost;		/* acknowledged writes lost, summed */
	long	 acked_max;	/* the most acknowledged before a cut */
	struct pl_stats stats;
};

static void
remove_store(const char *db)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char *path;

	for (size_t i = 0; i < nitems(suffix); i++) {
		xasprintf(&path, "%s%s", db, suffix[i]);
		ck_assert_msg(unlink(path) == 0 || errno == ENOENT, "%s: %s",
		    path, strerror(errno));
		free(path);
	}
}

/* A store created and closed cleanly, or none (tmpl == NULL). */
static void
put_store(const char *db, const void *tmpl, size_t len)
{
	int fd;

	remove_store(db);
	if (tmpl == NULL)
		return;
	fd = open(db, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, tmpl, len), (ssize_t)len);
	close(fd);
}

static void
one_cut(const char *db, int sync, enum pl_mode mode, long n,
    const void *tmpl, size_t tmpl_len, struct sweep *sw)
{
	struct workload *wl = xcalloc(1, sizeof *wl);
	struct pl_rng rng = { 0x9e3779b97f4a7c15ULL ^ (uint64_t)n ^
	    (tmpl != NULL ? 0x5555ULL << 40 : 0) };
	struct verdict v;
	long acked = 0;

	put_store(db, tmpl, tmpl_len);
	pl_reset();
	pl.crash_at = n;
	wl_run(wl, db, sync);
	for (int i = 0; i < wl->nwrites; i++)
		acked += wl->acked[i];
	if (acked > sw->acked_max)
		sw->acked_max = acked;
	pl_reboot(mode, &rng, db, &sw->stats);
	wl_verify(wl, db, sync, n, mode == PL_DROP ? "drop" : "tear", &v);
	sw->cuts++;
	if (v.lost > 0) {
		sw->cuts_losing++;
		sw->lost += v.lost;
	}
	pl_reset();
	free(wl);
}

/*
 * Every stride-th N over the creation of the store, then over the
 * workload on a created store (and a cut after it ends), in both modes.
 */
static void
sweep(int sync, long stride, struct sweep *sw)
{
	char dir[] = "/dev/shm/check-powerloss.XXXXXX";
	struct workload *wl = xcalloc(1, sizeof *wl);
	struct store *s;
	char *db, *cause = NULL;
	void *tmpl;
	size_t tmpl_len;

	memset(sw, 0, sizeof *sw);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	xasprintf(&db, "%s/autokitteh.db", dir);

	/* The template: a store created, and closed (no -wal left). */
	pl_reset();
	s = store_open(db, sync, STORE_CHECK_ALWAYS, NULL, &cause);
	ck_assert_msg(s != NULL, "store_open: %s", cause);
	sw->create_ops = pl.ops;
	store_close(s);
	tmpl = read_whole(db, &tmpl_len);
	ck_assert_int_gt(tmpl_len, 0);

	/* The uninterrupted workload: its length, and all acknowledged. */
	put_store(db, tmpl, tmpl_len);
	pl_reset();
	wl_run(wl, db, sync);
	sw->work_ops = pl.ops;
	ck_assert_int_gt(wl->nwrites, 2 * NBATCH);
	for (int i = 0; i < wl->nwrites; i++)
		ck_assert_msg(wl->acked[i], "write %d not acknowledged without "
		    "a power cut", i);
	pl_reset();
	free(wl);

	for (long n = 1; n <= sw->create_ops; n += stride) {
		one_cut(db, sync, PL_DROP, n, NULL, 0, sw);
		one_cut(db, sync, PL_TEAR, n, NULL, 0, sw);
	}
	for (long n = 1; n <= sw->work_ops + 1; n += stride) {
		one_cut(db, sync, PL_DROP, n, tmpl, tmpl_len, sw);
		one_cut(db, sync, PL_TEAR, n, tmpl, tmpl_len, sw);
	}
	remove_store(db);
	ck_assert_int_eq(rmdir(dir), 0);
	free(tmpl);
	free(db);
	printf("synchronous=%s: %ld power cuts, drop and tear, at every "
	    "I/O operation%s (N=1..%ld creating the store, N=1..%ld+1 over %d "
	    "commits); %ld unsynced sectors reverted, %ld kept; up to %ld "
	    "writes acknowledged before a cut; %ld cuts lost acknowledged "
	    "writes (%ld writes in all)\n",
	    sync == STORE_SYNC_FULL ? "full" : "normal", sw->cuts,
	    stride == 1 ? "" : " of a sample",
	    sw->create_ops, sw->work_ops, NBATCH + 1, sw->stats.restored,
	    sw->stats.kept, sw->acked_max, sw->cuts_losing, sw->lost);
}

START_TEST(powerloss_full_loses_nothing)
{
	struct sweep sw;

	sweep(STORE_SYNC_FULL, 1, &sw);
	ck_assert_int_gt(sw.create_ops, 20);
	ck_assert_int_gt(sw.work_ops, 200);
	ck_assert_int_gt(sw.stats.restored, 0);
	ck_assert_int_gt(sw.stats.kept, 0);
	ck_assert_int_gt(sw.acked_max, NBATCH);
	ck_assert_msg(sw.lost == 0, "synchronous=full lost %ld acknowledged "
	    "writes in %ld of %ld power cuts", sw.lost, sw.cuts_losing,
	    sw.cuts);
}
END_TEST

/* The same simulation must catch a store that does not sync each commit. */
START_TEST(powerloss_normal_loses_some)
{
	struct sweep sw;

	sweep(STORE_SYNC_NORMAL, 5, &sw);
	ck_assert_msg(sw.cuts_losing > 0, "synchronous=normal lost nothing "
	    "in %ld power cuts: the simulation is not biting", sw.cuts);
}
END_TEST

static Suite *
powerloss_suite(void)
{
	Suite *s = suite_create("powerloss");
	TCase *tc = tcase_create("powerloss");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, powerloss_full_loses_nothing);
	tcase_add_test(tc, powerloss_normal_loses_some);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failures;

	/* The failed commits after each cut are expected: errors only. */
	log_open("check-powerloss", 1, LOG_LEVEL_ERROR);
	pl_register();
	sr = srunner_create(powerloss_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
