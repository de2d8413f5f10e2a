/*
 * autokittehd.h: the controller's private header.
 *
 * Types first, then prototypes grouped by the file that defines them. The
 * controller is one process with one libevent loop: no locks anywhere.
 */
#ifndef AUTOKITTEHD_H
#define AUTOKITTEHD_H

#include "common.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sqlite3.h>

#define EXIT_CONFIG 78	/* EX_CONFIG: systemd must not restart us */

#define DEFAULT_CONFIG_FILE SYSCONFDIR "/autokitteh.conf"

/* config.c */
enum store_sync { STORE_SYNC_FULL, STORE_SYNC_NORMAL };
/* When store_open() runs PRAGMA quick_check ([store] check). */
enum store_check { STORE_CHECK_AFTER_CRASH, STORE_CHECK_ALWAYS };
enum workers_sandbox { WORKERS_SANDBOX_BEST_EFFORT, WORKERS_SANDBOX_STRICT };
enum workers_network { WORKERS_NETWORK_ON, WORKERS_NETWORK_OFF };

struct config {
	char		*file;		/* the file read; NULL: defaults only */
	char		*listen;
	char		*socket_path;
	char		*data_dir;
	char		*public_url;
	char		*user;
	int		 synchronous;	/* enum store_sync */
	int		 store_check;	/* enum store_check */
	uint64_t	 max_body_size;
	uint64_t	 max_header_size;
	uint64_t	 request_timeout_ms;
	uint64_t	 max_connections;
	int		 log_level;	/* enum log_level */
	uint64_t	 workers_pool_size;
	uint64_t	 workers_max;
	uint64_t	 workers_session_timeout_ms;
	uint64_t	 workers_memory_limit;	/* bytes of address space */
	uint64_t	 workers_cpu_limit_ms;	/* CPU time */
	uint64_t	 webhooks_max_body_size;
	uint64_t	 workers_evict_after_ms;
	uint64_t	 workers_max_result_size;
	char		*workers_writable_paths;	/* ':'-separated */
	int		 workers_sandbox;	/* enum workers_sandbox */
	int		 workers_network;	/* enum workers_network */
	uint64_t	 workers_tmp_size;	/* the temp dir's tmpfs */
	uint64_t	 workers_pids_max;	/* tasks per session */
	uint64_t	 webhooks_sync_timeout_ms;
	char		*secrets_key_file;	/* "": in data_dir */
	uint64_t	 sessions_retention_ms;	/* 0: keep forever */
};

enum config_type {
	CONFIG_STRING,
	CONFIG_ADDRESS,		/* host:port, [v6]:port */
	CONFIG_PATH,		/* absolute path */
	CONFIG_PATHLIST,	/* absolute paths separated by ':' */
	CONFIG_URL,		/* empty, or http(s)://... */
	CONFIG_USER,		/* a user name */
	CONFIG_ENUM,
	CONFIG_SIZE,
	CONFIG_DURATION,
	CONFIG_COUNT,
	CONFIG_DURATION_OFF,	/* a duration, or off (= 0) */
};

struct config_option {
	const char		*section;
	const char		*key;
	enum config_type	 type;
	const char		*default_value;
	size_t			 offset;
	const char *const	*choices;	/* CONFIG_ENUM, NULL-terminated */
	uint64_t		 min, max;	/* SIZE, DURATION, COUNT */
	int			 secret;	/* masked by akctl config */
};

void config_init(struct config *);
void config_free(struct config *);
int config_load(struct config *, const char *path, int missing_ok,
    char **cause);
int config_parse(struct config *, const char *name, const char *text,
    size_t len, char **cause);
size_t config_option_count(void);
const struct config_option *config_option_at(size_t);
char *config_value_string(const struct config *, const struct config_option *);
int config_split_address(const char *, char **host, char **port);

/* notify.c: the sd_notify datagram protocol, in-tree. */
int notify_parse_address(const char *, struct sockaddr_un *, socklen_t *);
int notify_watchdog_interval(const char *usec, const char *pid, pid_t self,
    uint64_t *interval_us);
void notify_init(void);
int notify_enabled(void);
int notify_send(const char *message);
void notify_status(const char *fmt, ...) AK_PRINTFLIKE(1, 2);
void notify_watchdog_start(struct event_base *);
void notify_watchdog_stop(void);

/* crash.c */
void crash_handler_install(void);

/* datadir.c */
int datadir_prepare(const char *dir, uid_t uid, gid_t gid, char **cause);
int datadir_lock(const char *dir, uid_t uid, gid_t gid, char **cause);
void datadir_unlock(void);

/* privilege.c */
struct privilege {
	int	 drop;		/* started as root, user is not root */
	uid_t	 uid;
	gid_t	 gid;
	char	*name;
};
int privilege_resolve(const char *user, struct privilege *, char **cause);
void privilege_drop(const struct privilege *);
void privilege_free(struct privilege *);

