/*
 * driver.c: a stand-in controller for testing autokitteh-worker by hand.
 *
 *   driver [-DGSvX] [-u uid] [-g gid] [-m bytes] [-c seconds] [-e K=V]...
 *       [-H history] [-R record] [-M max_result_size] [-Y name=JSON]...
 *       WORKER PYTHONPATH DIR [ENTRYPOINT [EVENT_JSON]]
 *
 * Starts `WORKER --zygote` with a socketpair on fd 3, builds every file
 * under DIR in one spawned worker, and, given ENTRYPOINT, runs it in a
 * second one. Every frame received is printed on one line as
 * "TYPE key=value ..." (strings C-escaped), plus timings on "TIME" lines.
 *
 * -D makes the session durable and the driver a durable controller: it
 * answers ACK to every RESULT. Every SYSCALL (durable or not) gets a
 * SYSCALL_RESULT (SUSPEND instead with -S): its result is the JSON text
 * given by -Y NAME=JSON for the syscall's name, {"value": null} for names
 * without one. Several -Y for one name answer its calls in turn, the last
 * one all the calls after. -R FILE records the history (each RESULT as
 * {seq, name, value|error}, each SYSCALL as {seq, name, result}), one
 * msgpack map after another; -H FILE sends such a file as RUN's history.
 * -M sets RUN's max_result_size.
 * -G sends RUN with go: true, then, 300 ms later, says "EARLY" if the worker
 * sent anything meanwhile, and sends GO (-X: an ACK instead, which the
 * worker must refuse).
 * Built by workers/tests/build-driver.sh; used by the *.sh tests here.
 */
#include "common.h"

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

