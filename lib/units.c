/*
 * units.c: the value syntaxes of the config file and the command line.
 *
 * Durations are written as Go writes them: one or more number+unit pairs,
 * units ms, s, m, h, and d for days of 24h ("250ms", "10s", "1h30m",
 * "30d"); "0" alone is zero. Sizes are
 * a number of bytes with an optional binary unit (B, KiB, MiB, GiB, TiB).
 * Both reject overflow, empty input, signs, and trailing garbage.
 */
#include "common.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int
parse_uint(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	*out = v;
	return 0;
}

int
parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	uint64_t total = 0, n;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		size_t i, len;

		if (parse_uint(&s, &n) != 0)
			return -1;
		for (i = 0; i < nitems(units); i++) {
			len = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, len) == 0 &&
			    !isalpha((unsigned char)s[len]))
				break;
		}
		if (i == nitems(units))
			return -1;
		s += len;
		if (n > (UINT64_MAX - total) / units[i].ms)
			return -1;
		total += n * units[i].ms;
	}
	*ms = total;
	return 0;
}

int
parse_size_bytes(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		uint64_t bytes;
	} units[] = {
		{ "", 1 }, { "B", 1 }, { "KiB", 1ULL << 10 },
		{ "MiB", 1ULL << 20 }, { "GiB", 1ULL << 30 },
		{ "TiB", 1ULL << 40 },
	};
	uint64_t n;

	if (parse_uint(&s, &n) != 0)
		return -1;
	for (size_t i = 0; i < nitems(units); i++) {
		if (strcmp(s, units[i].unit) != 0)
			continue;
		if (n > UINT64_MAX / units[i].bytes)
			return -1;
		*bytes = n * units[i].bytes;
		return 0;
	}
	return -1;
}

int
parse_bool(const char *s, int *value)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0) {
		*value = 1;
		return 0;
	}
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0) {
		*value = 0;
		return 0;
	}
	return -1;
}

/* The inverse of parse_duration_ms, in its largest exact units: "1h30m". */
void
format_duration_ms(uint64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	size_t off = 0;

	if (ms == 0) {
		snprintf(buf, size, "0");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < nitems(units) && ms != 0; i++) {
		if (ms < units[i].ms)
			continue;
		if (units[i].ms == 1000 && ms % 1000 != 0)
			continue;	/* "1500ms", not "1s500ms" */
		if (units[i].ms == 60000 && ms % 1000 != 0)
			continue;
		if (units[i].ms >= 3600000 && ms % 1000 != 0)
			continue;
		off += (size_t)snprintf(buf + off, off < size ? size - off : 0,
		    "%llu%s", (unsigned long long)(ms / units[i].ms),
		    units[i].unit);
		ms %= units[i].ms;
	}
}

/* The inverse of parse_size_bytes, exact: "16MiB", "1000". */
void
format_size_bytes(uint64_t bytes, char *buf, size_t size)
{
	static const char *units[] = { "TiB", "GiB", "MiB", "KiB" };

	for (size_t i = 0; i < nitems(units); i++) {
		uint64_t unit = 1ULL << (10 * (4 - i));

		if (bytes != 0 && bytes % unit == 0) {
			snprintf(buf, size, "%llu%s",
			    (unsigned long long)(bytes / unit), units[i]);
			return;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

/* For people, rounded: "812 bytes", "4KiB", "567.3KiB", "1.2GiB". */
void
format_size_human(uint64_t bytes, char *buf, size_t size)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t i;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
		return;
	}
	for (i = 0, v /= 1024; v >= 1024 && i + 1 < nitems(units); i++)
		v /= 1024;
	if (v - (double)(uint64_t)v < 0.05)
		snprintf(buf, size, "%.0f%s", v, units[i]);
	else
		snprintf(buf, size, "%.1f%s", v, units[i]);
}

/* Microseconds since from, a CLOCK_MONOTONIC time; 0 if it is ahead. */
uint64_t
elapsed_us(const struct timespec *from)
{
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - from->tv_sec) * 1000000 +
	    (int64_t)(now.tv_nsec - from->tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}
