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
