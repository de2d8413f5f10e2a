/*
 * common.h: the small internal library shared by autokittehd and akctl.
 *
 * Only code that both binaries need lives here: logging, allocation that
 * never returns NULL, parsing of durations and sizes as they are written in
 * the config file and on the command line, and TypeIDs. Neither binary
 * includes the other's files.
 */
#ifndef AK_COMMON_H
#define AK_COMMON_H

/* First: config.h defines _GNU_SOURCE before any system header. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AK_PRINTFLIKE(a, b) __attribute__((format(printf, a, b)))
#define AK_NORETURN __attribute__((noreturn))
#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* log.c */
enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};
void log_open(const char *ident, int to_stderr, enum log_level level);
void log_reopen(void);
void log_set_level(enum log_level level);
void log_set_pid(long pid);
enum log_level log_get_level(void);
int log_level_from_name(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);
void log_error(const char *fmt, ...) AK_PRINTFLIKE(1, 2);
void log_warning(const char *fmt, ...) AK_PRINTFLIKE(1, 2);
void log_notice(const char *fmt, ...) AK_PRINTFLIKE(1, 2);
void log_info(const char *fmt, ...) AK_PRINTFLIKE(1, 2);
void log_debug(const char *fmt, ...) AK_PRINTFLIKE(1, 2);
void log_vmessage(enum log_level level, const char *fmt, va_list ap);
void fatal(const char *fmt, ...) AK_PRINTFLIKE(1, 2) AK_NORETURN;
void fatalx(const char *fmt, ...) AK_PRINTFLIKE(1, 2) AK_NORETURN;

/* xmalloc.c: allocation that never returns NULL (fatal on exhaustion). */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **out, const char *fmt, ...) AK_PRINTFLIKE(2, 3);
int xvasprintf(char **out, const char *fmt, va_list ap);

/* units.c: "250ms" "10s" "5m" "1h" "1h30m"; "512KiB" "16MiB" "1GiB" or bytes. */
int parse_duration_ms(const char *s, uint64_t *ms);
int parse_size_bytes(const char *s, uint64_t *bytes);
int parse_bool(const char *s, int *value);
void format_duration_ms(uint64_t ms, char *buf, size_t size);
void format_size_bytes(uint64_t bytes, char *buf, size_t size);
void format_size_human(uint64_t bytes, char *buf, size_t size);
struct timespec;
uint64_t elapsed_us(const struct timespec *from);	/* CLOCK_MONOTONIC */

/* typeid.c: "prefix_" + 26 base32 chars of a UUIDv7 (TypeID spec). */
#define TYPEID_SUFFIX_LEN 26
#define TYPEID_MAX_PREFIX 63
int typeid_new(const char *prefix, char *out, size_t size);
int typeid_check(const char *id, const char *prefix);
int typeid_encode(const uint8_t uuid[16], char out[TYPEID_SUFFIX_LEN + 1]);
int typeid_decode(const char *suffix, uint8_t uuid[16]);

#endif
