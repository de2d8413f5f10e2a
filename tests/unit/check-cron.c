/*
 * check-cron.c: unit tests for src/cron.c: every field form, names,
 * the @-macros, @every durations, next fire times in UTC, in New York
 * across both daylight saving transitions and in Kolkata (+05:30), February
 * 29, the search bound, time zone names, and every refusal with its exact
 * sentence.
 */
#include "autokittehd.h"

#include <check.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NY	"America/New_York"
#define IST	"Asia/Kolkata"

/* Unix seconds of a UTC calendar time. */
static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t)timegm(&tm);
}

static int64_t
next_in(const char *expr, int64_t after, const char *tz)
{
	struct cron *c;
	char *cause = NULL;
	int64_t t;

	c = cron_parse(expr, &cause);
	ck_assert_msg(c != NULL, "%s: %s", expr, cause);
	t = cron_next(c, after, tz, &cause);
	ck_assert_msg(t >= 0, "%s: %s", expr, cause);
	ck_assert_msg(t > after, "%s: %lld not after %lld", expr,
	    (long long)t, (long long)after);
	cron_free(c);
	return t;
}

#define NEXT(expr, after)	next_in(expr, after, NULL)

static void
refused(const char *expr, const char *want)
{
	struct cron *c;
	char *cause = NULL;

	c = cron_parse(expr, &cause);
	ck_assert_msg(c == NULL, "\"%s\" was accepted", expr);
	ck_assert_msg(cause != NULL && strcmp(cause, want) == 0,
	    "\"%s\": got \"%s\", want \"%s\"", expr, cause, want);
	free(cause);
}

static void
accepted(const char *expr)
{
	struct cron *c;
	char *cause = NULL;

	c = cron_parse(expr, &cause);
	ck_assert_msg(c != NULL, "\"%s\": %s", expr, cause);
	cron_free(c);
}

START_TEST(field_forms)
{
	int64_t t0 = utc(2024, 1, 1, 0, 0);	/* a Monday */

	/* * */
	ck_assert_int_eq(NEXT("* * * * *", t0), t0 + 60);
	ck_assert_int_eq(NEXT("* * * * *", t0 + 59), t0 + 60);
	ck_assert_int_eq(NEXT("* * * * *", t0 + 60), t0 + 120);
	/* N */
	ck_assert_int_eq(NEXT("5 * * * *", t0), utc(2024, 1, 1, 0, 5));
	ck_assert_int_eq(NEXT("5 * * * *", utc(2024, 1, 1, 0, 5)),
	    utc(2024, 1, 1, 1, 5));
	ck_assert_int_eq(NEXT("0 6 * * *", t0), utc(2024, 1, 1, 6, 0));
	ck_assert_int_eq(NEXT("0 6 * * *", utc(2024, 1, 1, 6, 0)),
	    utc(2024, 1, 2, 6, 0));
	/* every n */
	ck_assert_int_eq(NEXT("*/15 * * * *", t0), utc(2024, 1, 1, 0, 15));
	ck_assert_int_eq(NEXT("*/15 * * * *", utc(2024, 1, 1, 0, 50)),
	    utc(2024, 1, 1, 1, 0));
	ck_assert_int_eq(NEXT("0 */6 * * *", utc(2024, 1, 1, 7, 0)),
	    utc(2024, 1, 1, 12, 0));
	/* a-b, a-b/n */
	ck_assert_int_eq(NEXT("0 9-17 * * *", utc(2024, 1, 1, 17, 0)),
	    utc(2024, 1, 2, 9, 0));
	ck_assert_int_eq(NEXT("0-10/5 3 * * *", t0), utc(2024, 1, 1, 3, 0));
	ck_assert_int_eq(NEXT("0-10/5 3 * * *", utc(2024, 1, 1, 3, 5)),
	    utc(2024, 1, 1, 3, 10));
	ck_assert_int_eq(NEXT("0-10/5 3 * * *", utc(2024, 1, 1, 3, 10)),
	    utc(2024, 1, 2, 3, 0));
	/* a/n: a to the maximum */
	ck_assert_int_eq(NEXT("5/20 * * * *", utc(2024, 1, 1, 0, 5)),
	    utc(2024, 1, 1, 0, 25));
	ck_assert_int_eq(NEXT("5/20 * * * *", utc(2024, 1, 1, 0, 45)),
	    utc(2024, 1, 1, 1, 5));
	/* lists, mixed */
	ck_assert_int_eq(NEXT("1,2,30-31 0 * * *", utc(2024, 1, 1, 0, 2)),
	    utc(2024, 1, 1, 0, 30));
	ck_assert_int_eq(NEXT("0 0 1,15 * *", t0), utc(2024, 1, 15, 0, 0));
	ck_assert_int_eq(NEXT("0 0 1 */3 *", t0), utc(2024, 4, 1, 0, 0));
	/* day-of-month past the month's end in this month */
	ck_assert_int_eq(NEXT("0 0 31 * *", utc(2024, 1, 31, 0, 0)),
	    utc(2024, 3, 31, 0, 0));
	/* the year rolls over */
	ck_assert_int_eq(NEXT("59 23 31 12 *", utc(2024, 12, 31, 23, 59)),
	    utc(2025, 12, 31, 23, 59));
	ck_assert_int_eq(NEXT("* * * * *", utc(2024, 12, 31, 23, 59)),
	    utc(2025, 1, 1, 0, 0));
	/* seconds within a minute */
	ck_assert_int_eq(NEXT("* * * * *", t0 + 30), t0 + 60);
	/* extra whitespace */
	ck_assert_int_eq(NEXT("  5\t*  * * *  ", t0), utc(2024, 1, 1, 0, 5));
}
END_TEST