/* store.c */
struct store;
struct store_stats {
	uint64_t	 size_bytes;
	uint64_t	 wal_size_bytes;
	int		 schema_version;
};
struct store *store_open(const char *path, int synchronous, int check,
    struct event_base *, char **cause);
void store_close(struct store *);
sqlite3 *store_db(struct store *);
const char *store_path(struct store *);
int store_synchronous(struct store *);
int store_stats(struct store *, struct store_stats *);
sqlite3_stmt *store_prepare(struct store *, const char *sql);
/*
 * Statements from store_prepare() are cached (store.c): give them back with
 * sqlite3_finalize(), which means store_finalize() in the daemon's code.
 */
int store_finalize(sqlite3_stmt *);
#define sqlite3_finalize(st) store_finalize(st)
int store_count(struct store *, const char *sql, int64_t *count);
int store_count_arg(struct store *, const char *sql, const char *arg,
    int64_t *count);
int store_count_sessions(struct store *, const char *state, int64_t *count);

/* store.c (continued) */
int store_sync(struct store *, char **cause);	/* committed -> durable */

/* secrets.c: secrets at rest (docs/SECURITY.md). */
#define SECRETS_KEY_SIZE	32	/* AES-256 */
#define SECRETS_NONCE_SIZE	12	/* GCM's 96 bits */
#define SECRETS_TAG_SIZE	16
#define SECRETS_HEADER_SIZE	(1 + 4 + SECRETS_NONCE_SIZE)
#define SECRETS_OVERHEAD	(SECRETS_HEADER_SIZE + SECRETS_TAG_SIZE)
#define SECRETS_PLAIN_MAX	(1 << 20)
#define SECRETS_DEFAULT_KEY_FILE "secrets.key"	/* in data_dir */
int secrets_encrypt(const unsigned char key[SECRETS_KEY_SIZE],
    uint32_t key_id, const char *aad, const void *plain, size_t len,
    unsigned char **out, size_t *outlen);
int secrets_decrypt(const unsigned char key[SECRETS_KEY_SIZE],
    const char *aad, const unsigned char *sealed, size_t len,
    unsigned char **plain, size_t *plainlen, char **cause);
int secrets_sealed_key_id(const unsigned char *sealed, size_t len,
    uint32_t *key_id);
void secrets_free(void *plain, size_t len);
int secrets_wrap_dek(const unsigned char kek[SECRETS_KEY_SIZE],
    const unsigned char dek[SECRETS_KEY_SIZE], uint32_t dek_id,
    unsigned char **wrapped, size_t *len);
int secrets_unwrap_dek(const unsigned char kek[SECRETS_KEY_SIZE],
    const unsigned char *wrapped, size_t len, uint32_t dek_id,
    unsigned char dek[SECRETS_KEY_SIZE], char **cause);
int secrets_sync_dir(const char *path, char **cause);
int secrets_key_file_read(const char *path,
    unsigned char key[SECRETS_KEY_SIZE], char **cause);	/* 1, 0: none, -1 */
int secrets_key_file_create(const char *path,
    const unsigned char key[SECRETS_KEY_SIZE], char **cause);
char *secrets_key_file_path(const struct config *);
int secrets_start(struct store *, const char *key_file, char **cause);
void secrets_stop(void);
int secrets_loaded(void);
const char *secrets_key_file(void);
uint32_t secrets_dek_id(void);
unsigned char *secrets_dek(void);
#define SECRETS_SPARES		3	/* key buffers in locked memory */
#define SECRETS_SPARE_KEK	2	/* secrets_key_file_unwrap()'s */
unsigned char *secrets_spare_key(int which);
int secrets_key_file_unwrap(const char *path, const char *store_path,
    uint32_t id, const unsigned char *wrapped, size_t len,
    unsigned char dek[SECRETS_KEY_SIZE], char **cause);
void secrets_set_dek(const unsigned char dek[SECRETS_KEY_SIZE], uint32_t id);
int secrets_dek_row(sqlite3 *, uint32_t *id, unsigned char **wrapped,
    size_t *len, char **cause);	/* 1 found, 0 none, -1 */
int secrets_seal(const char *aad, const void *plain, size_t len,
    unsigned char **out, size_t *outlen, char **cause);
int secrets_open(const char *aad, const void *sealed, size_t len,
    unsigned char **plain, size_t *plainlen, char **cause);

/* secrets-rotate.c: a new master key, and optionally a new data key. */
typedef void (*secrets_rotate_done_fn)(int ok, const char *cause,
    json_t *result, void *arg);
int secrets_rotate(struct store *, int data_key, secrets_rotate_done_fn,
    void *arg, char **cause);
json_t *secrets_status_json(struct store *, char **cause);

