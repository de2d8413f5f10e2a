/*
 * controller.c: the daemon's subsystems in one place, and the small
 * helpers every API file needs (clock, timestamps, the public base URL).
 *
 * There is one controller per process; autokittehd.c fills it in at start.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct controller *controller;

int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Arm the timer ev to fire us microseconds from now. */
void
timer_add_us(struct event *ev, uint64_t us)
{
	struct timeval tv = { (time_t)(us / 1000000),
	    (suseconds_t)(us % 1000000) };

	event_add(ev, &tv);
}

/*
 * Arm ev for the wall-clock time (now_us()'s microseconds) that sql, a
 * "SELECT min(...)", answers, at once if it is past; disarm ev when the
 * answer is NULL. The schedules and the sleeping sessions each keep one
 * timer for their earliest due time this way.
 */
void
timer_arm_earliest(struct event *ev, const char *sql)
{
	sqlite3_stmt *st;
	int64_t due = -1, delay;

	if ((st = store_prepare(controller->store, sql)) == NULL)
		return;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		due = sqlite3_column_int64(st, 0);
	store_finalize(st);
	event_del(ev);
	if (due < 0)
		return;
	delay = due - now_us();
	if (delay < 0)
		delay = 0;
	timer_add_us(ev, (uint64_t)delay);
}

/* RFC 3339 in UTC with microseconds: "2026-11-26T21:30:00.123456Z". */
json_t *
timestamp_us_json(int64_t us)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	char buf[40];
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof buf - n, ".%06lldZ",
	    (long long)(us % 1000000));
	return json_string(buf);
}

/* server.public_url, or http://<listen> when it is empty. */
char *
public_base_url(const struct config *cf)
{
	char *url;
	size_t len;

	if (cf->public_url != NULL && *cf->public_url != '\0')
		url = xstrdup(cf->public_url);
	else
		xasprintf(&url, "http://%s", cf->listen);
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	return url;
}