START_TEST(names_and_weekdays)
{
	int64_t t0 = utc(2024, 1, 1, 0, 0);	/* Monday */

	ck_assert_int_eq(NEXT("0 0 1 jul *", t0), utc(2024, 7, 1, 0, 0));
	ck_assert_int_eq(NEXT("0 0 1 JUL *", t0), utc(2024, 7, 1, 0, 0));
	ck_assert_int_eq(NEXT("0 0 1 Mar-May *", t0), utc(2024, 3, 1, 0, 0));
	ck_assert_int_eq(NEXT("0 0 1 jan,Jul *", utc(2024, 1, 1, 0, 0)),
	    utc(2024, 7, 1, 0, 0));
	ck_assert_int_eq(NEXT("0 0 1 FEB-DEC/5 *", t0), utc(2024, 2, 1, 0, 0));
	ck_assert_int_eq(NEXT("0 0 1 FEB-DEC/5 *", utc(2024, 2, 1, 0, 0)),
	    utc(2024, 7, 1, 0, 0));
	/* Saturday 2024-01-06 -> Monday */
	ck_assert_int_eq(NEXT("0 12 * * MON-FRI", utc(2024, 1, 6, 0, 0)),
	    utc(2024, 1, 8, 12, 0));
	ck_assert_int_eq(NEXT("0 12 * * 1-5", utc(2024, 1, 6, 0, 0)),
	    utc(2024, 1, 8, 12, 0));
	ck_assert_int_eq(NEXT("0 12 * * sat,Sun", t0), utc(2024, 1, 6, 12, 0));
	/* 0 and 7 are Sunday */
	ck_assert_int_eq(NEXT("0 0 * * 0", t0), utc(2024, 1, 7, 0, 0));
	ck_assert_int_eq(NEXT("0 0 * * 7", t0), utc(2024, 1, 7, 0, 0));
	ck_assert_int_eq(NEXT("0 0 * * SUN", t0), utc(2024, 1, 7, 0, 0));
	ck_assert_int_eq(NEXT("0 0 * * 5-7", t0), utc(2024, 1, 5, 0, 0));
	ck_assert_int_eq(NEXT("0 0 * * 6-7", utc(2024, 1, 6, 0, 0)),
	    utc(2024, 1, 7, 0, 0));
	ck_assert_int_eq(NEXT("0 0 * * */2", t0), utc(2024, 1, 2, 0, 0));
	/* both restricted: either matches (the 13th or a Friday) */
	ck_assert_int_eq(NEXT("0 0 13 * 5", t0), utc(2024, 1, 5, 0, 0));
	ck_assert_int_eq(NEXT("0 0 13 * 5", utc(2024, 1, 12, 0, 0)),
	    utc(2024, 1, 13, 0, 0));
	/* one starts with '*': both must (1, 11, 21, 31 and a Monday) */
	ck_assert_int_eq(NEXT("0 0 */10 * 1", t0), utc(2024, 3, 11, 0, 0));
	ck_assert_int_eq(NEXT("0 0 13 * *", t0), utc(2024, 1, 13, 0, 0));
	ck_assert_int_eq(NEXT("0 0 * * 5", t0), utc(2024, 1, 5, 0, 0));
}
END_TEST