/* store-vars.c: var values, sealed when secret or a connection's. */
#define VARS_SEALED_WHERE \
	"(is_secret != 0 OR substr(scope_id, 1, 4) = 'con_')"
int vars_sealed(const char *scope_id, int is_secret);
char *vars_aad(const char *scope_id, const char *name);
int vars_bind_value(sqlite3_stmt *, int value_idx, int sealed_idx,
    const char *scope_id, const char *name, const char *value, int is_secret,
    char **cause);
char *vars_column_value(sqlite3_stmt *, int value_col, int sealed_col,
    const char *scope_id, const char *name, char **cause);
void vars_value_free(char *);
char *vars_get(struct store *, const char *scope_id, const char *name,
    char **cause);

/* store-migrate.c */
int store_schema_version(sqlite3 *, int *version);
int store_migrate(sqlite3 *, char **cause);
int store_latest_schema(void);

/* store-commit.c: group commit; see the comment at the top of the file. */
typedef int (*store_write_fn)(struct store *, void *arg, char **cause);
typedef void (*store_done_fn)(int ok, const char *cause, void *arg);
struct store_commit;
struct store_commit *store_commit_new(struct store *, struct event_base *);
void store_commit_free(struct store_commit *);
int store_write(struct store *, store_write_fn, void *arg, store_done_fn,
    void *done_arg, char **cause);
void store_flush(struct store *);
void store_on_commit(struct store *, store_done_fn, void *arg);
size_t store_pending(struct store *);
int store_is_full(struct store *);	/* SQLITE_FULL since the last commit */
struct store_commit *store_get_commit(struct store *);

/* auth-token.c */
#define TOKEN_SECRET_PREFIX "akt_"
#define TOKEN_HASH_LEN 64		/* hex SHA-256 */
int token_generate(char *secret, size_t size);
void token_hash(const char *secret, char hex[TOKEN_HASH_LEN + 1]);
int token_format_valid(const char *secret);
int token_insert(struct store *, const char *id, const char *name,
    const char *hash, int64_t created_at, char **cause);
int token_verify(struct store *, const char *secret, char *id, size_t size);
json_t *token_list(struct store *);
json_t *timestamp_json(int64_t unix_seconds);
int token_revoke(struct store *, const char *id, char **cause);
int token_exists(struct store *, const char *id);

/* metrics.c */
void metrics_init(void);
void metrics_http_request(const char *route, int status);
void metrics_http_connections(int delta);
void metrics_commit(uint64_t latency_us, size_t batch, int ok);
void metrics_store_full(int full);
void metrics_store_full_error(void);
void metrics_pruned(uint64_t sessions, uint64_t events);
void metrics_prune_pass(int64_t at_us);
void metrics_render(struct evbuffer *, uint64_t uptime_s);

/* connect.c: connect-rpc unary JSON codec. */
enum connect_code {
	CONNECT_OK,
	CONNECT_CANCELED,
	CONNECT_UNKNOWN,
	CONNECT_INVALID_ARGUMENT,
	CONNECT_DEADLINE_EXCEEDED,
	CONNECT_NOT_FOUND,
	CONNECT_ALREADY_EXISTS,
	CONNECT_PERMISSION_DENIED,
	CONNECT_RESOURCE_EXHAUSTED,
	CONNECT_FAILED_PRECONDITION,
	CONNECT_ABORTED,
	CONNECT_OUT_OF_RANGE,
	CONNECT_UNIMPLEMENTED,
	CONNECT_INTERNAL,
	CONNECT_UNAVAILABLE,
	CONNECT_DATA_LOSS,
	CONNECT_UNAUTHENTICATED,
};
const char *connect_code_name(enum connect_code);
int connect_code_http_status(enum connect_code);
int connect_code_from_name(const char *, enum connect_code *);
char *connect_error_body(enum connect_code, const char *message);
json_t *connect_parse_request(const char *body, size_t len,
    const char *const *fields, char **cause);
const char *connect_get_string(json_t *req, const char *proto_name);

/* http-head.c: RFC 9112 checks on a request head, as its bytes arrive. */
#define HTTP_HEAD_LINE_KEEP	128
struct http_head {
	size_t		 bytes;		/* of the head so far */
	size_t		 lines;		/* complete lines so far */
	int		 saw_cr;
	char		 line[HTTP_HEAD_LINE_KEEP];	/* the line's start */
	char		 tail[9];	/* the request line's end */
	size_t		 line_len;	/* the whole line's length */
	int		 ncl, nte;
	char		 cl[24];	/* the first Content-Length */
	int		 done;
	int		 status;	/* when refused: 400, 414, 431, 501 */
	const char	*cause;		/* when refused: a sentence */
};
enum { HTTP_HEAD_BAD = -1, HTTP_HEAD_MORE = 0, HTTP_HEAD_DONE = 1 };
void http_head_reset(struct http_head *);
int http_head_feed(struct http_head *, const void *, size_t, size_t limit,
    size_t *used);

