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

struct config {
	char		*file;		/* the file read; NULL: defaults only */
	char		*listen;
	char		*socket_path;
	char		*data_dir;
	char		*public_url;
	char		*user;
	int		 synchronous;	/* enum store_sync */
	uint64_t	 max_body_size;
	uint64_t	 max_header_size;
	uint64_t	 request_timeout_ms;
	uint64_t	 max_connections;
	int		 log_level;	/* enum log_level */
};

enum config_type {
	CONFIG_STRING,
	CONFIG_ADDRESS,		/* host:port, [v6]:port */
	CONFIG_PATH,		/* absolute path */
	CONFIG_URL,		/* empty, or http(s)://... */
	CONFIG_USER,		/* a user name */
	CONFIG_ENUM,
	CONFIG_SIZE,
	CONFIG_DURATION,
	CONFIG_COUNT,
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
struct store *store_open(const char *path, int synchronous,
    struct event_base *, char **cause);
void store_close(struct store *);
sqlite3 *store_db(struct store *);
const char *store_path(struct store *);
int store_synchronous(struct store *);
int store_stats(struct store *, struct store_stats *);
sqlite3_stmt *store_prepare(struct store *, const char *sql);
int store_count(struct store *, const char *sql, int64_t *count);

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
size_t store_pending(struct store *);
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

/* api-token.c */
void api_token_create(struct api_call *, json_t *);
void api_token_list(struct api_call *, json_t *);
void api_token_revoke(struct api_call *, json_t *);
extern const char *const api_token_create_fields[];
extern const char *const api_token_list_fields[];
extern const char *const api_token_revoke_fields[];

#endif