START_TEST(macros)
{
	int64_t t = utc(2024, 6, 15, 10, 30);	/* Saturday */

	ck_assert_int_eq(NEXT("@yearly", t), utc(2025, 1, 1, 0, 0));
	ck_assert_int_eq(NEXT("@annually", t), utc(2025, 1, 1, 0, 0));
	ck_assert_int_eq(NEXT("@monthly", t), utc(2024, 7, 1, 0, 0));
	ck_assert_int_eq(NEXT("@weekly", t), utc(2024, 6, 16, 0, 0));
	ck_assert_int_eq(NEXT("@daily", t), utc(2024, 6, 16, 0, 0));
	ck_assert_int_eq(NEXT("@midnight", t), utc(2024, 6, 16, 0, 0));
	ck_assert_int_eq(NEXT("@hourly", t), utc(2024, 6, 15, 11, 0));
	ck_assert_int_eq(NEXT("@DAILY", t), utc(2024, 6, 16, 0, 0));
	ck_assert_int_eq(NEXT(" @hourly ", t), utc(2024, 6, 15, 11, 0));
	ck_assert_int_eq(NEXT("@yearly", utc(2024, 12, 31, 23, 59)),
	    utc(2025, 1, 1, 0, 0));
	ck_assert_int_eq(next_in("@daily", t, NY), utc(2024, 6, 16, 4, 0));
}
END_TEST

START_TEST(every)
{
	ck_assert_int_eq(NEXT("@every 1s", 1000), 1001);
	ck_assert_int_eq(NEXT("@every 90s", 1000), 1090);
	ck_assert_int_eq(NEXT("@every 15m", 1000), 1900);
	ck_assert_int_eq(NEXT("@every 1h30m", 1000), 1000 + 5400);
	ck_assert_int_eq(NEXT("@every 1.5h", 1000), 1000 + 5400);
	ck_assert_int_eq(NEXT("@every 2h45m30s", 0), 9930);
	ck_assert_int_eq(NEXT("@every 24h", 0), 86400);
	ck_assert_int_eq(NEXT("@every 1000ms", 0), 1);
	ck_assert_int_eq(NEXT("@every 1500ms500ms", 0), 2);
	ck_assert_int_eq(NEXT("@every 2000000us", 0), 2);
	ck_assert_int_eq(NEXT("@every 1000000000ns", 0), 1);
	ck_assert_int_eq(NEXT("@every .5m", 0), 30);
	ck_assert_int_eq(NEXT("@every +1m", 0), 60);
	ck_assert_int_eq(NEXT("@every 1m", 0), 60);
	ck_assert_int_eq(NEXT("@EVERY 1m", 0), 60);
	ck_assert_int_eq(NEXT("@every\t 1m ", 0), 60);
	ck_assert_int_eq(NEXT("@every 1\xc2\xb5s999999us", 0), 1);
	/* the time zone does not matter */
	ck_assert_int_eq(next_in("@every 1h", 7200, NY), 10800);
}
END_TEST