/* server-http.c */
struct server;
struct api_call;
struct server *server_new(struct event_base *, const struct config *,
    struct store *, char **cause);
int server_bind(struct server *, const struct privilege *, char **cause);
int server_start(struct server *, char **cause);
void server_stop_accepting(struct server *);
size_t server_inflight(struct server *);
void server_free(struct server *);
void server_set_store(struct server *, struct store *);
void server_set_ready(struct server *, int ready);
int server_is_ready(struct server *);
int server_is_stopping(struct server *);
json_t *server_listeners_json(struct server *);
uint64_t server_uptime_seconds(struct server *);
const struct config *server_config(struct server *);
struct store *server_store(struct server *);
void server_reply_line(struct evhttp_request *, const char *route, int status,
    const char *reason, const char *text);

/* server-route.c: the one table of HTTP routes and API methods. */
struct api_method {
	const char	*path;		/* "/autokitteh.system.v1.SystemService/Status" */
	const char *const *fields;	/* accepted request fields (proto names) */
	void		(*handler)(struct api_call *, json_t *request);
};
const struct api_method *route_find_method(const char *path);

/* server-auth.c */
struct peer {
	int	 is_unix;
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;
	char	 address[64];
};
int auth_unix_peer(int fd, struct peer *);
int auth_unix_admit(const struct peer *, int fd, gid_t group, uid_t self);
int auth_bearer_parse(const char *header, const char **secret);

/* api calls (server-http.c) */
struct server *api_server(struct api_call *);
void api_reply(struct api_call *, json_t *response);
void api_error(struct api_call *, enum connect_code, const char *fmt, ...)
    AK_PRINTFLIKE(3, 4);
int api_write(struct api_call *, store_write_fn, void *arg, json_t *response);
int api_string_field(struct api_call *, json_t *req, const char *name,
    const char **value);

/* server-ops.c */
void ops_healthz(struct evhttp_request *, struct server *);
void ops_readyz(struct evhttp_request *, struct server *);
void ops_metrics(struct evhttp_request *, struct server *);

/* api-system.c */
void api_system_status(struct api_call *, json_t *);
void api_system_config(struct api_call *, json_t *);
extern const char *const api_system_status_fields[];
extern const char *const api_system_config_fields[];

/* api-secrets.c: SecretsService (our own, like SystemService). */
void api_secrets_status(struct api_call *, json_t *);
void api_secrets_rotate(struct api_call *, json_t *);
extern const char *const api_secrets_status_fields[];
extern const char *const api_secrets_rotate_fields[];

/* api-token.c */
void api_token_create(struct api_call *, json_t *);
void api_token_list(struct api_call *, json_t *);
void api_token_revoke(struct api_call *, json_t *);
extern const char *const api_token_create_fields[];
extern const char *const api_token_list_fields[];
extern const char *const api_token_revoke_fields[];

/* manifest-apply.c */
struct manifest;
json_t *manifest_plan(struct store *, const struct manifest *, char **cause);
int manifest_apply(struct store *, const struct manifest *, json_t *actions_out,
    char **project_id_out, char **cause);	/* inside a store_write */
int manifest_project_id(struct store *, const struct manifest *, char *id,
    size_t size, char **cause);		/* 1 found, 0 not, -1 w/ cause */
/* Apply's build_id: does the build have every call? -1 with *code, *cause. */
int manifest_check_build(struct store *, const struct manifest *,
    const char *build_id, enum connect_code *code, char **cause);

/* api-apply.c */
void api_apply(struct api_call *, json_t *);
extern const char *const api_apply_fields[];

/* controller.c: the subsystems, for code that needs more than one. */
struct pool;
struct controller {
	struct event_base	*base;
	const struct config	*config;
	struct store		*store;
	struct server		*server;
	struct pool		*pool;
};
extern struct controller *controller;
int64_t now_us(void);
void timer_add_us(struct event *, uint64_t us);
void timer_arm_earliest(struct event *, const char *sql);
json_t *timestamp_us_json(int64_t unix_us);	/* RFC 3339, UTC, microseconds */
char *public_base_url(const struct config *);	/* no trailing slash */

/* value.c: native JSON <-> AutoKitteh's autokitteh.values.v1.Value JSON. */
json_t *value_from_json(json_t *native);		/* new reference */
json_t *value_json_string(json_t *native);		/* {"string":{"v":"<json>"}} */
json_t *value_from_json_text(const char *text, int json_values);
json_t *value_to_native(json_t *value, int json_values, char **why);

/* build.c: compile a project's resources in a sandboxed worker. */
typedef void (*build_done_fn)(const char *build_id, const char *error,
    void *arg);
