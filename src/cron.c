/*
 * cron.c: schedule expressions, as AutoKitteh passes them to Temporal.
 *
 * Three forms:
 *   - standard 5-field cron, "minute hour day-of-month month day-of-week",
 *     each field a list of "*", "N", "A-B", "*" or "A-B" or "N" followed by
 *     "/STEP" ("N/STEP" is N to the field's maximum); month names JAN-DEC
 *     and day names SUN-SAT in any case; day-of-week 0-7 (0 and 7 are
 *     Sunday). As in Vixie cron, when the day-of-month and day-of-week
 *     fields are both restricted (neither starts with "*") a day matches
 *     if either does; otherwise both must.
 *   - @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly.
 *   - @every DURATION in Go's syntax (90s, 15m, 1h30m), at least 1s and a
 *     whole number of seconds: cron_next() is then simply after + DURATION
 *     (sched.c keeps the interval anchored to the trigger's creation).
 *
 * Time zones: the fields are matched against the wall clock of an IANA zone
 * from /usr/share/zoneinfo, which we get from the C library by setting TZ
 * around localtime_r() and restoring it afterwards (the daemon is single-
 * threaded). Daylight saving time:
 *   - a wall time that does not exist (the clocks spring forward over it)
 *     fires at the first minute that exists after the gap (02:30 on the
 *     spring-forward night in New York fires at 03:00 EDT), once however
 *     many matching minutes fell in the gap;
 *   - a wall time that happens twice (the clocks fall back) fires once, at
 *     its first occurrence; the repeated hour does not fire again.
 *
 * cron_next() walks the calendar day by day in the zone, skipping months
 * that do not match in one step, and tries only the matching hours and
 * minutes of a matching day: at most CRON_SEARCH_YEARS of days, which is
 * microseconds. cron_parse() refuses an expression that can never fire
 * because of its day-of-month and month (February 30), so the bound only
 * matters for rare day-of-week combinations.
 */
#include "autokittehd.h"

#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CRON_MAX_LEN		256
#define CRON_SEARCH_YEARS	50
#define CRON_MAX_TIME		253402300799LL	/* 9999-12-31T23:59:59Z */
#define ZONEINFO_DIR		"/usr/share/zoneinfo"