START_TEST(new_york_spring_forward)
{
	/* 2024-03-10 02:00 EST (07:00Z) jumps to 03:00 EDT. */
	int64_t before = utc(2024, 3, 9, 8, 0);	/* 03:00 EST, Mar 9 */

	ck_assert_int_eq(next_in("0 9 * * *", before, NY),
	    utc(2024, 3, 9, 14, 0));
	ck_assert_int_eq(next_in("0 9 * * *", utc(2024, 3, 9, 14, 0), NY),
	    utc(2024, 3, 10, 13, 0));			/* 09:00 EDT */
	/* 02:30 does not exist on the 10th: it fires at 03:00 EDT. */
	ck_assert_int_eq(next_in("30 2 * * *", before, NY),
	    utc(2024, 3, 10, 7, 0));
	ck_assert_int_eq(next_in("30 2 * * *", utc(2024, 3, 10, 7, 0), NY),
	    utc(2024, 3, 11, 6, 30));			/* 02:30 EDT */
	ck_assert_int_eq(next_in("0 3 * * *", before, NY),
	    utc(2024, 3, 10, 7, 0));
	/* minutes in the gap fire once, at the end of the gap */
	ck_assert_int_eq(next_in("*/15 * * * *", utc(2024, 3, 10, 6, 45), NY),
	    utc(2024, 3, 10, 7, 0));			/* 02:00 -> 03:00 */
	ck_assert_int_eq(next_in("*/15 * * * *", utc(2024, 3, 10, 7, 0), NY),
	    utc(2024, 3, 10, 7, 15));			/* 03:15 EDT */
	ck_assert_int_eq(next_in("0,30 2,3 * * *", utc(2024, 3, 10, 6, 59),
	    NY), utc(2024, 3, 10, 7, 0));
	ck_assert_int_eq(next_in("0,30 2,3 * * *", utc(2024, 3, 10, 7, 0),
	    NY), utc(2024, 3, 10, 7, 30));		/* 03:30 EDT */
	ck_assert_int_eq(next_in("0 * * * *", utc(2024, 3, 10, 6, 0), NY),
	    utc(2024, 3, 10, 7, 0));			/* 01:00 -> 03:00 */
	ck_assert_int_eq(next_in("0 * * * *", utc(2024, 3, 10, 7, 0), NY),
	    utc(2024, 3, 10, 8, 0));
}
END_TEST

START_TEST(new_york_fall_back)
{
	/* 2024-11-03 02:00 EDT (06:00Z) falls back to 01:00 EST. */
	int64_t midnight = utc(2024, 11, 3, 4, 0);	/* 00:00 EDT */

	/* 01:30 happens twice: it fires at the first, EDT, only. */
	ck_assert_int_eq(next_in("30 1 * * *", midnight, NY),
	    utc(2024, 11, 3, 5, 30));
	ck_assert_int_eq(next_in("30 1 * * *", utc(2024, 11, 3, 5, 30), NY),
	    utc(2024, 11, 4, 6, 30));			/* 01:30 EST, Nov 4 */
	/* from inside the repeated hour, too */
	ck_assert_int_eq(next_in("30 1 * * *", utc(2024, 11, 3, 6, 10), NY),
	    utc(2024, 11, 4, 6, 30));
	/* hourly: the repeated 01:00 EST does not fire */
	ck_assert_int_eq(next_in("0 * * * *", utc(2024, 11, 3, 5, 0), NY),
	    utc(2024, 11, 3, 7, 0));			/* 02:00 EST */
	ck_assert_int_eq(next_in("*/30 * * * *", utc(2024, 11, 3, 5, 30), NY),
	    utc(2024, 11, 3, 7, 0));
	/* daily times after the change move with the wall clock */
	ck_assert_int_eq(next_in("0 9 * * *", utc(2024, 11, 2, 14, 0), NY),
	    utc(2024, 11, 3, 14, 0));			/* 09:00 EST */
	ck_assert_int_eq(next_in("0 0 * * *", utc(2024, 11, 2, 5, 0), NY),
	    utc(2024, 11, 3, 4, 0));			/* 00:00 EDT */
	ck_assert_int_eq(next_in("0 0 * * *", utc(2024, 11, 3, 4, 0), NY),
	    utc(2024, 11, 4, 5, 0));			/* 00:00 EST */
	ck_assert_int_eq(next_in("@weekly", utc(2024, 11, 1, 0, 0), NY),
	    utc(2024, 11, 3, 4, 0));
}
END_TEST