int build_start(const char *project_id, build_done_fn, void *arg,
    char **cause);
void build_schedule(void);	/* a worker may be free: start queued builds */

/* session.c: session state machine, logs, running on workers. */
struct session_new {
	const char	*project_id;
	const char	*deployment_id;
	const char	*build_id;
	const char	*event_id;	/* or NULL */
	const char	*trigger_id;	/* or NULL */
	const char	*entrypoint;	/* "program.py:on_hook" */
	int		 is_durable;
	const char	*inputs_json;	/* "{}" when NULL */
	const char	*memo_json;	/* "{}" when NULL */
};
int session_insert(struct store *, const struct session_new *, char *id,
    size_t size, char **cause);	/* inside a store_write: CREATED + log */
void session_schedule(void);	/* after commit: start CREATED sessions */
void session_start_early(const char *id);	/* a webhook's, before commit */
int session_stop(const char *session_id, int force, const char *reason,
    char **cause);		/* 1 stopped, 0 not found, -1 w/ cause */
void session_recover(void);	/* at start, before READY */
json_t *session_pool_json(void);	/* for Status */
int session_log_append(struct store *, const char *session_id,
    const char *type, json_t *data);	/* inside a store_write */

/* session.c: syscalls (docs/DURABILITY.md). */
struct syscall_ctx {
	char		 session_id[64];
	uint64_t	 seq;
	json_t		*args;		/* the call's arguments, an object */
};
enum syscall_rc { SYSCALL_DONE, SYSCALL_WAIT, SYSCALL_FAIL };
#define SYSCALL_WAIT_FOREVER	253402300799000000LL	/* 9999-12-31, µs */
int64_t syscall_timeout_wake(json_t *timeout);	/* -1: not a timeout */
enum syscall_rc syscall_taken_or_wait(json_t *taken, int64_t wake,
    json_t **result, int64_t *wake_at);
json_t *syscall_error(const char *fmt, ...) AK_PRINTFLIKE(1, 2);
int session_project(struct store *, const char *session_id, char *project,
    size_t size);
typedef enum syscall_rc (*syscall_fn)(struct store *, struct syscall_ctx *,
    json_t **result, int64_t *wake_at, char **cause);
struct syscall_def {
	const char	*name;
	syscall_fn	 fn;
};
int session_wait_complete(struct store *, const char *session_id,
    json_t *result);	/* inside a store_write; 1 if it was waiting */
/* The syscalls other files define, listed in session.c's table. */
extern const struct syscall_def syscall_subscribe, syscall_next_event,
    syscall_unsubscribe;				/* session-events.c */
extern const struct syscall_def syscall_start, syscall_signal,
    syscall_next_signal;				/* session-signal.c */
extern const struct syscall_def syscall_store;		/* store-values.c */
extern const struct syscall_def syscall_outcome;	/* webhook-sync.c */
#define SESSION_SYSCALLS \
	&syscall_subscribe, &syscall_next_event, &syscall_unsubscribe, \
	&syscall_start, &syscall_signal, &syscall_next_signal, \
	&syscall_store, &syscall_outcome

/* session-events.c: events reach sessions that subscribed to them. */
void session_events_deliver(struct store *, const char *destination_id,
    const char *event_id);	/* inside the write that saves the event */

/* session-signal.c */
void session_child_ended(struct store *, const char *session_id,
    const char *state, const char *result_json);	/* inside a write */

/* session-prune.c: [sessions] retention. */
#define PRUNE_BATCH		128	/* rows of each kind per write */
#define PRUNE_VACUUM_PAGES	256	/* free pages returned per write */
#define PRUNE_EVENT_WINDOW	4	/* events examined per write: limit * 4 */
struct prune_batch {
	int64_t		 cutoff;	/* Unix µs: ended or arrived before */
	int		 limit;
	int64_t		 vacuum_pages;	/* 0: keep free pages */
	int64_t		 events_at, events_seq;	/* examined up to; 0 0 first */
	int64_t		 sessions, events, deliveries, pages;	/* deleted */
	int		 more_events, more_pages;
};
int session_prune_write(struct store *, void *prune_batch, char **cause);
int session_prune_more(const struct prune_batch *);
void session_prune_start(void);
void session_prune_stop(void);
json_t *session_prune_json(void);	/* for Status */

/* store-values.c: the per-project value store (reference 1.11). */
json_t *values_get(struct store *, const char *project_id, const char *key);
int values_mutate(struct store *, const char *project_id, const char *op,
    const char *key, json_t *args, json_t **result, char **cause);
json_t *values_list_keys(struct store *, const char *project_id);

/* webhook-sync.c: synchronous webhooks wait for the session's outcome. */
int webhook_sync_begin(struct evhttp_request *, const char *event_id);
void webhook_sync_session_started(const char *event_id, const char *session_id);
void webhook_sync_session_ended(const char *session_id, const char *state);
void webhook_sync_no_session(const char *event_id);
void webhook_sync_shutdown(void);
void api_session_shutdown(void);	/* api-session.c */