static struct frame_reader	 zreader;
static int			 zfd;
static uint64_t			 opt_uid = 65534, opt_gid = 65534;
static uint64_t			 opt_mem, opt_cpu;
static char			*opt_env[64];
static int			 opt_nenv;
static const char		*files_dir;
static int			 opt_durable, opt_suspend, opt_go, opt_go_wrong;
static const char		*opt_history, *opt_record;
static uint64_t			 opt_max_result;
static uint64_t			 opt_sandbox = UINT64_MAX;	/* -N: SPAWN's bits */
static struct canned {
	char	*name;
	char	*json;
	int	 used;
}				 canned[128];
static size_t			 ncanned;
static FILE			*record;
static char			*paths[256];
static uint8_t			*contents[256];
static size_t			 lens[256], nfiles;

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
print_str(const char *p, size_t n)
{
	size_t	 i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
print_object(const msgpack_object *o)
{
	uint32_t	 i;

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		print_str(o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		printf("<%u bytes>", o->via.bin.size);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		printf("%llu", (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		printf("%lld", (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		printf("%s", o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_ARRAY:
		putchar('[');
		for (i = 0; i < o->via.array.size; i++) {
			if (i)
				fputs(", ", stdout);
			print_object(&o->via.array.ptr[i]);
		}
		putchar(']');
		break;
	case MSGPACK_OBJECT_MAP:
		putchar('{');
		for (i = 0; i < o->via.map.size; i++) {
			if (i)
				fputs(", ", stdout);
			print_object(&o->via.map.ptr[i].key);
			fputs(": ", stdout);
			print_object(&o->via.map.ptr[i].val);
		}
		putchar('}');
		break;
	default:
		printf("<type %d>", o->type);
	}
}

static void
print_msg(const char *who, struct frame_msg *m)
{
	uint32_t	 i;

	printf("%s %s", who, frame_type_name(m->header.type));
	for (i = 0; i < m->map->size; i++) {
		const msgpack_object_kv *kv = &m->map->ptr[i];
		printf(" %.*s=", (int)kv->key.via.str.size, kv->key.via.str.ptr);
		print_object(&kv->val);
	}
	putchar('\n');
	fflush(stdout);
}

/* Blocking receive of one message: 1, or 0 on EOF. Fatal on violation. */
static int
recv_msg(int fd, struct frame_reader *r, struct frame_msg *m)
{
	uint8_t	 buf[65536];
	char	*cause = NULL;
	ssize_t	 n;
	int	 rc, passed;

	for (;;) {
		if ((rc = frame_reader_next(r, m, &cause)) == 1)
			return 1;
		if (rc == -1)
			fatalx("protocol violation: %s", cause);
		n = frame_recv_fd(fd, buf, sizeof buf, &passed);
		if (passed != -1)
			close(passed);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		frame_reader_feed(r, buf, (size_t)n);
	}
}

static void
send_builder(int fd, struct frame_builder *fb, int pass)
{
	const uint8_t	*f;
	size_t		 len;

	f = frame_finish(fb, &len);
	if (frame_send_fd(fd, f, len, pass) != 0)
		fatal("send");
	frame_builder_free(fb);
}

static void
expect_zygote(uint16_t type)
{
	struct frame_msg	 m;

	if (!recv_msg(zfd, &zreader, &m))
		fatalx("zygote EOF waiting for %s", frame_type_name(type));
	print_msg("zygote", &m);
	if (m.header.type != type)
		fatalx("expected %s", frame_type_name(type));
	frame_msg_free(&m);
}

/* SPAWN a worker; wait for its HELLO and READY. Returns its socket. */
static int
spawn(struct frame_reader *r)
{
	static uint64_t		 id;
	struct frame_builder	 fb;
	struct frame_msg	 m;
	char			*tmpdir;
	int			 sv[2], i;
	double			 t0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	xasprintf(&tmpdir, "/tmp/akdriver-%ld-%llu", (long)getpid(),
	    (unsigned long long)++id);
	frame_begin(&fb, FRAME_SPAWN, (uint32_t)id,
	    opt_sandbox != UINT64_MAX ? 11 : 8);
	frame_pack_uint(&fb, "worker_id", id);
	frame_pack_uint(&fb, "uid", opt_uid);
	frame_pack_uint(&fb, "gid", opt_gid);
	frame_pack_str(&fb, "tmpdir", tmpdir);
	frame_pack_uint(&fb, "memory_limit", opt_mem);
	frame_pack_uint(&fb, "cpu_limit", opt_cpu);
	frame_pack_uint(&fb, "nofile", 1024);
	frame_pack_uint(&fb, "fsize", 256ULL << 20);
	if (opt_sandbox != UINT64_MAX) {
		/* As the controller asks with everything found (sandbox-probe.c). */
		frame_pack_uint(&fb, "sandbox", opt_sandbox);
		frame_pack_uint(&fb, "tmp_size", 64ULL << 20);
		frame_pack_str(&fb, "hide", "/dev/shm:/tmp");
	}
	t0 = now_ms();
	send_builder(zfd, &fb, sv[1]);
	close(sv[1]);
	expect_zygote(FRAME_SPAWNED);
	frame_reader_init(r, FRAME_DEFAULT_LIMIT);
	for (i = 0; i < 2; i++) {
		if (!recv_msg(sv[0], r, &m)) {
			printf("worker EOF before READY\n");
			return -1;
		}
		print_msg("worker", &m);
		frame_msg_free(&m);
	}
	printf("TIME spawn-to-ready %.2f ms\n", now_ms() - t0);
	free(tmpdir);
	return sv[0];
}

/* Record one history entry: the frame's seq and name, plus a blob or
 * the syscall's result. */
static void
record_entry(struct frame_msg *m, const char *syscall_result)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	const msgpack_object *seq = NULL, *name = NULL, *blob = NULL;
	const char	*blobkey = NULL;
	uint32_t	 i;

	if (record == NULL)
		return;
	for (i = 0; i < m->map->size; i++) {
		const msgpack_object_kv *kv = &m->map->ptr[i];
		const char *k = kv->key.via.str.ptr;
		size_t n = kv->key.via.str.size;

		if (n == 3 && memcmp(k, "seq", 3) == 0)
			seq = &kv->val;
		else if (n == 4 && memcmp(k, "name", 4) == 0)
			name = &kv->val;
		else if ((n == 5 && memcmp(k, "value", 5) == 0) ||
		    (n == 5 && memcmp(k, "error", 5) == 0)) {
			blob = &kv->val;
			blobkey = memcmp(k, "value", 5) == 0 ? "value" : "error";
		}
	}
	if (seq == NULL || name == NULL ||
	    (syscall_result == NULL && blob == NULL))
		fatalx("cannot record a %s", frame_type_name(m->header.type));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "seq", 3);
	msgpack_pack_object(&pk, *seq);
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_object(&pk, *name);
	if (syscall_result != NULL) {
		msgpack_pack_str_with_body(&pk, "result", 6);
		msgpack_pack_str_with_body(&pk, syscall_result,
		    strlen(syscall_result));
	} else {
		msgpack_pack_str_with_body(&pk, blobkey, 5);
		msgpack_pack_object(&pk, *blob);
	}
	fwrite(sb.data, 1, sb.size, record);
	fflush(record);
	msgpack_sbuffer_destroy(&sb);
}

/* The -Y result for the syscall name: the first unused one, of which the
 * last one for a name is never used up; {"value": null} without one. */
static const char *
canned_result(const char *name, size_t len)
{
	size_t	 i, j;

	for (i = 0; i < ncanned; i++) {
		if (canned[i].used || strlen(canned[i].name) != len ||
		    memcmp(canned[i].name, name, len) != 0)
			continue;
		for (j = i + 1; j < ncanned; j++)
			if (strcmp(canned[j].name, canned[i].name) == 0) {
				canned[i].used = 1;
				break;
			}
		return canned[i].json;
	}
	return "{\"value\": null}";
}

/* The controller's side: ACK a RESULT, answer a SYSCALL. */
static void
answer(int fd, struct frame_msg *m)
{
	struct frame_builder	 fb;
	uint64_t		 seq;
	const char		*result = NULL;
	char			*cause = NULL;
	uint32_t		 i;

	if (m->header.type != FRAME_SYSCALL &&
	    !(m->header.type == FRAME_RESULT && opt_durable))
		return;
	if (frame_get_uint(m, "seq", 1, &seq, &cause) != 0)
		fatalx("%s", cause);
	if (m->header.type == FRAME_SYSCALL) {
		for (i = 0; i < m->map->size; i++) {
			const msgpack_object_kv *kv = &m->map->ptr[i];
			if (kv->key.via.str.size == 4 &&
			    memcmp(kv->key.via.str.ptr, "name", 4) == 0 &&
			    kv->val.type == MSGPACK_OBJECT_STR)
				result = canned_result(kv->val.via.str.ptr,
				    kv->val.via.str.size);
		}
		if (result == NULL)
			fatalx("a SYSCALL without a name");
	}
	if (m->header.type == FRAME_RESULT) {
		record_entry(m, NULL);
		frame_begin(&fb, FRAME_ACK, 0, 1);
		frame_pack_uint(&fb, "seq", seq);
	} else if (opt_suspend) {
		record_entry(m, result);
		frame_begin(&fb, FRAME_SUSPEND, 0, 1);
		frame_pack_uint(&fb, "seq", seq);
	} else {
		record_entry(m, result);
		frame_begin(&fb, FRAME_SYSCALL_RESULT, 0, 2);
		frame_pack_uint(&fb, "seq", seq);
		frame_pack_str(&fb, "result", result);
	}
	send_builder(fd, &fb, -1);
}

/* Pack the -H file's maps as RUN's history array. */
static void
pack_history(struct frame_builder *fb)
{
	msgpack_unpacker	 u;
	msgpack_unpacked	 o;
	FILE			*f;
	char			 buf[65536];
	size_t			 n, count = 0;
	msgpack_sbuffer		 items;
	msgpack_packer		 ipk;

	msgpack_sbuffer_init(&items);
	msgpack_packer_init(&ipk, &items, msgpack_sbuffer_write);
	if (opt_history != NULL) {
		if ((f = fopen(opt_history, "rb")) == NULL)
			fatal("%s", opt_history);
		msgpack_unpacker_init(&u, MSGPACK_UNPACKER_INIT_BUFFER_SIZE);
		msgpack_unpacked_init(&o);
		while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
			msgpack_unpacker_reserve_buffer(&u, n);
			memcpy(msgpack_unpacker_buffer(&u), buf, n);
			msgpack_unpacker_buffer_consumed(&u, n);
			while (msgpack_unpacker_next(&u, &o) ==
			    MSGPACK_UNPACK_SUCCESS) {
				msgpack_pack_object(&ipk, o.data);
				count++;
			}
		}
		msgpack_unpacked_destroy(&o);
		msgpack_unpacker_destroy(&u);
		fclose(f);
	}
	frame_pack_key(fb, "history");
	msgpack_pack_array(&fb->pk, count);
	if (items.size > 0)
		msgpack_sbuffer_write(&fb->sbuf, items.data, items.size);
	msgpack_sbuffer_destroy(&items);
}

/* Print worker frames until EOF; keep the artifact of a BUILT. */
static void
drain(int fd, struct frame_reader *r, uint8_t **artifact, size_t *alen)
{
	struct frame_msg	 m;
	const uint8_t		*a;
	char			*cause = NULL;
	int			 ok = 0;

	while (recv_msg(fd, r, &m)) {
		print_msg("worker", &m);
		answer(fd, &m);
		if (artifact != NULL && m.header.type == FRAME_BUILT &&
		    frame_get_bool(&m, "ok", 1, &ok, &cause) == 0 && ok &&
		    frame_get_bin(&m, "artifact", 1, &a, alen, &cause) == 0) {
			*artifact = xmalloc(*alen);
			memcpy(*artifact, a, *alen);
		}
		frame_msg_free(&m);
	}
	printf("worker EOF\n");
	close(fd);
	frame_reader_free(r);
	expect_zygote(FRAME_EXITED);
}

static int
collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	FILE	*f;

	(void)ftw;
	if (type != FTW_F)
		return 0;
	if (nfiles == nitems(paths))
		fatalx("too many files");
	paths[nfiles] = xstrdup(path + strlen(files_dir) + 1);
	lens[nfiles] = (size_t)st->st_size;
	contents[nfiles] = xmalloc(lens[nfiles] + 1);
	if ((f = fopen(path, "rb")) == NULL ||
	    fread(contents[nfiles], 1, lens[nfiles], f) != lens[nfiles])
		fatal("%s", path);
	fclose(f);
	nfiles++;
	return 0;
}

int
main(int argc, char **argv)
{
	struct frame_builder	 fb;
	struct frame_reader	 wr;
	uint8_t			*artifact = NULL;
	size_t			 alen = 0, i;
	const char		*entry = NULL, *event;
	int			 sv[2], ch, verbose = 0, w;
	pid_t			 pid;
	double			 t0;
	char			*e;

	while ((ch = getopt(argc, argv, "c:De:Gg:H:m:M:N:R:Su:vXY:")) != -1) {
		switch (ch) {
		case 'c': opt_cpu = strtoull(optarg, NULL, 10); break;
		case 'D': opt_durable = 1; break;
		case 'G': opt_go = 1; break;
		case 'X': opt_go_wrong = 1; break;
		case 'H': opt_history = optarg; break;
		case 'M': opt_max_result = strtoull(optarg, NULL, 10); break;
		case 'N': opt_sandbox = strtoull(optarg, NULL, 0); break;
		case 'R': opt_record = optarg; break;
		case 'S': opt_suspend = 1; break;
		case 'e': opt_env[opt_nenv++] = optarg; break;
		case 'g': opt_gid = strtoull(optarg, NULL, 10); break;
		case 'm': opt_mem = strtoull(optarg, NULL, 10); break;
		case 'u': opt_uid = strtoull(optarg, NULL, 10); break;
		case 'v': verbose = 1; break;
		case 'Y':
			if (ncanned == nitems(canned) ||
			    (e = strchr(optarg, '=')) == NULL)
				fatalx("-Y wants NAME=JSON (at most %zu)",
				    nitems(canned));
			*e = '\0';
			canned[ncanned].name = optarg;
			canned[ncanned++].json = e + 1;
			break;
		default: exit(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3)
		fatalx("usage: driver [opts] WORKER PYTHONPATH DIR [ENTRY [EVENT]]");
	log_open("driver", 1, LOG_LEVEL_INFO);
	files_dir = argv[2];
	if (nftw(files_dir, collect, 16, FTW_PHYS) == -1)
		fatal("%s", files_dir);
	if (argc > 3)
		entry = argv[3];
	event = argc > 4 ? argv[4] : "{\"data\": {}, \"event_id\": \"evt_1\", "
	    "\"event_type\": \"test\", \"session_id\": \"ses_1\"}";

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	t0 = now_ms();
	if ((pid = fork()) == 0) {
		char *args[] = { argv[0], "--zygote", verbose ? "-v" : NULL,
		    NULL };
		if (dup2(sv[1], 3) == -1)
			_exit(127);
		xasprintf(&e, "AUTOKITTEH_PYTHONPATH=%s", argv[1]);
		char *envp[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", e,
		    "SECRET_OF_CONTROLLER=leak", NULL };
		execve(argv[0], args, envp);
		_exit(127);
	}
	close(sv[1]);
	zfd = sv[0];
	frame_reader_init(&zreader, FRAME_DEFAULT_LIMIT);
	expect_zygote(FRAME_HELLO);
	expect_zygote(FRAME_READY);
	printf("TIME exec-to-ready %.2f ms\n", now_ms() - t0);

	if ((w = spawn(&wr)) == -1) {
		expect_zygote(FRAME_EXITED);
		return 1;
	}
	frame_begin(&fb, FRAME_BUILD, 7, 1);
	frame_pack_key(&fb, "files");
	msgpack_pack_map(&fb.pk, nfiles);
	for (i = 0; i < nfiles; i++)
		frame_pack_bin(&fb, paths[i], contents[i], lens[i]);
	t0 = now_ms();
	send_builder(w, &fb, -1);
	drain(w, &wr, &artifact, &alen);
	printf("TIME build %.2f ms\n", now_ms() - t0);

	if (entry != NULL && artifact != NULL) {
		if ((w = spawn(&wr)) == -1) {
			expect_zygote(FRAME_EXITED);
			return 1;
		}
		if (opt_record != NULL &&
		    (record = fopen(opt_record, "wb")) == NULL)
			fatal("%s", opt_record);
		frame_begin(&fb, FRAME_RUN, 8, (opt_durable ? 8 : 5) + opt_go);
		if (opt_go)
			frame_pack_bool(&fb, "go", 1);
		if (opt_durable) {
			frame_pack_bool(&fb, "durable", 1);
			frame_pack_uint(&fb, "max_result_size", opt_max_result);
			pack_history(&fb);
		}
		frame_pack_str(&fb, "session_id", "ses_1");
		frame_pack_bin(&fb, "artifact", artifact, alen);
		frame_pack_str(&fb, "entrypoint", entry);
		frame_pack_str(&fb, "event", event);
		frame_pack_key(&fb, "env");
		msgpack_pack_map(&fb.pk, (size_t)opt_nenv);
		for (ch = 0; ch < opt_nenv; ch++) {
			char *eq = strchr(opt_env[ch], '=');
			if (eq == NULL)
				fatalx("-e wants K=V");
			*eq = '\0';
			frame_pack_str(&fb, opt_env[ch], eq + 1);
		}
		t0 = now_ms();
		send_builder(w, &fb, -1);
		if (opt_go) {
			struct pollfd pfd = { w, POLLIN, 0 };

			usleep(300 * 1000);
			if (poll(&pfd, 1, 0) == 1)
				printf("EARLY\n");
			if (opt_go_wrong) {
				frame_begin(&fb, FRAME_ACK, 8, 1);
				frame_pack_uint(&fb, "seq", 1);
			} else
				frame_begin(&fb, FRAME_GO, 8, 0);
			send_builder(w, &fb, -1);
		}
		drain(w, &wr, NULL, NULL);
		printf("TIME run %.2f ms\n", now_ms() - t0);
	}
	free(artifact);
	if (record != NULL)
		fclose(record);
	close(zfd);
	waitpid(pid, &ch, 0);
	printf("zygote exit status 0x%x\n", ch);
	return 0;
}