struct cron {
	int64_t		 every;		/* seconds; 0: fields below */
	uint64_t	 minutes;	/* bit m: minute m */
	uint32_t	 hours;
	uint32_t	 doms;		/* bit d: day d, 1-31 */
	uint32_t	 months;	/* bit m: month m, 1-12 */
	uint32_t	 dows;		/* bit d: 0 Sunday .. 6 Saturday */
	int		 dom_star;	/* the field starts with '*' */
	int		 dow_star;
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const month_full[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};
static const char *const dow_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

struct cron_field {
	const char		*name;
	int			 min, max;
	const char *const	*names;		/* names[i] is min + i */
	const char		*names_hint;
};

static const struct cron_field fields[5] = {
	{ "minute", 0, 59, NULL, NULL },
	{ "hour", 0, 23, NULL, NULL },
	{ "day-of-month", 1, 31, NULL, NULL },
	{ "month", 1, 12, month_names, "a month name (JAN-DEC)" },
	{ "day-of-week", 0, 7, dow_names, "a day name (SUN-SAT)" },
};

static const struct {
	const char	*name;
	const char	*expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

#define EVERY_HINT "@every needs a duration such as 15m or 1h30m"

/* ---- parsing ---- */

/* A number or a name of field f: 0, or -1 with *cause (no field prefix). */
static int
parse_value(const struct cron_field *f, const char *s, size_t len, int *out,
    char **cause)
{
	size_t i;
	int v = 0;

	if (len == 0) {
		xasprintf(cause, "a number is missing");
		return -1;
	}
	for (i = 0; i < len && isdigit((unsigned char)s[i]); i++) {
		if (v <= 1000)
			v = v * 10 + (s[i] - '0');
	}
	if (i == len) {
		if (v < f->min || v > f->max) {
			xasprintf(cause, "%.*s is out of range %d-%d",
			    (int)(len > 24 ? 24 : len), s, f->min, f->max);
			return -1;
		}
		*out = v;
		return 0;
	}
	for (i = 0; f->names != NULL && f->names[i] != NULL; i++) {
		if (len == 3 && strncasecmp(s, f->names[i], 3) == 0) {
			*out = f->min + (int)i;
			return 0;
		}
	}
	xasprintf(cause, "\"%.*s\" is not a number%s%s",
	    (int)(len > 32 ? 32 : len), s, f->names_hint != NULL ? " or " : "",
	    f->names_hint != NULL ? f->names_hint : "");
	return -1;
}

/* One list item: *, N, A-B, each optionally /STEP. */
static int
parse_item(const struct cron_field *f, const char *s, size_t len,
    uint64_t *bits, char **cause)
{
	const char *slash = memchr(s, '/', len), *dash;
	size_t blen = slash != NULL ? (size_t)(slash - s) : len;
	int dow = f->names == dow_names, top = dow ? 6 : f->max;
	int lo, hi, step = 1, span = top - f->min + 1;

	if (slash != NULL) {
		const char *st = slash + 1;
		size_t slen = len - blen - 1, i;

		if (slen == 0) {
			xasprintf(cause, "\"%.*s\" has no step after /",
			    (int)(len > 32 ? 32 : len), s);
			return -1;
		}
		step = 0;
		for (i = 0; i < slen; i++) {
			if (!isdigit((unsigned char)st[i])) {
				xasprintf(cause, "step \"%.*s\" is not a "
				    "number", (int)(slen > 32 ? 32 : slen), st);
				return -1;
			}
			if (step <= 1000)
				step = step * 10 + (st[i] - '0');
		}
		if (step < 1 || step > span) {
			xasprintf(cause, "step %.*s is out of range 1-%d",
			    (int)(slen > 24 ? 24 : slen), st, span);
			return -1;
		}
	}
	if (blen == 1 && s[0] == '*') {
		lo = f->min;
		hi = top;
	} else if ((dash = memchr(s, '-', blen)) != NULL) {
		if (parse_value(f, s, (size_t)(dash - s), &lo, cause) != 0 ||
		    parse_value(f, dash + 1, blen - (size_t)(dash - s) - 1, &hi,
		    cause) != 0)
			return -1;
		if (lo > hi) {
			xasprintf(cause, "range %.*s ends before it starts",
			    (int)(blen > 32 ? 32 : blen), s);
			return -1;
		}
	} else {
		if (parse_value(f, s, blen, &lo, cause) != 0)
			return -1;
		hi = slash != NULL ? (lo > top ? lo : top) : lo;
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << (dow ? v % 7 : v);
	return 0;
}

static int
parse_field(const struct cron_field *f, const char *s, size_t len,
    uint64_t *bits, char **cause)
{
	const char *end = s + len, *comma;
	char *why = NULL;

	*bits = 0;
	while (s <= end) {
		comma = memchr(s, ',', (size_t)(end - s));
		if (comma == NULL)
			comma = end;
		if (comma == s) {
			xasprintf(cause, "%s field: empty list item", f->name);
			return -1;
		}
		if (parse_item(f, s, (size_t)(comma - s), bits, &why) != 0) {
			xasprintf(cause, "%s field: %s", f->name, why);
			free(why);
			return -1;
		}
		s = comma + 1;
	}
	return 0;
}

static int
leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/*
 * With day-of-week unrestricted (or "*"-led), a day must match
 * day-of-month in one of the months: refuse "0 0 30 2 *", which never
 * fires, rather than store a schedule that waits forever.
 */
static int
check_reachable(const struct cron *c, char **cause)
{
	int first_dom = 0, nmonths = 0, month = 0;

	if (!c->dow_star)
		return 0;
	for (int m = 1; m <= 12; m++) {
		if (!(c->months & (1u << m)))
			continue;
		nmonths++;
		month = m;
		for (int d = 1; d <= (m == 2 ? 29 : days_in_month(1, m)); d++) {
			if (c->doms & (1u << d))
				return 0;
		}
	}
	for (int d = 1; d <= 31 && first_dom == 0; d++) {
		if (c->doms & (1u << d))
			first_dom = d;
	}
	if (nmonths == 1)
		xasprintf(cause, "day-of-month field: %s has no day %d, so the "
		    "schedule never fires", month_full[month - 1], first_dom);
	else
		xasprintf(cause, "day-of-month field: none of the months has "
		    "day %d, so the schedule never fires", first_dom);
	return -1;
}

static int
parse_fields(struct cron *c, const char *s, char **cause)
{
	const char *start[6], *p = s;
	size_t len[6];
	uint64_t bits;
	int n = 0;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (n < 6)
			start[n] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		if (n < 6)
			len[n] = (size_t)(p - start[n]);
		n++;
	}
	if (n != 5) {
		xasprintf(cause, "expected 5 fields, got %d", n);
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		if (parse_field(&fields[i], start[i], len[i], &bits,
		    cause) != 0)
			return -1;
		switch (i) {
		case 0: c->minutes = bits; break;
		case 1: c->hours = (uint32_t)bits; break;
		case 2: c->doms = (uint32_t)bits; break;
		case 3: c->months = (uint32_t)bits; break;
		case 4: c->dows = (uint32_t)bits; break;
		}
	}
	c->dom_star = start[2][0] == '*';
	c->dow_star = start[4][0] == '*';
	return check_reachable(c, cause);
}

/* Go's time.ParseDuration, into nanoseconds: 0, or -1 with *cause. */
static int
parse_duration(const char *s, size_t len, int64_t *out, char **cause)
{
	static const struct {
		const char	*unit;
		uint64_t	 ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ULL }, { "m", 60000000000ULL },
		{ "h", 3600000000000ULL },
	};
	const char *p = s, *end = s + len;
	uint64_t total = 0;
	int neg = 0;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (end - p == 1 && *p == '0') {
		*out = 0;
		return 0;
	}
	if (p == end)
		goto invalid;
	while (p < end) {
		uint64_t whole = 0, frac = 0, scale = 1, ns = 0, v;
		const char *u;
		size_t i, ulen;
		int digits = 0, over = 0;

		for (; p < end && isdigit((unsigned char)*p); p++, digits++) {
			if (whole > (UINT64_MAX - 9) / 10)
				over = 1;
			else
				whole = whole * 10 + (uint64_t)(*p - '0');
		}
		if (p < end && *p == '.') {
			for (p++; p < end && isdigit((unsigned char)*p); p++) {
				digits++;
				if (scale < 1000000000000000000ULL) {
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
			}
		}
		if (digits == 0)
			goto invalid;
		for (u = p; p < end && *p != '.' && !isdigit((unsigned char)*p);
		    p++)
			;
		ulen = (size_t)(p - u);
		if (ulen == 0) {
			xasprintf(cause, "@every %.*s: the duration needs a "
			    "unit (h, m, s, ms, us or ns), such as 15m",
			    (int)(len > 32 ? 32 : len), s);
			return -1;
		}
		for (i = 0; i < nitems(units); i++) {
			if (strlen(units[i].unit) == ulen &&
			    memcmp(units[i].unit, u, ulen) == 0) {
				ns = units[i].ns;
				break;
			}
		}
		if (ns == 0) {
			xasprintf(cause, "@every %.*s: unknown unit \"%.*s\" "
			    "(use h, m, s, ms, us or ns)",
			    (int)(len > 32 ? 32 : len), s,
			    (int)(ulen > 16 ? 16 : ulen), u);
			return -1;
		}
		if (over || whole > (uint64_t)INT64_MAX / ns)
			goto toolong;
		v = whole * ns;
		/* frac / scale of a unit; scale <= 1e18, ns <= 3.6e12 */
		v += (uint64_t)((long double)frac * (long double)ns /
		    (long double)scale);
		total += v;
		if (total > (uint64_t)INT64_MAX)
			goto toolong;
	}
	*out = neg ? -(int64_t)total : (int64_t)total;
	return 0;

invalid:
	xasprintf(cause, "@every %.*s: \"%.*s\" is not a duration such as 15m "
	    "or 1h30m", (int)(len > 32 ? 32 : len), s,
	    (int)(len > 32 ? 32 : len), s);
	return -1;
toolong:
	xasprintf(cause, "@every %.*s: the duration is too long (at most "
	    "2562047h)", (int)(len > 32 ? 32 : len), s);
	return -1;
}

static int
parse_every(struct cron *c, const char *s, char **cause)
{
	const char *d, *e;
	size_t len;
	int64_t ns;

	for (d = s; isspace((unsigned char)*d); d++)
		;
	if (*d == '\0') {
		xasprintf(cause, EVERY_HINT);
		return -1;
	}
	for (e = d; *e != '\0' && !isspace((unsigned char)*e); e++)
		;
	len = (size_t)(e - d);
	while (isspace((unsigned char)*e))
		e++;
	if (*e != '\0') {
		size_t tl = strcspn(e, " \t\n\v\f\r");

		xasprintf(cause, "@every takes one duration, such as 15m or "
		    "1h30m; unexpected \"%.*s\"", (int)(tl > 32 ? 32 : tl), e);
		return -1;
	}
	if (parse_duration(d, len, &ns, cause) != 0)
		return -1;
	if (ns < 1000000000LL) {
		xasprintf(cause, "@every %.*s: the interval must be at least 1s",
		    (int)(len > 32 ? 32 : len), d);
		return -1;
	}
	if (ns % 1000000000LL != 0) {
		xasprintf(cause, "@every %.*s: the interval must be a whole "
		    "number of seconds", (int)(len > 32 ? 32 : len), d);
		return -1;
	}
	c->every = ns / 1000000000LL;
	return 0;
}

struct cron *
cron_parse(const char *expr, char **cause)
{
	struct cron *c;
	const char *s = expr, *w;
	size_t wlen;
	int rc = -1;

	if (expr == NULL)
		expr = s = "";
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0') {
		xasprintf(cause, "the schedule is empty: use a cron expression "
		    "such as \"0 6 * * *\", @daily or @every 15m");
		return NULL;
	}
	if (strlen(expr) > CRON_MAX_LEN) {
		xasprintf(cause, "the schedule is longer than %d characters",
		    CRON_MAX_LEN);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	if (*s != '@') {
		rc = parse_fields(c, s, cause);
		goto out;
	}
	for (w = s; *w != '\0' && !isspace((unsigned char)*w); w++)
		;
	wlen = (size_t)(w - s);
	if (wlen == 6 && strncasecmp(s, "@every", 6) == 0) {
		rc = parse_every(c, w, cause);
		goto out;
	}
	for (size_t i = 0; i < nitems(macros); i++) {
		if (strlen(macros[i].name) != wlen ||
		    strncasecmp(s, macros[i].name, wlen) != 0)
			continue;
		while (isspace((unsigned char)*w))
			w++;
		if (*w != '\0') {
			xasprintf(cause, "%s takes no arguments",
			    macros[i].name);
			goto out;
		}
		rc = parse_fields(c, macros[i].expr, cause);
		goto out;
	}
	xasprintf(cause, "unknown schedule \"%.*s\": use @yearly, @annually, "
	    "@monthly, @weekly, @daily, @midnight, @hourly or @every DURATION",
	    (int)(wlen > 32 ? 32 : wlen), s);
out:
	if (rc != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
cron_free(struct cron *c)
{
	free(c);
}

/* ---- time zones ---- */

int
cron_timezone_valid(const char *tz)
{
	char path[sizeof ZONEINFO_DIR + 256], magic[4];
	struct stat sb;
	ssize_t n;
	int fd;

	if (tz == NULL || *tz == '\0')
		return 1;			/* UTC */
	if (strlen(tz) > 255 || *tz == '/' || strstr(tz, "..") != NULL)
		return 0;
	for (const char *p = tz; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("/_-+.", *p) == NULL)
			return 0;
	}
	snprintf(path, sizeof path, "%s/%s", ZONEINFO_DIR, tz);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return 0;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return 0;
	}
	n = read(fd, magic, sizeof magic);
	close(fd);
	return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

struct zone {
	int	 utc;
	char	*saved;		/* TZ before, or NULL */
	int	 had_tz;
};

static void
zone_enter(struct zone *z, const char *tz)
{
	const char *old;
	char *value;

	z->utc = tz == NULL || *tz == '\0';
	if (z->utc)
		return;
	old = getenv("TZ");
	z->had_tz = old != NULL;
	z->saved = old != NULL ? xstrdup(old) : NULL;
	/* The file we checked, not TZDIR's idea of the name. */
	xasprintf(&value, ":%s/%s", ZONEINFO_DIR, tz);
	setenv("TZ", value, 1);
	free(value);
	tzset();
}

static void
zone_leave(struct zone *z)
{
	if (z->utc)
		return;
	if (z->had_tz)
		setenv("TZ", z->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(z->saved);
}

/* The zone's UTC offset at t, in seconds east. */
static int64_t
zone_offset(const struct zone *z, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (z->utc || localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* 0 Sunday .. 6 Saturday */
static int
weekday(int64_t days)
{
	int64_t w = (days + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

/*
 * The instant whose wall-clock time in the zone is L (seconds of a
 * calendar treated as UTC): the first occurrence of an ambiguous time,
 * the end of the gap for a time that does not exist.
 */
static int64_t
wall_to_utc(const struct zone *z, int64_t L)
{
	int64_t before, after, ta, tb, lo, hi;

	if (z->utc)
		return L;
	before = zone_offset(z, L - 86400);
	after = zone_offset(z, L + 86400);
	ta = L - before;
	tb = L - after;
	if (zone_offset(z, ta) == before) {
		if (zone_offset(z, tb) == after && tb < ta)
			return tb;
		return ta;
	}
	if (zone_offset(z, tb) == after)
		return tb;
	/* A gap: the first instant whose wall time is at or after L. */
	lo = ta < tb ? ta : tb;
	hi = ta < tb ? tb : ta;
	if (hi + zone_offset(z, hi) < L || lo + zone_offset(z, lo) >= L)
		return L - zone_offset(z, L);	/* not a simple gap */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (mid + zone_offset(z, mid) >= L)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static int
day_matches(const struct cron *c, int dom, int dow)
{
	int d = (c->doms & (1u << dom)) != 0;
	int w = (c->dows & (1u << dow)) != 0;

	return c->dom_star || c->dow_star ? d && w : d || w;
}

int64_t
cron_next(const struct cron *c, int64_t after, const char *tz, char **cause)
{
	struct zone z;
	struct tm tm;
	time_t tt;
	int64_t y, end_year, result = -1;
	int mo, d, h, mi;

	if (after < 0 || after > CRON_MAX_TIME) {
		xasprintf(cause, "time %lld is out of range", (long long)after);
		return -1;
	}
	if (c->every > 0)
		return after + c->every;
	if (!cron_timezone_valid(tz)) {
		xasprintf(cause, "unknown time zone \"%s\"", tz);
		return -1;
	}
	memset(&z, 0, sizeof z);
	zone_enter(&z, tz);
	tt = (time_t)after;
	if ((z.utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL) {
		zone_leave(&z);
		xasprintf(cause, "time %lld cannot be converted",
		    (long long)after);
		return -1;
	}
	/* Start at the wall-clock minute after after's. */
	y = (int64_t)tm.tm_year + 1900;
	mo = tm.tm_mon + 1;
	d = tm.tm_mday;
	h = tm.tm_hour;
	mi = tm.tm_min + 1;
	if (mi == 60) {
		mi = 0;
		if (++h == 24) {
			h = 0;
			d++;		/* past the month's end: handled below */
		}
	}
	end_year = y + CRON_SEARCH_YEARS;
	while (y <= end_year) {
		int64_t days;

		if (!(c->months & (1u << mo)) || d > days_in_month(y, mo)) {
			if (++mo > 12) {
				mo = 1;
				y++;
			}
			d = 1;
			h = mi = 0;
			continue;
		}
		days = days_from_civil(y, mo, d);
		if (day_matches(c, d, weekday(days))) {
			for (int hh = h; hh < 24; hh++) {
				if (!(c->hours & (1u << hh)))
					continue;
				for (int mm = hh == h ? mi : 0; mm < 60; mm++) {
					int64_t t;

					if (!(c->minutes & ((uint64_t)1 << mm)))
						continue;
					t = wall_to_utc(&z, days * 86400 +
					    hh * 3600 + mm * 60);
					if (t > after) {
						result = t;
						goto done;
					}
				}
			}
		}
		d++;
		h = mi = 0;
	}
	xasprintf(cause, "the schedule does not fire within %d years",
	    CRON_SEARCH_YEARS);
done:
	zone_leave(&z);
	return result;
}