/* deployment.c: deployment state rules (reference section 1.4). */
void deployment_session_ended(const char *deployment_id);
/* A build's exports, if it is project_id's; NULL with *code and *cause. */
json_t *deployment_build_exports(struct store *, const char *build_id,
    const char *project_id, enum connect_code *code, char **cause);
int deployment_check_call(json_t *exports, const char *trigger,
    const char *path, const char *fn, char **cause);	/* -1: *cause */

/* sandbox-probe.c: which sandbox mechanisms the host offers workers. */
struct sandbox_support;
int sandbox_probe(const struct config *, uid_t uid, gid_t gid,
    struct sandbox_support **, char **cause);
unsigned sandbox_support_bits(const struct sandbox_support *);
const char *sandbox_support_cgroup(const struct sandbox_support *, int i);
json_t *sandbox_support_json(const struct sandbox_support *);
void sandbox_support_free(struct sandbox_support *);

/* pool.c: the zygote and the warm pool of session workers. */
struct worker;
struct frame_msg;
struct pool_client {
	/* A message from the worker; -1 (with *cause) if it breaks the
	 * protocol: the worker is killed and worker_violated() says so. */
	int	(*message)(struct worker *, struct frame_msg *, void *arg,
		    char **cause);
	/* The worker is gone: exited (code >= 0), killed (signal > 0), or
	 * lost (code -1, signal 0, reason says why). Always called once. */
	void	(*gone)(struct worker *, int code, int signal,
		    const char *reason, void *arg);
	void	*arg;
};
struct pool *pool_new(struct event_base *, const struct config *);
int pool_start(struct pool *, char **cause);
/* Probe the sandbox (sandbox-probe.c); -1: strict and something missing. */
int pool_probe_sandbox(struct pool *, char **cause);
json_t *pool_sandbox_json(struct pool *);
void pool_free(struct pool *);
int pool_can_take(struct pool *);
struct worker *pool_take(struct pool *, const struct pool_client *);
int worker_send(struct worker *, const uint8_t *frame, size_t len);
void worker_kill(struct worker *, const char *reason);
pid_t worker_pid(struct worker *);
/* Was it killed for breaking the protocol (its user code wrote to fd 3)? */
int worker_violated(struct worker *);
json_t *pool_status_json(struct pool *);
const char *pool_unavailable(struct pool *);
void pool_metrics_render(struct pool *, struct evbuffer *);

/* webhook.c: /webhooks/<slug>[/sub/path] -> event -> sessions. */
void webhook_handle(struct evhttp_request *, const char *path);
json_t *webhook_request_to_data(struct evhttp_request *, char **cause);
json_t *webhook_event_data(const char *method, const char *uri,
    const struct evkeyvalq *headers, const void *body, size_t len,
    char **cause);

/* value.c (continued): maps of Values, for event data and session inputs. */
json_t *value_map_from_json_text(const char *text, int json_values);
json_t *value_string_map_from_json_text(const char *text);	/* memos */

/* deployment.c (continued): state names; stored lowercase, shown as enums. */
#define DEPLOYMENT_STATE_COUNT 5	/* UNSPECIFIED ... INACTIVE */
extern const char *const deployment_state_names[DEPLOYMENT_STATE_COUNT];
const char *deployment_state_enum(const char *stored);
const char *deployment_state_stored(int state);	/* NULL: unspecified */
int64_t deployment_live_sessions(struct store *, const char *deployment_id);

/* api-project.c: ProjectsService, and helpers every AutoKitteh api-*.c uses. */
int api_id_field(struct api_call *, json_t *req, const char *name,
    const char *prefix, int required, const char **id);
int api_id_check(struct api_call *, const char *name, const char *id,
    const char *prefix, int required);
json_t *api_object_get(json_t *obj, const char *proto_name);
const char *api_object_string(json_t *obj, const char *proto_name);
int api_object_check(struct api_call *, json_t *obj, const char *what,
    const char *const *fields);
int api_bool_field(struct api_call *, json_t *req, const char *name,
    int *value);
int api_int_field(struct api_call *, json_t *req, const char *name,
    int64_t min, int64_t max, int64_t def, int64_t *value);
int api_enum_field(struct api_call *, json_t *req, const char *name,
    const char *const *names, size_t n, int *value);
json_t *api_int64_json(int64_t);
const char *api_column_text(sqlite3_stmt *, int col);
void api_set_nonempty(json_t *obj, const char *key, const char *s);
int api_row_exists(struct store *, const char *sql, const char *param);
int64_t api_row_count(struct store *, const char *sql, const char *param);
int api_exec1(struct store *, const char *sql, const char *param,
    char **cause);
