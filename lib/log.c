/*
 * log.c: leveled logging to standard error (foreground, -d) or syslog.
 *
 * Under systemd with -d, journald reads our stderr; when JOURNAL_STREAM is
 * set we prefix each line with its sd-daemon priority ("<3>") instead of a
 * timestamp, so journalctl shows true levels. fatal() logs and exits 1.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "autokitteh";
static int log_to_stderr = 1;
static int log_journal;
static enum log_level log_level = LOG_LEVEL_INFO;
static long log_pid;		/* shown instead of getpid() when set */

static const struct {
	const char *name;
	int priority;
} log_levels[] = {
	[LOG_LEVEL_ERROR] = { "error", LOG_ERR },
	[LOG_LEVEL_WARNING] = { "warning", LOG_WARNING },
	[LOG_LEVEL_NOTICE] = { "notice", LOG_NOTICE },
	[LOG_LEVEL_INFO] = { "info", LOG_INFO },
	[LOG_LEVEL_DEBUG] = { "debug", LOG_DEBUG },
};

void
log_open(const char *ident, int to_stderr, enum log_level level)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	log_level = level;
	log_journal = to_stderr && getenv("JOURNAL_STREAM") != NULL;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* SIGHUP: syslog may have been restarted; reconnect. */
void
log_reopen(void)
{
	if (log_to_stderr)
		return;
	closelog();
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/*
 * A session worker is pid 1 of its own PID namespace; it logs under the
 * pid the controller knows it by (sandbox-namespace.c).
 */
void
log_set_pid(long pid)
{
	log_pid = pid;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_from_name(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < nitems(log_levels); i++) {
		if (strcmp(name, log_levels[i].name) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	if ((size_t)level >= nitems(log_levels))
		return "unknown";
	return log_levels[level].name;
}

void
log_vmessage(enum log_level level, const char *fmt, va_list ap)
{
	char msg[2048];
	int saved = errno;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!log_to_stderr)
		syslog(log_levels[level].priority, "%s", msg);
	else if (log_journal)
		fprintf(stderr, "<%d>%s\n", log_levels[level].priority, msg);
	else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s[%ld] %s: %s\n", when,
		    ts.tv_nsec / 1000000, log_ident,
		    log_pid != 0 ? log_pid : (long)getpid(),
		    log_levels[level].name, msg);
	}
	errno = saved;
}

#define LOG_FUNCTION(name, level)			\
	void						\
	name(const char *fmt, ...)			\
	{						\
		va_list ap;				\
		va_start(ap, fmt);			\
		log_vmessage(level, fmt, ap);		\
		va_end(ap);				\
	}
LOG_FUNCTION(log_error, LOG_LEVEL_ERROR)
LOG_FUNCTION(log_warning, LOG_LEVEL_WARNING)
LOG_FUNCTION(log_notice, LOG_LEVEL_NOTICE)
LOG_FUNCTION(log_info, LOG_LEVEL_INFO)
LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG)

/* Log "msg: strerror(errno)" and exit. */
void
fatal(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_error("%s: %s", msg, strerror(saved));
	exit(1);
}

/* Log msg and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmessage(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
