/*
 * autokittehd.c: the controller's main: options, start-up order, signals.
 *
 * Start-up is ordered so that READY means ready: read the config (exit 78
 * on any error), resolve the user, check and lock the data directory, bind
 * the listeners (possibly as root), drop privileges, open the store (quick
 * check, migrations), load the secrets key (exit 78 if the key file is
 * unsafe or wrong), start accepting, then tell systemd READY=1 (and, when
 * we detached, tell the waiting parent). SIGTERM/SIGINT stop gracefully:
 * STOPPING=1, no new connections, in-flight requests get until
 * http.request_timeout, the last batch commits, the store closes, exit 0.
 */
#include "autokittehd.h"
#include "failpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct daemon_state {
	struct controller	 ctl;
	struct pool		*pool;
	struct event_base	*base;
	struct config		 config;
	struct server		*server;
	struct store		*store;
	struct event		*shutdown_ev;
	struct timespec		 shutdown_deadline;
	int			 ready_fd;	/* to the parent when detached */
	struct event		*signals[3];
};

static const int handled_signals[3] = { SIGTERM, SIGINT, SIGHUP };

static void
usage(FILE *f)
{
	fprintf(f, "usage: autokittehd [-dhnVv] [-f file]\n"
	    "  -d, --foreground   stay in the foreground and log to standard "
	    "error\n"
	    "  -f, --config=file  configuration file (default "
	    DEFAULT_CONFIG_FILE ")\n"
	    "  -h, --help         print this help and exit\n"
	    "  -n, --check        check the configuration and exit\n"
	    "  -v, --verbose      more verbose logging (repeatable)\n"
	    "  -V, --version      print the version and exit\n"
	    "See autokitteh(8) and autokitteh.conf(5).\n");
}

static void
libevent_log_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warning("libevent: %s", msg);
		break;
	default:
		log_error("libevent: %s", msg);
		break;
	}
}

static void
libevent_fatal_cb(int err)
{
	log_error("libevent: fatal error %d", err);
	abort();
}

/*
 * Detach: the parent waits until the child is ready (a byte on the pipe)
 * and exits 0, or exits with the child's status if it dies first, so that
 * "autokittehd && echo started" tells the truth.
 */
static int
daemonize(void)
{
	int fds[2], status, devnull;
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) == 1)
			_exit(0);
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
			_exit(WEXITSTATUS(status));
		_exit(1);
	}
	close(fds[0]);
	if (setsid() == -1)
		fatal("setsid");
	if ((devnull = open("/dev/null", O_RDWR)) != -1) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	return fds[1];
}

static void
shutdown_check_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon_state *d = arg;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (server_inflight(d->server) == 0 && store_pending(d->store) == 0) {
		event_base_loopbreak(d->base);
		return;
	}
	if (now.tv_sec > d->shutdown_deadline.tv_sec ||
	    (now.tv_sec == d->shutdown_deadline.tv_sec &&
	    now.tv_nsec >= d->shutdown_deadline.tv_nsec)) {
		log_warning("%zu requests still in flight at the shutdown "
		    "deadline (http.request_timeout); closing them",
		    server_inflight(d->server));
		event_base_loopbreak(d->base);
	}
}

static void
signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct daemon_state *d = arg;
	struct timeval tick = { 0, 20000 };
	uint64_t ms = d->config.request_timeout_ms;

	if (sig == SIGHUP) {
		log_reopen();
		log_info("SIGHUP: logs reopened");
		return;
	}
	if (d->shutdown_ev != NULL)
		return;
	log_notice("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_send("STOPPING=1");
	webhook_sync_shutdown();
	server_stop_accepting(d->server);
	clock_gettime(CLOCK_MONOTONIC, &d->shutdown_deadline);
	d->shutdown_deadline.tv_sec += (time_t)(ms / 1000);
	d->shutdown_deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (d->shutdown_deadline.tv_nsec >= 1000000000) {
		d->shutdown_deadline.tv_sec++;
		d->shutdown_deadline.tv_nsec -= 1000000000;
	}
	/* The first check comes a tick later: replies queued now go out. */
	d->shutdown_ev = event_new(d->base, -1, EV_PERSIST, shutdown_check_cb,
	    d);
	event_add(d->shutdown_ev, &tick);
}

/* Print cause to stderr (we may not have logging yet) and exit. */
static void
die(int code, const char *cause)
{
	log_error("%s", cause);
	exit(code);
}