json_t *api_base64_json(const void *, size_t);
int api_base64_decode(const char *, size_t, unsigned char **out,
    size_t *len);
int api_name_valid(const char *name, size_t max);
int api_project_exists(struct api_call *, const char *project_id);
void api_project_create(struct api_call *, json_t *);
void api_project_get(struct api_call *, json_t *);
void api_project_list(struct api_call *, json_t *);
void api_project_delete(struct api_call *, json_t *);
void api_project_set_resources(struct api_call *, json_t *);
void api_project_download_resources(struct api_call *, json_t *);
void api_project_build(struct api_call *, json_t *);
extern const char *const api_project_create_fields[];
extern const char *const api_project_get_fields[];
extern const char *const api_project_list_fields[];
extern const char *const api_project_delete_fields[];
extern const char *const api_project_set_resources_fields[];
extern const char *const api_project_download_resources_fields[];
extern const char *const api_project_build_fields[];

/* api-build.c */
void api_build_get(struct api_call *, json_t *);
void api_build_list(struct api_call *, json_t *);
void api_build_delete(struct api_call *, json_t *);
void api_build_download(struct api_call *, json_t *);
void api_build_save(struct api_call *, json_t *);
extern const char *const api_build_get_fields[];
extern const char *const api_build_list_fields[];
extern const char *const api_build_delete_fields[];
extern const char *const api_build_download_fields[];
extern const char *const api_build_save_fields[];

/* api-deployment.c */
void api_deployment_create(struct api_call *, json_t *);
void api_deployment_activate(struct api_call *, json_t *);
void api_deployment_deactivate(struct api_call *, json_t *);
void api_deployment_test(struct api_call *, json_t *);
void api_deployment_get(struct api_call *, json_t *);
void api_deployment_list(struct api_call *, json_t *);
void api_deployment_delete(struct api_call *, json_t *);
extern const char *const api_deployment_create_fields[];
extern const char *const api_deployment_id_fields[];	/* {deployment_id} */
extern const char *const api_deployment_list_fields[];

/* api-trigger.c */
void api_trigger_get(struct api_call *, json_t *);
void api_trigger_list(struct api_call *, json_t *);
void api_trigger_create(struct api_call *, json_t *);
void api_trigger_update(struct api_call *, json_t *);
void api_trigger_delete(struct api_call *, json_t *);
extern const char *const api_trigger_get_fields[];
extern const char *const api_trigger_list_fields[];
extern const char *const api_trigger_write_fields[];	/* Create, Update */
extern const char *const api_trigger_delete_fields[];

/* api-var.c */
void api_var_set(struct api_call *, json_t *);
void api_var_get(struct api_call *, json_t *);
void api_var_delete(struct api_call *, json_t *);
extern const char *const api_var_set_fields[];
extern const char *const api_var_get_fields[];
extern const char *const api_var_delete_fields[];

/* api-event.c */
void api_event_get(struct api_call *, json_t *);
void api_event_list(struct api_call *, json_t *);
void api_event_save(struct api_call *, json_t *);
void api_event_verify_filter(struct api_call *, json_t *);	/* system.v1 */
extern const char *const api_event_get_fields[];
extern const char *const api_event_list_fields[];
extern const char *const api_event_save_fields[];
extern const char *const api_event_verify_filter_fields[];

/* api-session.c */
const char *session_state_enum(const char *stored);
void api_session_list(struct api_call *, json_t *);
void api_session_get(struct api_call *, json_t *);
void api_session_get_log(struct api_call *, json_t *);
void api_session_get_prints(struct api_call *, json_t *);
void api_session_stop(struct api_call *, json_t *);
void api_session_delete(struct api_call *, json_t *);
void api_session_start(struct api_call *, json_t *);
extern const char *const api_session_list_fields[];
extern const char *const api_session_get_fields[];
extern const char *const api_session_get_log_fields[];
extern const char *const api_session_get_prints_fields[];
extern const char *const api_session_stop_fields[];
extern const char *const api_session_delete_fields[];
extern const char *const api_session_start_fields[];

/* api-store.c: StoreService over store-values.c. */
void api_store_get(struct api_call *, json_t *);
void api_store_list(struct api_call *, json_t *);
void api_store_mutate(struct api_call *, json_t *);
void api_store_publish(struct api_call *, json_t *);	/* unimplemented */
extern const char *const api_store_get_fields[];
extern const char *const api_store_list_fields[];
extern const char *const api_store_mutate_fields[];
extern const char *const api_store_publish_fields[];	/* and Unpublish */

/* cel.c: the CEL subset of trigger and subscription filters. */
struct cel_expr;
struct cel_expr *cel_parse(const char *source, char **cause);
void cel_free(struct cel_expr *);
/* 1 matches, 0 does not, -1 error (*cause). Empty or "." matches all. */
int cel_filter_matches(const char *filter, json_t *data,
    const char *event_type, char **cause);