START_TEST(kolkata)
{
	int64_t t0 = utc(2024, 1, 1, 0, 0);	/* 05:30 IST */

	ck_assert_int_eq(next_in("0 9 * * *", t0, IST), utc(2024, 1, 1, 3, 30));
	ck_assert_int_eq(next_in("0 0 * * *", t0, IST), utc(2024, 1, 1, 18, 30));
	ck_assert_int_eq(next_in("30 * * * *", t0, IST), utc(2024, 1, 1, 1, 0));
	ck_assert_int_eq(next_in("0 * * * *", t0, IST), utc(2024, 1, 1, 0, 30));
	ck_assert_int_eq(next_in("@daily", t0, IST), utc(2024, 1, 1, 18, 30));
	/* the day of week is the local one */
	ck_assert_int_eq(next_in("0 2 * * 2", t0, IST), utc(2024, 1, 1, 20, 30));
	ck_assert_int_eq(next_in("0 0 1 1 *", utc(2023, 12, 31, 18, 29), IST),
	    utc(2023, 12, 31, 18, 30));
}
END_TEST

START_TEST(february_29)
{
	ck_assert_int_eq(NEXT("0 0 29 2 *", utc(2024, 1, 1, 0, 0)),
	    utc(2024, 2, 29, 0, 0));
	ck_assert_int_eq(NEXT("0 0 29 2 *", utc(2024, 2, 29, 0, 0)),
	    utc(2028, 2, 29, 0, 0));
	ck_assert_int_eq(NEXT("0 0 29 FEB *", utc(2025, 3, 1, 0, 0)),
	    utc(2028, 2, 29, 0, 0));
	/* 2100 is not a leap year: eight years */
	ck_assert_int_eq(NEXT("0 0 29 2 *", utc(2096, 3, 1, 0, 0)),
	    utc(2104, 2, 29, 0, 0));
	ck_assert_int_eq(NEXT("0 12 29 2 *", utc(2096, 3, 1, 0, 0)),
	    utc(2104, 2, 29, 12, 0));
	ck_assert_int_eq(next_in("0 0 29 2 *", utc(2024, 1, 1, 0, 0), NY),
	    utc(2024, 2, 29, 5, 0));
	/* 29 in a list with other days fires on those too */
	ck_assert_int_eq(NEXT("0 0 28,29 2 *", utc(2023, 2, 28, 0, 0)),
	    utc(2024, 2, 28, 0, 0));
	/* Feb 29 that is a Sunday ("*"-led day-of-week: both must match) */
	ck_assert_int_eq(NEXT("0 0 29 2 */7", utc(2004, 3, 1, 0, 0)),
	    utc(2032, 2, 29, 0, 0));
	ck_assert_int_eq(NEXT("0 0 29 2 */7", utc(2088, 3, 1, 0, 0)),
	    utc(2128, 2, 29, 0, 0));
	/* both restricted: Feb 29 or a Sunday in February */
	ck_assert_int_eq(NEXT("0 0 29 2 0", utc(2024, 1, 1, 0, 0)),
	    utc(2024, 2, 4, 0, 0));
	ck_assert_int_eq(NEXT("0 0 29 2 0", utc(2024, 2, 25, 0, 0)),
	    utc(2024, 2, 29, 0, 0));
}
END_TEST

