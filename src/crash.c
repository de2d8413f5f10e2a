/*
 * crash.c: the crash handler.
 *
 * On SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT we write the version, the
 * signal and a backtrace to stderr (the journal under systemd) using only
 * async-signal-safe calls, then restore the default action and re-raise, so
 * the core dump and the exit status stay true.
 */
#include "autokittehd.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_EXECINFO_H
#include <execinfo.h>
#endif

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

static void
crash_write(const char *s)
{
	ssize_t rc = write(STDERR_FILENO, s, strlen(s));

	(void)rc;
}

static void
crash_handler(int sig)
{
	char num[16];
	int i = (int)sizeof num - 1;
	unsigned v = (unsigned)sig;

	num[i] = '\0';
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	crash_write("autokittehd " PACKAGE_VERSION " crashed: signal ");
	crash_write(num + i);
	crash_write(" (");
	crash_write(sigabbrev_np(sig) != NULL ? sigabbrev_np(sig) : "?");
	crash_write(")\nbacktrace:\n");
#ifdef HAVE_BACKTRACE
	{
		void *frames[64];
		int n = backtrace(frames, (int)nitems(frames));

		backtrace_symbols_fd(frames, n, STDERR_FILENO);
	}
#endif
	crash_write("please report this with the lines above\n");
	signal(sig, SIG_DFL);
	raise(sig);
}

void
crash_handler_install(void)
{
	static char altstack[64 * 1024];
	struct sigaction sa;
	stack_t ss;

#ifdef HAVE_BACKTRACE
	{
		/* The first backtrace() loads libgcc: do it now, not in the handler. */
		void *frame;

		backtrace(&frame, 1);
	}
#endif
	ss.ss_sp = altstack;
	ss.ss_size = sizeof altstack;
	ss.ss_flags = 0;
	sigaltstack(&ss, NULL);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = crash_handler;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < nitems(crash_signals); i++)
		sigaction(crash_signals[i], &sa, NULL);
}
