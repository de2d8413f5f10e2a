/*
 * config.c: /etc/autokitteh.conf.
 *
 * One table, config_options[], declares every option: section, key, type,
 * default, bounds and where it lives in struct config. The same table drives
 * parsing, defaults, validation and the effective-configuration dump that
 * `akctl config` prints, so an option cannot exist in one place and not the
 * others. The format is INI: "[section]", "key = value", "#" comment lines.
 * Every error names FILE:LINE and says what is wrong; the caller exits 78.
 */
#include "autokittehd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_FILE_SIZE (1024 * 1024)

static const char *const sync_choices[] = { "full", "normal", NULL };
static const char *const check_choices[] = { "after_crash", "always", NULL };
static const char *const sandbox_choices[] = { "best-effort", "strict", NULL };
static const char *const network_choices[] = { "on", "off", NULL };
static const char *const level_choices[] = {
	"error", "warning", "notice", "info", "debug", NULL
};

#define OFF(f) offsetof(struct config, f)
static const struct config_option config_options[] = {
	{ "server", "listen", CONFIG_ADDRESS, "127.0.0.1:9980", OFF(listen),
	  NULL, 0, 0, 0 },
	{ "server", "socket", CONFIG_PATH, "/run/autokitteh/api.sock",
	  OFF(socket_path), NULL, 0, sizeof(((struct sockaddr_un *)0)->sun_path) - 1, 0 },
	{ "server", "data_dir", CONFIG_PATH, "/var/lib/autokitteh",
	  OFF(data_dir), NULL, 0, 4000, 0 },
	{ "server", "public_url", CONFIG_URL, "", OFF(public_url),
	  NULL, 0, 0, 0 },
	{ "server", "user", CONFIG_USER, "autokitteh", OFF(user),
	  NULL, 0, 0, 0 },
	{ "store", "synchronous", CONFIG_ENUM, "full", OFF(synchronous),
	  sync_choices, 0, 0, 0 },
	{ "store", "check", CONFIG_ENUM, "after_crash", OFF(store_check),
	  check_choices, 0, 0, 0 },
	{ "http", "max_body_size", CONFIG_SIZE, "8MiB", OFF(max_body_size),
	  NULL, 1024, 1ULL << 30, 0 },
	{ "http", "max_header_size", CONFIG_SIZE, "16KiB", OFF(max_header_size),
	  NULL, 1024, 1ULL << 20, 0 },
	{ "http", "request_timeout", CONFIG_DURATION, "30s",
	  OFF(request_timeout_ms), NULL, 100, 3600 * 1000, 0 },
	{ "http", "max_connections", CONFIG_COUNT, "1024", OFF(max_connections),
	  NULL, 1, 1000000, 0 },
	{ "log", "level", CONFIG_ENUM, "info", OFF(log_level),
	  level_choices, 0, 0, 0 },
	{ "workers", "pool_size", CONFIG_COUNT, "4", OFF(workers_pool_size),
	  NULL, 0, 256, 0 },
	{ "workers", "max", CONFIG_COUNT, "64", OFF(workers_max),
	  NULL, 1, 4096, 0 },
	{ "workers", "session_timeout", CONFIG_DURATION, "1h",
	  OFF(workers_session_timeout_ms), NULL, 1000, 30ULL * 86400 * 1000, 0 },
	{ "workers", "memory_limit", CONFIG_SIZE, "1GiB",
	  OFF(workers_memory_limit), NULL, 64ULL << 20, 1ULL << 40, 0 },
	{ "workers", "cpu_limit", CONFIG_DURATION, "10m",
	  OFF(workers_cpu_limit_ms), NULL, 1000, 30ULL * 86400 * 1000, 0 },
	{ "workers", "evict_after", CONFIG_DURATION, "10s",
	  OFF(workers_evict_after_ms), NULL, 0, 30ULL * 86400 * 1000, 0 },
	{ "workers", "max_result_size", CONFIG_SIZE, "1MiB",
	  OFF(workers_max_result_size), NULL, 1024, 64ULL << 20, 0 },
	{ "workers", "writable_paths", CONFIG_PATHLIST, "",
	  OFF(workers_writable_paths), NULL, 0, 4000, 0 },
	{ "workers", "sandbox", CONFIG_ENUM, "best-effort",
	  OFF(workers_sandbox), sandbox_choices, 0, 0, 0 },
	{ "workers", "network", CONFIG_ENUM, "on", OFF(workers_network),
	  network_choices, 0, 0, 0 },
	{ "workers", "tmp_size", CONFIG_SIZE, "64MiB", OFF(workers_tmp_size),
	  NULL, 1ULL << 20, 1ULL << 40, 0 },
	{ "workers", "pids_max", CONFIG_COUNT, "256", OFF(workers_pids_max),
	  NULL, 8, 1000000, 0 },
	{ "webhooks", "max_body_size", CONFIG_SIZE, "512KiB",
	  OFF(webhooks_max_body_size), NULL, 1, 1ULL << 30, 0 },
	{ "webhooks", "sync_timeout", CONFIG_DURATION, "30s",
	  OFF(webhooks_sync_timeout_ms), NULL, 100, 3600 * 1000, 0 },
	/* Empty: data_dir/secrets.key (secrets_key_file_path()). */
	{ "secrets", "key_file", CONFIG_PATH, "", OFF(secrets_key_file),
	  NULL, 0, 4000, 0 },
	/* 0 or off: finished sessions are kept forever (session-prune.c). */
	{ "sessions", "retention", CONFIG_DURATION_OFF, "30d",
	  OFF(sessions_retention_ms), NULL, 0, 3650ULL * 86400 * 1000, 0 },
};
#undef OFF