/* The search is field-wise: the slowest schedules take microseconds. */
START_TEST(search_is_fast)
{
	static const char *const slow[] = {
		"@yearly", "0 0 29 2 *", "59 23 31 12 *", "0 0 29 2 */7",
		"0 0 31 12 */7",
	};
	struct cron *c;
	char *cause = NULL;
	clock_t start = clock();
	int64_t t;

	for (size_t i = 0; i < nitems(slow); i++) {
		c = cron_parse(slow[i], &cause);
		ck_assert_ptr_nonnull(c);
		for (int k = 0; k < 400; k++) {
			t = cron_next(c, utc(1990 + k / 10, 3, 1, 0, 0), NY,
			    &cause);
			ck_assert_msg(t > 0, "%s: %s", slow[i], cause);
		}
		cron_free(c);
	}
	ck_assert_msg((double)(clock() - start) / CLOCKS_PER_SEC < 2.0,
	    "2000 searches took %.2fs",
	    (double)(clock() - start) / CLOCKS_PER_SEC);
}
END_TEST

START_TEST(search_bound)
{
	struct cron *c;
	char *cause = NULL;

	/*
	 * The longest wait a schedule that parses can have is 40 years (a
	 * February 29 that is a given weekday), within the 50 searched.
	 */
	c = cron_parse("0 0 29 2 */7", &cause);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(cron_next(c, utc(9920, 3, 1, 0, 0), NULL, &cause),
	    utc(9948, 2, 29, 0, 0));
	ck_assert_int_eq(cron_next(c, -1, NULL, &cause), -1);
	ck_assert_str_eq(cause, "time -1 is out of range");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(cron_next(c, 253402300800LL, NULL, &cause), -1);
	free(cause);
	cron_free(c);
}
END_TEST

START_TEST(timezones)
{
	struct cron *c;
	char *cause = NULL;

	ck_assert_int_eq(cron_timezone_valid(NULL), 1);
	ck_assert_int_eq(cron_timezone_valid(""), 1);
	ck_assert_int_eq(cron_timezone_valid("UTC"), 1);
	ck_assert_int_eq(cron_timezone_valid(NY), 1);
	ck_assert_int_eq(cron_timezone_valid(IST), 1);
	ck_assert_int_eq(cron_timezone_valid("Etc/GMT+5"), 1);
	ck_assert_int_eq(cron_timezone_valid("America/Argentina/Buenos_Aires"),
	    1);
	ck_assert_int_eq(cron_timezone_valid("Mars/Olympus_Mons"), 0);
	ck_assert_int_eq(cron_timezone_valid("America"), 0);	/* a directory */
	ck_assert_int_eq(cron_timezone_valid("America/"), 0);
	ck_assert_int_eq(cron_timezone_valid("zone.tab"), 0);	/* not TZif */
	ck_assert_int_eq(cron_timezone_valid("/etc/localtime"), 0);
	ck_assert_int_eq(cron_timezone_valid("../zoneinfo/UTC"), 0);
	ck_assert_int_eq(cron_timezone_valid("America/../UTC"), 0);
	ck_assert_int_eq(cron_timezone_valid("America/New York"), 0);
	ck_assert_int_eq(cron_timezone_valid("UTC\n"), 0);

	c = cron_parse("0 9 * * *", &cause);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(cron_next(c, 0, "Mars/Olympus_Mons", &cause), -1);
	ck_assert_str_eq(cause, "unknown time zone \"Mars/Olympus_Mons\"");
	free(cause);
	cause = NULL;

	/* TZ is restored, set or not */
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	ck_assert_int_eq(cron_next(c, utc(2024, 1, 1, 0, 0), NY, &cause),
	    utc(2024, 1, 1, 14, 0));
	ck_assert_str_eq(getenv("TZ"), "Europe/Paris");
	unsetenv("TZ");
	tzset();
	ck_assert_int_eq(cron_next(c, utc(2024, 1, 1, 0, 0), IST, &cause),
	    utc(2024, 1, 1, 3, 30));
	ck_assert_ptr_null(getenv("TZ"));
	ck_assert_int_eq(cron_next(c, utc(2024, 1, 1, 0, 0), "UTC", &cause),
	    utc(2024, 1, 1, 9, 0));
	cron_free(c);
}
END_TEST

