/*
 * sandbox-rlimit.c: resource limits of a session worker.
 *
 * RLIMIT_AS caps memory (CPython then raises MemoryError rather than the
 * OOM killer picking a victim), RLIMIT_CPU caps CPU time (SIGXCPU at the
 * soft limit, SIGKILL one second later at the hard limit), RLIMIT_NOFILE
 * and RLIMIT_FSIZE cap files, RLIMIT_CORE = 0 keeps user memory (secrets
 * in env vars) out of core files. Set while still root so the hard limits
 * are final once the uid is dropped.
 */
#include "worker.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "sandbox.h"

static int
sandbox_setrlimit(int resource, const char *name, rlim_t soft, rlim_t hard,
    char **cause)
{
	struct rlimit	 rl = { .rlim_cur = soft, .rlim_max = hard };

	if (setrlimit(resource, &rl) == -1) {
		xasprintf(cause, "setrlimit %s %llu: %s", name,
		    (unsigned long long)soft, strerror(errno));
		return -1;
	}
	log_debug("sandbox_rlimit: %s = %llu/%llu", name,
	    (unsigned long long)soft, (unsigned long long)hard);
	return 0;
}

/*
 * AddressSanitizer reserves terabytes of shadow address space up front, so
 * an ASan build (--enable-asan, for tests) cannot live under RLIMIT_AS.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

int
sandbox_rlimit(const struct sandbox_params *sp, char **cause)
{
#ifdef SANDBOX_ASAN
	if (sp->memory_limit > 0)
		log_debug("sandbox_rlimit: RLIMIT_AS not set in an ASan build");
#else
	if (sp->memory_limit > 0 && sandbox_setrlimit(RLIMIT_AS, "RLIMIT_AS",
	    sp->memory_limit, sp->memory_limit, cause) == -1)
		return -1;
#endif
	if (sp->cpu_limit_s > 0 && sandbox_setrlimit(RLIMIT_CPU, "RLIMIT_CPU",
	    sp->cpu_limit_s, sp->cpu_limit_s + 1, cause) == -1)
		return -1;
	if (sp->nofile > 0 && sandbox_setrlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE",
	    sp->nofile, sp->nofile, cause) == -1)
		return -1;
	if (sp->fsize > 0 && sandbox_setrlimit(RLIMIT_FSIZE, "RLIMIT_FSIZE",
	    sp->fsize, sp->fsize, cause) == -1)
		return -1;
	return sandbox_setrlimit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0, cause);
}