size_t
config_option_count(void)
{
	return nitems(config_options);
}

const struct config_option *
config_option_at(size_t i)
{
	return i < nitems(config_options) ? &config_options[i] : NULL;
}

static void *
config_field(struct config *cf, const struct config_option *o)
{
	return (char *)cf + o->offset;
}

static const void *
config_field_const(const struct config *cf, const struct config_option *o)
{
	return (const char *)cf + o->offset;
}

static int
config_is_string_type(enum config_type t)
{
	return t == CONFIG_STRING || t == CONFIG_ADDRESS || t == CONFIG_PATH ||
	    t == CONFIG_URL || t == CONFIG_USER || t == CONFIG_PATHLIST;
}

/* Split "host:port" or "[v6]:port"; both parts must be non-empty. */
int
config_split_address(const char *s, char **host, char **port)
{
	const char *colon;
	char *end;
	long n;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close == s + 1 || close[1] != ':')
			return -1;
		colon = close + 1;
		*host = xstrndup(s + 1, (size_t)(close - s - 1));
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || colon == s || memchr(s, ':',
		    (size_t)(colon - s)) != NULL)
			return -1;
		*host = xstrndup(s, (size_t)(colon - s));
	}
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || n < 1 ||
	    n > 65535 || !isdigit((unsigned char)colon[1])) {
		free(*host);
		*host = NULL;
		return -1;
	}
	*port = xstrdup(colon + 1);
	return 0;
}

/*
 * Check and store one value. On error, *cause is the reason without the
 * FILE:LINE prefix.
 */
static int
config_set(struct config *cf, const struct config_option *o,
    const char *value, char **cause)
{
	void *field = config_field(cf, o);
	uint64_t n = 0;
	char *host, *port, *end;
	const char *what;

	switch (o->type) {
	case CONFIG_STRING:
		break;
	case CONFIG_ADDRESS:
		if (config_split_address(value, &host, &port) != 0) {
			what = "an address such as 127.0.0.1:9980 or [::1]:9980";
			goto invalid;
		}
		free(host);
		free(port);
		break;
	case CONFIG_PATH:
		/* A path whose default is empty may be empty: "derived". */
		if (*value == '\0' && *o->default_value == '\0')
			break;
		if (value[0] != '/') {
			what = "an absolute path";
			goto invalid;
		}
		if (o->max != 0 && strlen(value) > o->max) {
			xasprintf(cause, "%s.%s is %zu bytes long; the limit "
			    "is %llu", o->section, o->key, strlen(value),
			    (unsigned long long)o->max);
			return -1;
		}
		break;
	case CONFIG_PATHLIST:
		if (strlen(value) > o->max) {
			what = "a shorter list of paths";
			goto invalid;
		}
		{
			char *list = xstrdup(value), *p, *next = list;
			int bad = 0;

			while (*value != '\0' && (p = strsep(&next, ":")) !=
			    NULL)
				bad |= *p != '/' || strstr(p, "/../") != NULL;
			free(list);
			if (bad) {
				what = "absolute paths separated by ':'";
				goto invalid;
			}
		}
		break;
	case CONFIG_URL:
		if (*value != '\0' && strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "https://", 8) != 0) {
			what = "empty or a URL starting with http:// or https://";
			goto invalid;
		}
		if (*value != '\0' && (strchr(value, ' ') != NULL ||
		    value[strcspn(value, ":") + 3] == '\0' ||
		    value[strcspn(value, ":") + 3] == '/')) {
			what = "a URL with a host, such as https://ak.example.com";
			goto invalid;
		}
		break;
	case CONFIG_USER:
		if (*value == '\0' || strlen(value) > 32 ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(value) ||
		    value[0] == '-') {
			what = "a user name";
			goto invalid;
		}
		break;
	case CONFIG_ENUM:
		for (int i = 0; o->choices[i] != NULL; i++) {
			if (strcmp(value, o->choices[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
		}
		{
			char list[256] = "";

			for (int i = 0; o->choices[i] != NULL; i++) {
				if (i > 0)
					strncat(list, o->choices[i + 1] ==
					    NULL ? " or " : ", ",
					    sizeof list - strlen(list) - 1);
				strncat(list, o->choices[i],
				    sizeof list - strlen(list) - 1);
			}
			xasprintf(cause, "invalid value \"%s\" for %s.%s: "
			    "expected %s", value, o->section, o->key, list);
		}
		return -1;
	case CONFIG_SIZE:
		if (parse_size_bytes(value, &n) != 0) {
			what = "a size such as 512KiB or 16MiB";
			goto invalid;
		}
		goto range;
	case CONFIG_DURATION_OFF:
		if (strcmp(value, "off") == 0)
			goto range;	/* n = 0 */
		if (parse_duration_ms(value, &n) != 0) {
			what = "a duration such as 12h, 30d or 1d12h, or off";
			goto invalid;
		}
		goto range;
	case CONFIG_DURATION:
		if (parse_duration_ms(value, &n) != 0) {
			what = "a duration such as 250ms, 10s, 5m or 1h";
			goto invalid;
		}
		goto range;
	case CONFIG_COUNT:
		errno = 0;
		n = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)*value) || *end != '\0' ||
		    errno != 0) {
			what = "a whole number";
			goto invalid;
		}
		goto range;
	}
	free(*(char **)field);
	*(char **)field = xstrdup(value);
	return 0;

