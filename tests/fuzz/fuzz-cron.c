/*
 * fuzz-cron.c: libFuzzer target for schedule expressions (src/cron.c).
 *
 * The input is "EXPRESSION[\nTIME ZONE]". cron_parse() must accept the
 * expression or say why; cron_timezone_valid() must never accept a name
 * outside /usr/share/zoneinfo; cron_next() must end quickly with a time
 * strictly after the one it was given, or say why, and be consistent:
 * the next time after (next - 1) is next again. Linked with replay.c
 * instead of libFuzzer, it replays the seed corpus in `make check`.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t afters[] = {
		0, 1709967600, 1730613600, 4107542400LL, 253402300000LL,
	};
	char *text, *nl, *tz = NULL, *cause = NULL;
	struct cron *c;
	int64_t t, again;
	int every;

	if (size > 4096)
		return 0;
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if ((nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		tz = nl + 1;
	}
	if (tz != NULL && cron_timezone_valid(tz) &&
	    (strstr(tz, "..") != NULL || *tz == '/'))
		abort();
	if (tz != NULL && !cron_timezone_valid(tz))
		tz = NULL;
	c = cron_parse(text, &cause);
	if (c == NULL) {
		if (cause == NULL || *cause == '\0')
			abort();
		free(cause);
		free(text);
		return 0;
	}
	if (cause != NULL)
		abort();
	every = strncasecmp(text + strspn(text, " \t\v\f\r"), "@every",
	    6) == 0;
	for (size_t i = 0; i < nitems(afters); i++) {
		t = cron_next(c, afters[i], tz, &cause);
		if (t < 0) {
			if (cause == NULL)
				abort();
			free(cause);
			cause = NULL;
			continue;
		}
		if (t <= afters[i])
			abort();
		/* @every is after + interval, not a fixed set of times */
		if (t - 1 > 253402300799LL || every)	/* or past 9999 */
			continue;
		again = cron_next(c, t - 1, tz, &cause);
		if (again != t)
			abort();
	}
	cron_free(c);
	free(text);
	return 0;
}