/* Evaluate to a JSON value (new reference), or NULL with *cause. */
json_t *cel_eval(struct cel_expr *, json_t *data, const char *event_type,
    char **cause);

/* cron.c: schedules: 5-field cron, @daily..., @every DURATION. */
struct cron;
struct cron *cron_parse(const char *expr, char **cause);
void cron_free(struct cron *);
/* The first fire time strictly after `after` (Unix seconds) in time zone
 * tz ("" or NULL: UTC), or -1 with *cause. */
int64_t cron_next(const struct cron *, int64_t after, const char *tz,
    char **cause);
int cron_timezone_valid(const char *tz);

/* sched.c: schedule triggers fire from the store, one timer. */
void sched_start(void);		/* at start, after recovery */
void sched_rearm(void);		/* a schedule changed */

/* dispatch.c: an event -> matching triggers -> sessions (fan-out). */
int dispatch_event(struct store *, const char *event_id,
    const char *testing_deployment_id, json_t *sessions_out, char **cause);
				/* inside a store_write; sessions started */
int event_insert(struct store *, const char *event_id,
    const char *destination_id, const char *project_id, const char *event_type,
    const char *data_json, const char *memo_json, char **cause);
/* A map of Values -> a native JSON object; NULL with *cause naming field. */
json_t *value_map_native(json_t *map, const char *field, int json_values,
    char **cause);

/* api-dispatcher.c: autokitteh.dispatcher.v1.DispatcherService. */
void api_dispatcher_dispatch(struct api_call *, json_t *);
void api_dispatcher_redispatch(struct api_call *, json_t *);
extern const char *const api_dispatcher_dispatch_fields[];
extern const char *const api_dispatcher_redispatch_fields[];
/* api-event.c: the event of a Save or Dispatch request, checked. */
struct event_request {
	char	 destination_id[64];
	char	 project_id[64];	/* the destination's, or "" */
	char	*event_type;
	char	*data_json;
	char	*memo_json;
};
int api_event_request(struct api_call *, json_t *event, int json_values,
    struct event_request *);	/* -1: answered */
void api_event_request_free(struct event_request *);
int api_destination_project(struct store *, const char *destination_id,
    char *project_id, size_t size);	/* 1 found, 0 not, -1 error */

/* integrations: one file per connection type (integration-*.c). */
enum connection_status {
	CONNECTION_OK,
	CONNECTION_WARNING,
	CONNECTION_ERROR,
	CONNECTION_INIT_REQUIRED,
};
struct integration {
	const char	*name;			/* "github" */
	const char	*route;			/* "/github/" prefix, or NULL */
	void		(*handle)(struct evhttp_request *, const char *path);
	int		(*test)(const char *connection_id, char **cause);
	/* From the connection's vars; *message is always set (new string). */
	enum connection_status (*status)(const char *connection_id,
			    char **message);
	const char	*description;
};
extern const struct integration integration_github;
extern const struct integration integration_http;
const struct integration *integration_find(const char *name);
const struct integration *integration_for_path(const char *path);
size_t integration_count(void);
const struct integration *integration_at(size_t);
char *integration_var(const char *connection_id, const char *name);
int integration_var_set(const char *connection_id, const char *name);
enum connection_status integration_status(const struct integration *,
    const char *connection_id, char **message);
const char *connection_status_code(enum connection_status);	/* CODE_OK */
const char *connection_status_stored(enum connection_status);	/* ok */

/* integration-github.c: X-Hub-Signature-256 over the raw body. */
int github_signature_valid(const char *header, const void *body, size_t len,
    const char *secret);		/* 1 valid, 0 not */
#define GITHUB_MAX_EVENT_TYPE	64
#define GITHUB_MAX_DELIVERY	128
json_t *github_delivery_parse(const struct evkeyvalq *headers,
    const void *body, size_t len, char *event_type, char *delivery,
    char **cause);		/* the event of a verified delivery */

/* api-connection.c: ConnectionsService. */
void api_connection_create(struct api_call *, json_t *);
void api_connection_get(struct api_call *, json_t *);
void api_connection_list(struct api_call *, json_t *);
void api_connection_delete(struct api_call *, json_t *);
void api_connection_update(struct api_call *, json_t *);
void api_connection_test(struct api_call *, json_t *);
void api_connection_refresh_status(struct api_call *, json_t *);
int api_connection_exists(struct api_call *, const char *connection_id);
extern const char *const api_connection_create_fields[];
extern const char *const api_connection_id_fields[];	/* {connection_id} */
extern const char *const api_connection_list_fields[];
/* Delete a connection, its vars and its triggers (inside a store_write). */
int connection_delete(struct store *, const char *connection_id,
    char **cause);

#endif