range:
	if (n < o->min || n > o->max) {
		char lo[32], hi[32];

		if (o->type == CONFIG_SIZE) {
			format_size_bytes(o->min, lo, sizeof lo);
			format_size_bytes(o->max, hi, sizeof hi);
		} else if (o->type == CONFIG_DURATION ||
		    o->type == CONFIG_DURATION_OFF) {
			format_duration_ms(o->min, lo, sizeof lo);
			format_duration_ms(o->max, hi, sizeof hi);
		} else {
			snprintf(lo, sizeof lo, "%llu", (unsigned long long)o->min);
			snprintf(hi, sizeof hi, "%llu", (unsigned long long)o->max);
		}
		xasprintf(cause, "%s.%s = %s is out of range: it must be "
		    "between %s and %s", o->section, o->key, value, lo, hi);
		return -1;
	}
	*(uint64_t *)field = n;
	return 0;

invalid:
	xasprintf(cause, "invalid value \"%s\" for %s.%s: expected %s", value,
	    o->section, o->key, what);
	return -1;
}

void
config_init(struct config *cf)
{
	char *cause = NULL;

	memset(cf, 0, sizeof *cf);
	for (size_t i = 0; i < nitems(config_options); i++) {
		if (config_set(cf, &config_options[i],
		    config_options[i].default_value, &cause) != 0)
			fatalx("built-in default: %s", cause);
	}
}

void
config_free(struct config *cf)
{
	for (size_t i = 0; i < nitems(config_options); i++) {
		if (config_is_string_type(config_options[i].type))
			free(*(char **)config_field(cf, &config_options[i]));
	}
	free(cf->file);
	memset(cf, 0, sizeof *cf);
}

/* The value as it would be written in the file. */
char *
config_value_string(const struct config *cf, const struct config_option *o)
{
	const void *field = config_field_const(cf, o);
	char buf[64];

	switch (o->type) {
	case CONFIG_ENUM:
		return xstrdup(o->choices[*(const int *)field]);
	case CONFIG_SIZE:
		format_size_bytes(*(const uint64_t *)field, buf, sizeof buf);
		return xstrdup(buf);
	case CONFIG_DURATION_OFF:
		if (*(const uint64_t *)field == 0)
			return xstrdup("off");
		/* FALLTHROUGH */
	case CONFIG_DURATION:
		format_duration_ms(*(const uint64_t *)field, buf, sizeof buf);
		return xstrdup(buf);
	case CONFIG_COUNT:
		snprintf(buf, sizeof buf, "%llu",
		    (unsigned long long)*(const uint64_t *)field);
		return xstrdup(buf);
	default:
		return xstrdup(*(char *const *)field);
	}
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
is_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!islower((unsigned char)*s) && *s != '_' &&
		    !isdigit((unsigned char)*s))
			return 0;
	}
	return 1;
}

