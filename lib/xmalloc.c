/*
 * xmalloc.c: allocation wrappers that never return NULL.
 *
 * Running out of memory in the controller is not a recoverable condition we
 * can reason about per call site; we log and exit, and systemd restarts us.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void *
xmalloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		fatal("xmalloc: allocating %zu bytes", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		fatal("xcalloc: allocating %zu * %zu bytes", n, size);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		fatal("xreallocarray: %zu * %zu overflows", n, size);
	}
	if ((p = realloc(old, n * size != 0 ? n * size : 1)) == NULL)
		fatal("xreallocarray: allocating %zu * %zu bytes", n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("xstrdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		fatal("xstrndup");
	return p;
}

int
xvasprintf(char **out, const char *fmt, va_list ap)
{
	int n;

	if ((n = vasprintf(out, fmt, ap)) == -1)
		fatal("xvasprintf");
	return n;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = xvasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}
