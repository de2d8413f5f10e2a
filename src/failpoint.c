/*
 * failpoint.c: arming the FAILPOINT()s of failpoint.h from AK_FAILPOINTS.
 */
#include "autokittehd.h"
#include "failpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef AK_FAILPOINTS
static struct failpoint {
	const char	*name;
	unsigned long	 fire_at;	/* 0: disarmed */
	unsigned long	 hits;
	int		 stop;		/* SIGSTOP, not SIGKILL */
} failpoints[] = {
	{ "before-commit", 0, 0, 0 },
	{ "after-commit-before-ack", 0, 0, 0 },
	{ "after-result-before-commit", 0, 0, 0 },
	{ "recovery", 0, 0, 0 },
	{ "replay", 0, 0, 0 },
	{ "zygote-spawn", 0, 0, 0 },
	{ "early-run-before-commit", 0, 0, 0 },
	{ "after-commit-before-go", 0, 0, 0 },
};
int failpoints_armed;

void
failpoint_hit(const char *name)
{
	char line[128];
	int n;

	for (size_t i = 0; i < nitems(failpoints); i++) {
		struct failpoint *f = &failpoints[i];

		if (strcmp(f->name, name) != 0)
			continue;
		if (f->fire_at == 0 || ++f->hits != f->fire_at)
			return;
		/* Straight to stderr: the log may buffer, and we die now. */
		n = snprintf(line, sizeof line, "autokittehd: failpoint %s "
		    "fired (hit %lu): raising %s\n", name, f->hits, f->stop ?
		    "SIGSTOP" : "SIGKILL");
		if (n > 0) {
			ssize_t rc = write(STDERR_FILENO, line, (size_t)n);

			(void)rc;
		}
		if (f->stop) {
			/* Frozen here until SIGCONT (or a kill): a test looks
			 * at what the rest of the system does meanwhile. */
			raise(SIGSTOP);
			return;
		}
		raise(SIGKILL);
		_exit(137);	/* not reached */
	}
	fatalx("FAILPOINT(\"%s\") is not in failpoint.c's table", name);
}

/*
 * AK_FAILPOINTS="name:N[:stop][,...]": fire name on its Nth hit, by
 * SIGKILL, or with ":stop" by SIGSTOP.
 */
void
failpoint_init(void)
{
	const char *env = getenv("AK_FAILPOINTS");
	char *copy, *item, *save = NULL;

	if (env == NULL || *env == '\0')
		return;
	copy = xstrdup(env);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(item, ':'), *end;
		unsigned long n = 0;
		int stop = 0;
		size_t i;

		if (colon != NULL) {
			*colon = '\0';
			n = strtoul(colon + 1, &end, 10);
			if (strcmp(end, ":stop") == 0) {
				stop = 1;
				*end = '\0';
			}
			if (*end != '\0' || colon[1] == '\0')
				n = 0;
		}
		for (i = 0; i < nitems(failpoints); i++) {
			if (strcmp(failpoints[i].name, item) == 0)
				break;
		}
		if (i == nitems(failpoints) || n == 0) {
			char names[512] = "";

			for (i = 0; i < nitems(failpoints); i++)
				snprintf(names + strlen(names), sizeof names -
				    strlen(names), "%s%s", i > 0 ? ", " : "",
				    failpoints[i].name);
			fatalx("AK_FAILPOINTS: bad item \"%s%s%s\": expected "
			    "NAME:N or NAME:N:stop with N >= 1 and NAME one of "
			    "%s", item,
			    colon != NULL ? ":" : "", colon != NULL ? colon + 1 :
			    "", names);
		}
		failpoints[i].fire_at = n;
		failpoints[i].hits = 0;
		failpoints[i].stop = stop;
		failpoints_armed = 1;
		log_warning("failpoint %s armed: autokittehd %s itself "
		    "on hit %lu", item, stop ? "stops" : "kills", n);
	}
	free(copy);
}
#else
void
failpoint_init(void)
{
	const char *env = getenv("AK_FAILPOINTS");

	if (env != NULL && *env != '\0')
		log_warning("AK_FAILPOINTS is set, but this build has no "
		    "failpoints (configure --enable-failpoints): ignored");
}
#endif