static const struct config_option *
config_find(const char *section, const char *key, int *section_known)
{
	*section_known = 0;
	for (size_t i = 0; i < nitems(config_options); i++) {
		if (strcmp(config_options[i].section, section) != 0)
			continue;
		*section_known = 1;
		if (key != NULL && strcmp(config_options[i].key, key) == 0)
			return &config_options[i];
	}
	return NULL;
}

/* Parse one line; returns -1 with *cause (no prefix) on error. */
static int
config_parse_line(struct config *cf, char *line, char *section,
    size_t section_size, int *seen, int lineno, char **cause)
{
	const struct config_option *o;
	char *eq, *key, *value;
	int known;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if (*line == '[') {
		size_t len = strlen(line);

		if (line[len - 1] != ']') {
			xasprintf(cause, "malformed section header \"%s\": "
			    "expected [name]", line);
			return -1;
		}
		line[len - 1] = '\0';
		key = trim(line + 1);
		if (!is_name(key) || strlen(key) >= section_size) {
			xasprintf(cause, "malformed section header \"[%s]\": "
			    "expected [name]", key);
			return -1;
		}
		config_find(key, NULL, &known);
		if (!known) {
			xasprintf(cause, "unknown section [%s]", key);
			return -1;
		}
		strcpy(section, key);
		return 0;
	}
	if ((eq = strchr(line, '=')) == NULL) {
		xasprintf(cause, "expected \"key = value\" or \"[section]\", "
		    "found \"%s\"", line);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (!is_name(key)) {
		xasprintf(cause, "malformed key \"%s\": keys are lowercase "
		    "letters, digits and _", key);
		return -1;
	}
	if (*section == '\0') {
		xasprintf(cause, "key \"%s\" is outside any section: put it "
		    "under a [section] header", key);
		return -1;
	}
	if ((o = config_find(section, key, &known)) == NULL) {
		xasprintf(cause, "unknown key \"%s\" in section [%s]", key,
		    section);
		return -1;
	}
	if (seen[o - config_options] != 0) {
		xasprintf(cause, "duplicate key \"%s\" in section [%s] "
		    "(first set on line %d)", key, section,
		    seen[o - config_options]);
		return -1;
	}
	seen[o - config_options] = lineno;
	if (value[0] == '"') {
		size_t len = strlen(value);

		if (len < 2 || value[len - 1] != '"') {
			xasprintf(cause, "unterminated quoted value for %s.%s",
			    section, key);
			return -1;
		}
		value[len - 1] = '\0';
		value++;
	}
	return config_set(cf, o, value, cause);
}

/*
 * Parse text (len bytes, need not be NUL-terminated) over the current
 * values in cf. name is used in messages ("FILE:LINE: reason").
 */
int
config_parse(struct config *cf, const char *name, const char *text,
    size_t len, char **cause)
{
	int seen[nitems(config_options)] = { 0 };
	char section[64] = "", *copy, *line, *next, *why = NULL;
	int lineno = 0, rc = 0;

	if (memchr(text, '\0', len) != NULL) {
		const char *nul = memchr(text, '\0', len);
		int at = 1;

		for (const char *p = text; p < nul; p++)
			at += *p == '\n';
		xasprintf(cause, "%s:%d: the file contains a NUL byte; it "
		    "must be text", name, at);
		return -1;
	}
	copy = xstrndup(text, len);
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (config_parse_line(cf, line, section, sizeof section, seen,
		    lineno, &why) != 0) {
			xasprintf(cause, "%s:%d: %s", name, lineno, why);
			free(why);
			rc = -1;
			break;
		}
	}
	free(copy);
	return rc;
}

/*
 * Read path over the defaults already in cf. A missing file is an error
 * unless missing_ok (the default path: a missing file means defaults).
 */
int
config_load(struct config *cf, const char *path, int missing_ok, char **cause)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t off = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && missing_ok)
			return 0;
		xasprintf(cause, "%s: cannot open the configuration file: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size > CONFIG_MAX_FILE_SIZE) {
		xasprintf(cause, "%s: the file is larger than 1MiB; is it the "
		    "right file?", path);
		close(fd);
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size &&
	    (n = read(fd, text + off, (size_t)st.st_size - off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "%s: cannot read the configuration "
			    "file: %s", path, strerror(errno));
			free(text);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	rc = config_parse(cf, path, text, off, cause);
	free(text);
	if (rc == 0) {
		free(cf->file);
		cf->file = xstrdup(path);
	}
	return rc;
}