START_TEST(accepted_forms)
{
	accepted("* * * * *");
	accepted("*/60 * * * *");
	accepted("0-59 0-23 1-31 1-12 0-7");
	accepted("0 0 * * 7/1");
	accepted("0 0 30 1-12 *");
	accepted("0 0 31 1,2 *");
	accepted("0 0 30,31 2 1");	/* Feb 30 or a Monday: Mondays */
}
END_TEST

START_TEST(malformed)
{
	refused("", "the schedule is empty: use a cron expression such as "
	    "\"0 6 * * *\", @daily or @every 15m");
	refused("   ", "the schedule is empty: use a cron expression such as "
	    "\"0 6 * * *\", @daily or @every 15m");
	refused("* * * *", "expected 5 fields, got 4");
	refused("* * * * * *", "expected 5 fields, got 6");
	refused("0", "expected 5 fields, got 1");
	refused("60 * * * *", "minute field: 60 is out of range 0-59");
	refused("* 24 * * *", "hour field: 24 is out of range 0-23");
	refused("* * 0 * *", "day-of-month field: 0 is out of range 1-31");
	refused("* * 32 * *", "day-of-month field: 32 is out of range 1-31");
	refused("* * * 13 *", "month field: 13 is out of range 1-12");
	refused("* * * 0 *", "month field: 0 is out of range 1-12");
	refused("* * * * 8", "day-of-week field: 8 is out of range 0-7");
	refused("99999999999999 * * * *",
	    "minute field: 99999999999999 is out of range 0-59");
	refused("0 0 30 2 */7", "day-of-month field: February has no day 30, "
	    "so the schedule never fires");
	refused("x * * * *", "minute field: \"x\" is not a number");
	refused("MON * * * *", "minute field: \"MON\" is not a number");
	refused("* * * JANUARY *", "month field: \"JANUARY\" is not a number "
	    "or a month name (JAN-DEC)");
	refused("* * * MON *", "month field: \"MON\" is not a number or a "
	    "month name (JAN-DEC)");
	refused("* * * * FUN", "day-of-week field: \"FUN\" is not a number "
	    "or a day name (SUN-SAT)");
	refused("* * * * JAN", "day-of-week field: \"JAN\" is not a number "
	    "or a day name (SUN-SAT)");
	refused("-5 * * * *", "minute field: a number is missing");
	refused("5- * * * *", "minute field: a number is missing");
	refused("1-2-3 * * * *", "minute field: \"2-3\" is not a number");
	refused("30-10 * * * *", "minute field: range 30-10 ends before it "
	    "starts");
	refused("* * * * FRI-MON", "day-of-week field: range FRI-MON ends "
	    "before it starts");
	refused("*/0 * * * *", "minute field: step 0 is out of range 1-60");
	refused("*/61 * * * *", "minute field: step 61 is out of range 1-60");
	refused("* */25 * * *", "hour field: step 25 is out of range 1-24");
	refused("* * * * */8", "day-of-week field: step 8 is out of range "
	    "1-7");
	refused("*/ * * * *", "minute field: \"*/\" has no step after /");
	refused("*/x * * * *", "minute field: step \"x\" is not a number");
	refused("*/1/2 * * * *", "minute field: step \"1/2\" is not a number");
	refused("1,,2 * * * *", "minute field: empty list item");
	refused(",1 * * * *", "minute field: empty list item");
	refused("1, * * * *", "minute field: empty list item");
	refused("** * * * *", "minute field: \"**\" is not a number");
	refused("? * * * *", "minute field: \"?\" is not a number");
	refused("0 0 30 2 *", "day-of-month field: February has no day 30, "
	    "so the schedule never fires");
	refused("0 0 31 4,6,9,11 *", "day-of-month field: none of the months "
	    "has day 31, so the schedule never fires");
	refused("@daily 5", "@daily takes no arguments");
	refused("@hourly * * * * *", "@hourly takes no arguments");
	refused("@often", "unknown schedule \"@often\": use @yearly, "
	    "@annually, @monthly, @weekly, @daily, @midnight, @hourly or "
	    "@every DURATION");
	refused("@", "unknown schedule \"@\": use @yearly, @annually, "
	    "@monthly, @weekly, @daily, @midnight, @hourly or @every DURATION");
	refused("@every", "@every needs a duration such as 15m or 1h30m");
	refused("@every   ", "@every needs a duration such as 15m or 1h30m");
	refused("@every15m", "unknown schedule \"@every15m\": use @yearly, "
	    "@annually, @monthly, @weekly, @daily, @midnight, @hourly or "
	    "@every DURATION");
	refused("@every 15", "@every 15: the duration needs a unit (h, m, s, "
	    "ms, us or ns), such as 15m");
	refused("@every 1h30", "@every 1h30: the duration needs a unit (h, m, "
	    "s, ms, us or ns), such as 15m");
	refused("@every 5x", "@every 5x: unknown unit \"x\" (use h, m, s, ms, "
	    "us or ns)");
	refused("@every 1d", "@every 1d: unknown unit \"d\" (use h, m, s, ms, "
	    "us or ns)");
	refused("@every abc", "@every abc: \"abc\" is not a duration such as "
	    "15m or 1h30m");
	refused("@every .s", "@every .s: \".s\" is not a duration such as 15m "
	    "or 1h30m");
	refused("@every -", "@every -: \"-\" is not a duration such as 15m or "
	    "1h30m");
	refused("@every 0", "@every 0: the interval must be at least 1s");
	refused("@every 0s", "@every 0s: the interval must be at least 1s");
	refused("@every 500ms", "@every 500ms: the interval must be at least "
	    "1s");
	refused("@every -5m", "@every -5m: the interval must be at least 1s");
	refused("@every 1500ms", "@every 1500ms: the interval must be a whole "
	    "number of seconds");
	refused("@every 1.5s", "@every 1.5s: the interval must be a whole "
	    "number of seconds");
	refused("@every 3000000h", "@every 3000000h: the duration is too long "
	    "(at most 2562047h)");
	refused("@every 99999999999999999999s", "@every 99999999999999999999s: "
	    "the duration is too long (at most 2562047h)");
	refused("@every 15m 1h", "@every takes one duration, such as 15m or "
	    "1h30m; unexpected \"1h\"");
	{
		char long_expr[300];

		memset(long_expr, '1', sizeof long_expr - 1);
		long_expr[sizeof long_expr - 1] = '\0';
		refused(long_expr, "the schedule is longer than 256 characters");
	}
}
END_TEST

static Suite *
cron_suite(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("cron");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, field_forms);
	tcase_add_test(tc, names_and_weekdays);
	tcase_add_test(tc, macros);
	tcase_add_test(tc, every);
	tcase_add_test(tc, new_york_spring_forward);
	tcase_add_test(tc, new_york_fall_back);
	tcase_add_test(tc, kolkata);
	tcase_add_test(tc, february_29);
	tcase_add_test(tc, search_is_fast);
	tcase_add_test(tc, search_bound);
	tcase_add_test(tc, timezones);
	tcase_add_test(tc, accepted_forms);
	tcase_add_test(tc, malformed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cron_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
