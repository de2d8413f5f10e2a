/*
 * notify.c: the sd_notify protocol, implemented in-tree (no libsystemd).
 *
 * systemd passes NOTIFY_SOCKET, a datagram socket path ("@name" for the
 * abstract namespace); each notification is one datagram of "KEY=value"
 * lines. We send READY=1 only when we can serve, STATUS= while starting,
 * STOPPING=1 on shutdown, and WATCHDOG=1 from an event-loop timer at half
 * of WATCHDOG_USEC, so a stalled loop is noticed and the service restarted.
 */
#include "autokittehd.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len;
static int notify_fd = -1;
static struct event *notify_watchdog_ev;

/* Parse NOTIFY_SOCKET into an address; "@x" is abstract. */
int
notify_parse_address(const char *s, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n;

	if (s == NULL || (s[0] != '/' && s[0] != '@'))
		return -1;
	n = strlen(s);
	if (n < 2 || n >= sizeof sun->sun_path)
		return -1;
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, s, n);
	if (s[0] == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (s[0] == '/'));
	return 0;
}

/*
 * The watchdog ping interval: half of WATCHDOG_USEC, when WATCHDOG_PID is
 * unset or names us. Returns 0 and sets *interval_us, or -1 when the
 * watchdog is off or the variables are malformed.
 */
int
notify_watchdog_interval(const char *usec, const char *pid, pid_t self,
    uint64_t *interval_us)
{
	unsigned long long n;
	char *end;

	if (usec == NULL || !isdigit((unsigned char)*usec))
		return -1;
	errno = 0;
	n = strtoull(usec, &end, 10);
	if (*end != '\0' || errno != 0 || n == 0 || usec[0] == '-')
		return -1;
	if (pid != NULL && *pid != '\0') {
		long p;

		if (!isdigit((unsigned char)*pid))
			return -1;
		errno = 0;
		p = strtol(pid, &end, 10);
		if (*end != '\0' || errno != 0 || p <= 0 || (pid_t)p != self)
			return -1;
	}
	/* Ping at half the timeout, but not more often than every 1ms. */
	*interval_us = n / 2 < 1000 ? 1000 : n / 2;
	return 0;
}

void
notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	if (s == NULL)
		return;
	if (notify_parse_address(s, &notify_addr, &notify_addr_len) != 0) {
		log_warning("NOTIFY_SOCKET \"%s\" is not a socket path; "
		    "systemd notifications are off", s);
		return;
	}
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd == -1)
		log_warning("notify socket: %s", strerror(errno));
}

int
notify_enabled(void)
{
	return notify_fd != -1;
}

int
notify_send(const char *message)
{
	if (notify_fd == -1)
		return 0;
	if (sendto(notify_fd, message, strlen(message), MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_addr, notify_addr_len) == -1) {
		log_warning("sd_notify \"%s\": %s", message, strerror(errno));
		return -1;
	}
	log_debug("sd_notify: %s", message);
	return 0;
}

void
notify_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof buf, "STATUS=");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	log_info("%s", buf + n);
	notify_send(buf);
}

static void
notify_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	notify_send("WATCHDOG=1");
}

void
notify_watchdog_start(struct event_base *base)
{
	uint64_t us;
	struct timeval tv;

	if (notify_fd == -1 || notify_watchdog_interval(
	    getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid(),
	    &us) != 0)
		return;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	notify_watchdog_ev = event_new(base, -1, EV_PERSIST,
	    notify_watchdog_cb, NULL);
	event_add(notify_watchdog_ev, &tv);
	log_info("systemd watchdog: pinging every %llu ms",
	    (unsigned long long)(us / 1000));
	notify_send("WATCHDOG=1");
}

void
notify_watchdog_stop(void)
{
	if (notify_watchdog_ev != NULL) {
		event_free(notify_watchdog_ev);
		notify_watchdog_ev = NULL;
	}
}