static void
start(struct daemon_state *d)
{
	struct privilege priv;
	char *cause = NULL, *db, *key_file;

	notify_status("starting autokittehd " PACKAGE_VERSION);
	if (privilege_resolve(d->config.user, &priv, &cause) != 0)
		die(1, cause);
	if (datadir_prepare(d->config.data_dir, priv.uid, priv.gid,
	    &cause) != 0 || datadir_lock(d->config.data_dir, priv.uid,
	    priv.gid, &cause) != 0)
		die(1, cause);

	d->base = event_base_new();
	if (d->base == NULL)
		fatalx("cannot create the event loop");
	/* Before READY: a SIGTERM at any point after it must stop us cleanly. */
	for (size_t i = 0; i < nitems(d->signals); i++) {
		d->signals[i] = evsignal_new(d->base, handled_signals[i],
		    signal_cb, d);
		evsignal_add(d->signals[i], NULL);
	}
	d->server = server_new(d->base, &d->config, NULL, &cause);
	notify_status("binding listeners");
	if (server_bind(d->server, &priv, &cause) != 0)
		die(1, cause);
	privilege_drop(&priv);
	privilege_free(&priv);

	notify_status("opening and checking the store");
	xasprintf(&db, "%s/autokitteh.db", d->config.data_dir);
	d->store = store_open(db, d->config.synchronous, d->config.store_check,
	    d->base, &cause);
	free(db);
	if (d->store == NULL)
		die(1, cause);
	notify_status("loading the secrets key");
	key_file = secrets_key_file_path(&d->config);
	if (secrets_start(d->store, key_file, &cause) != 0)
		die(EXIT_CONFIG, cause);
	free(key_file);
	server_set_store(d->server, d->store);

	d->ctl.base = d->base;
	d->ctl.config = &d->config;
	d->ctl.store = d->store;
	d->ctl.server = d->server;
	controller = &d->ctl;
	notify_status("recovering sessions");
	session_recover();
	sched_start();
	session_prune_start();
	notify_status("starting the worker pool");
	d->pool = pool_new(d->base, &d->config);
	if (pool_probe_sandbox(d->pool, &cause) != 0)
		die(EXIT_CONFIG, cause);
	if (pool_start(d->pool, &cause) != 0)
		die(1, cause);
	d->ctl.pool = d->pool;

	if (server_start(d->server, &cause) != 0)
		die(1, cause);

	server_set_ready(d->server, 1);
	notify_send("READY=1\nSTATUS=ready");
	notify_watchdog_start(d->base);
	log_notice("autokittehd " PACKAGE_VERSION " ready (pid %ld)",
	    (long)getpid());
	if (d->ready_fd != -1) {
		ssize_t rc = write(d->ready_fd, "R", 1);

		(void)rc;
		close(d->ready_fd);
		d->ready_fd = -1;
		dup2(STDIN_FILENO, STDERR_FILENO);	/* /dev/null */
	}
}

static const struct option long_options[] = {
	{ "check",	no_argument,		NULL,	'n' },
	{ "config",	required_argument,	NULL,	'f' },
	{ "foreground",	no_argument,		NULL,	'd' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "verbose",	no_argument,		NULL,	'v' },
	{ "version",	no_argument,		NULL,	'V' },
	{ NULL,		0,			NULL,	0 }
};

int
main(int argc, char **argv)
{
	struct daemon_state d = { .ready_fd = -1 };
	const char *file = DEFAULT_CONFIG_FILE;
	int ch, foreground = 0, check = 0, verbose = 0, explicit_file = 0;
	char *cause = NULL;
	int level;

	umask(0077);	/* the store and lock file are ours alone */
	log_open("autokittehd", 1, LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "df:hnVv", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			file = optarg;
			explicit_file = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("autokittehd %s\n", PACKAGE_VERSION);
			return 0;
		case 'v':
			verbose++;
			break;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "autokittehd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 64;
	}

	config_init(&d.config);
	if (config_load(&d.config, file, !explicit_file, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		config_free(&d.config);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: configuration OK\n", d.config.file != NULL ?
		    d.config.file : "built-in defaults (no file)");
		config_free(&d.config);
		return 0;
	}
	level = d.config.log_level + verbose;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	if (verbose > LOG_LEVEL_DEBUG - d.config.log_level)
		event_enable_debug_logging(EVENT_DBG_ALL);

	crash_handler_install();
	signal(SIGPIPE, SIG_IGN);
	if (!foreground)
		d.ready_fd = daemonize();
	log_open("autokittehd", foreground, (enum log_level)level);
	event_set_log_callback(libevent_log_cb);
	event_set_fatal_callback(libevent_fatal_cb);
	metrics_init();
	notify_init();
	failpoint_init();
	log_info("autokittehd " PACKAGE_VERSION " starting, configuration %s",
	    d.config.file != NULL ? d.config.file : "built-in defaults");

	start(&d);
	event_base_dispatch(d.base);

	notify_watchdog_stop();
	session_prune_stop();
	api_session_shutdown();
	pool_free(d.pool);	/* running sessions end as the workers do */
	d.ctl.pool = NULL;
	store_flush(d.store);
	server_free(d.server);
	store_close(d.store);
	secrets_stop();
	for (size_t i = 0; i < nitems(d.signals); i++)
		event_free(d.signals[i]);
	if (d.shutdown_ev != NULL)
		event_free(d.shutdown_ev);
	event_base_free(d.base);
	datadir_unlock();
	log_notice("stopped");
	config_free(&d.config);
	return 0;
}
