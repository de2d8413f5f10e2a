/*
 * check-config.c: unit tests for src/config.c, the configuration file.
 *
 * The defaults, a complete valid file, and every way a file can be wrong:
 * each malformed case is checked against the whole message the operator
 * sees, since "FILE:LINE: what is wrong" is the interface.
 */
#include "autokittehd.h"

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct config_option *
option(const char *section, const char *key)
{
	const struct config_option *o;

	for (size_t i = 0; (o = config_option_at(i)) != NULL; i++) {
		if (strcmp(o->section, section) == 0 && strcmp(o->key, key) == 0)
			return o;
	}
	ck_abort_msg("no option %s.%s", section, key);
	return NULL;
}

static void
assert_value(const struct config *cf, const char *section, const char *key,
    const char *want)
{
	char *v = config_value_string(cf, option(section, key));

	ck_assert_msg(strcmp(v, want) == 0, "%s.%s is \"%s\", expected \"%s\"",
	    section, key, v, want);
	free(v);
}

/* Parse text over the defaults; return the cause (caller frees) or NULL. */
static char *
parse_error(const char *text)
{
	struct config cf;
	char *cause = NULL;
	int rc;

	config_init(&cf);
	rc = config_parse(&cf, "test.conf", text, strlen(text), &cause);
	config_free(&cf);
	if (rc == 0) {
		ck_assert_ptr_null(cause);
		return NULL;
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(cause);
	return cause;
}

static void
assert_error(const char *text, const char *want)
{
	char *cause = parse_error(text);

	ck_assert_msg(cause != NULL, "accepted: %s", text);
	ck_assert_str_eq(cause, want);
	free(cause);
}

static void
assert_ok(const char *text)
{
	char *cause = parse_error(text);

	ck_assert_msg(cause == NULL, "rejected (%s): %s", cause, text);
}

START_TEST(defaults)
{
	struct config cf;

	config_init(&cf);
	assert_value(&cf, "server", "listen", "127.0.0.1:9980");
	assert_value(&cf, "server", "socket", "/run/autokitteh/api.sock");
	assert_value(&cf, "server", "data_dir", "/var/lib/autokitteh");
	assert_value(&cf, "server", "public_url", "");
	assert_value(&cf, "server", "user", "autokitteh");
	assert_value(&cf, "store", "synchronous", "full");
	assert_value(&cf, "http", "max_body_size", "8MiB");
	assert_value(&cf, "http", "max_header_size", "16KiB");
	assert_value(&cf, "http", "request_timeout", "30s");
	assert_value(&cf, "http", "max_connections", "1024");
	assert_value(&cf, "log", "level", "info");
	assert_value(&cf, "workers", "pool_size", "4");
	assert_value(&cf, "workers", "max", "64");
	assert_value(&cf, "workers", "session_timeout", "1h");
	assert_value(&cf, "workers", "memory_limit", "1GiB");
	assert_value(&cf, "workers", "cpu_limit", "10m");
	assert_value(&cf, "workers", "evict_after", "10s");
	assert_value(&cf, "workers", "max_result_size", "1MiB");
	assert_value(&cf, "workers", "writable_paths", "");
	assert_value(&cf, "workers", "sandbox", "best-effort");
	assert_value(&cf, "workers", "network", "on");
	assert_value(&cf, "workers", "tmp_size", "64MiB");
	assert_value(&cf, "workers", "pids_max", "256");
	assert_value(&cf, "webhooks", "max_body_size", "512KiB");
	assert_value(&cf, "webhooks", "sync_timeout", "30s");
	assert_value(&cf, "sessions", "retention", "30d");
	ck_assert_uint_eq(cf.sessions_retention_ms, 30ULL * 86400 * 1000);
	ck_assert_ptr_null(cf.file);
	ck_assert_int_eq(cf.synchronous, STORE_SYNC_FULL);
	assert_value(&cf, "store", "check", "after_crash");
	ck_assert_int_eq(cf.store_check, STORE_CHECK_AFTER_CRASH);
	ck_assert_uint_eq(cf.max_body_size, 8ULL << 20);
	ck_assert_uint_eq(cf.max_header_size, 16ULL << 10);
	ck_assert_uint_eq(cf.request_timeout_ms, 30000);
	ck_assert_uint_eq(cf.webhooks_sync_timeout_ms, 30000);
	ck_assert_uint_eq(cf.max_connections, 1024);
	ck_assert_int_eq(cf.log_level, LOG_LEVEL_INFO);
	config_free(&cf);
}
END_TEST

/* The table is complete: every option has a parseable default. */
START_TEST(option_table)
{
	const struct config_option *o;
	size_t n = 0;

	for (size_t i = 0; (o = config_option_at(i)) != NULL; i++) {
		ck_assert_ptr_nonnull(o->section);
		ck_assert_ptr_nonnull(o->key);
		ck_assert_ptr_nonnull(o->default_value);
		n++;
	}
	ck_assert_uint_eq(n, config_option_count());
	ck_assert_uint_eq(n, 28);
	ck_assert_ptr_null(config_option_at(n));
	ck_assert_ptr_null(config_option_at((size_t)-1));
}
END_TEST

START_TEST(full_file)
{
	static const char text[] =
	    "# autokitteh.conf\r\n"
	    "\r\n"
	    "  [server]  \r\n"
	    "listen = [::1]:8080\r\n"
	    "\tsocket=/tmp/ak.sock\r\n"
	    "data_dir   =   \"/srv/ak data\"   \r\n"
	    "public_url = https://ak.example.com/base\r\n"
	    "  # indented comment\r\n"
	    "user = ak_user-1.x\r\n"
	    "[ store ]\r\n"
	    "synchronous = normal\r\n"
	    "check = always\r\n"
	    "\r\n"
	    "[http]\n"
	    "max_body_size = 512KiB\n"
	    "max_header_size = \"64KiB\"\n"
	    "request_timeout = 1m30s\n"
	    "max_connections = 1000000\n"
	    "[log]\n"
	    "level = debug";	/* no final newline */
	struct config cf;
	char *cause = NULL;

	config_init(&cf);
	ck_assert_msg(config_parse(&cf, "full.conf", text, strlen(text),
	    &cause) == 0, "rejected: %s", cause);
	assert_value(&cf, "server", "listen", "[::1]:8080");
	assert_value(&cf, "server", "socket", "/tmp/ak.sock");
	assert_value(&cf, "server", "data_dir", "/srv/ak data");
	assert_value(&cf, "server", "public_url", "https://ak.example.com/base");
	assert_value(&cf, "server", "user", "ak_user-1.x");
	assert_value(&cf, "store", "synchronous", "normal");
	assert_value(&cf, "http", "max_body_size", "512KiB");
	assert_value(&cf, "http", "max_header_size", "64KiB");
	assert_value(&cf, "http", "request_timeout", "1m30s");
	assert_value(&cf, "http", "max_connections", "1000000");
	assert_value(&cf, "log", "level", "debug");
	ck_assert_int_eq(cf.synchronous, STORE_SYNC_NORMAL);
	ck_assert_int_eq(cf.store_check, STORE_CHECK_ALWAYS);
	ck_assert_uint_eq(cf.request_timeout_ms, 90000);
	ck_assert_int_eq(cf.log_level, LOG_LEVEL_DEBUG);
	ck_assert_ptr_null(cf.file);	/* only config_load sets it */
	config_free(&cf);
}
END_TEST

/* The text need not be NUL-terminated: only len bytes are read. */
START_TEST(not_nul_terminated)
{
	static const char text[] = "[log]\nlevel = error[garbage";
	struct config cf;
	char *cause = NULL;

	config_init(&cf);
	ck_assert_int_eq(config_parse(&cf, "x", text, strlen("[log]\nlevel = "
	    "error"), &cause), 0);
	assert_value(&cf, "log", "level", "error");
	config_free(&cf);

	config_init(&cf);
	ck_assert_int_eq(config_parse(&cf, "x", "", 0, &cause), 0);
	assert_value(&cf, "log", "level", "info");
	config_free(&cf);
}
END_TEST

START_TEST(empty_and_comments)
{
	assert_ok("");
	assert_ok("\n\n\n");
	assert_ok("# only a comment\n   # another\n\t\n");
	assert_ok("[server]\n");
	assert_ok("[server]\n[server]\nlisten = 1.2.3.4:5\n");
	assert_ok("[server]\npublic_url = \"\"\n");
	assert_ok("[server]\npublic_url =\n");
	assert_ok("[server]\npublic_url = http://h\n");
	assert_ok("[server]\nlisten = host.example:65535\n");
	assert_ok("[http]\nmax_body_size = 1KiB\n");
	assert_ok("[http]\nmax_body_size = 1GiB\n");
	assert_ok("[http]\nrequest_timeout = 100ms\n");
	assert_ok("[http]\nrequest_timeout = 1h\n");
	assert_ok("[http]\nmax_connections = 1\n");
}
END_TEST

START_TEST(path_lists)
{
	assert_ok("[workers]\nwritable_paths = /srv/ledger:/var/tmp/x\n");
	assert_ok("[workers]\nwritable_paths =\n");
	assert_ok("[workers]\nsandbox = strict\nnetwork = off\n"
	    "tmp_size = 1MiB\npids_max = 8\n");
	assert_error("[workers]\nwritable_paths = /srv:relative\n",
	    "test.conf:2: invalid value \"/srv:relative\" for "
	    "workers.writable_paths: expected absolute paths separated by ':'");
	assert_error("[workers]\nwritable_paths = /srv/../etc\n",
	    "test.conf:2: invalid value \"/srv/../etc\" for "
	    "workers.writable_paths: expected absolute paths separated by ':'");
}
END_TEST

START_TEST(structure_errors)
{
	assert_error("[server]\nlisten = 1.2.3.4:5\n[foo]\n",
	    "test.conf:3: unknown section [foo]");
	assert_error("[server]\nport = 80\n",
	    "test.conf:2: unknown key \"port\" in section [server]");
	assert_error("[log]\nlisten = 1.2.3.4:5\n",
	    "test.conf:2: unknown key \"listen\" in section [log]");
	assert_error("# c\n[server]\nlisten = 1.2.3.4:5\n\nlisten = 1.2.3.4:6\n",
	    "test.conf:5: duplicate key \"listen\" in section [server] "
	    "(first set on line 3)");
	assert_error("[server]\nuser = a\n[http]\n[server]\nuser = b\n",
	    "test.conf:5: duplicate key \"user\" in section [server] "
	    "(first set on line 2)");
	assert_error("# comment\nlisten = 1.2.3.4:5\n",
	    "test.conf:2: key \"listen\" is outside any section: put it under "
	    "a [section] header");
	assert_error("[server]\nlisten 1.2.3.4:5\n",
	    "test.conf:2: expected \"key = value\" or \"[section]\", found "
	    "\"listen 1.2.3.4:5\"");
	assert_error("[server\n",
	    "test.conf:1: malformed section header \"[server\": expected [name]");
	assert_error("[Server]\n",
	    "test.conf:1: malformed section header \"[Server]\": expected "
	    "[name]");
	assert_error("[]\n",
	    "test.conf:1: malformed section header \"[]\": expected [name]");
	assert_error("[a b]\n",
	    "test.conf:1: malformed section header \"[a b]\": expected [name]");
	assert_error("[server]\nListen = 1.2.3.4:5\n",
	    "test.conf:2: malformed key \"Listen\": keys are lowercase letters, "
	    "digits and _");
	assert_error("[server]\n= x\n",
	    "test.conf:2: malformed key \"\": keys are lowercase letters, "
	    "digits and _");
	assert_error("[server]\ndata_dir = \"/var/lib\n",
	    "test.conf:2: unterminated quoted value for server.data_dir");
	assert_error("[server]\ndata_dir = \"\n",
	    "test.conf:2: unterminated quoted value for server.data_dir");
	/* A section name as long as the buffer (64) is malformed. */
	assert_error("[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa]\n", "test.conf:1: malformed section header \"[aaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\": expected "
	    "[name]");
	/* CRLF: the \r is not part of the line in messages. */
	assert_error("[server]\r\nport = 1\r\n",
	    "test.conf:2: unknown key \"port\" in section [server]");
}
END_TEST

START_TEST(nul_byte)
{
	static const char text[] = "[server]\nlisten = 1.2.3.4:5\nus\0er = x\n";
	static const char first[] = "\0[server]\n";
	struct config cf;
	char *cause = NULL;

	config_init(&cf);
	ck_assert_int_eq(config_parse(&cf, "test.conf", text, sizeof text - 1,
	    &cause), -1);
	ck_assert_str_eq(cause, "test.conf:3: the file contains a NUL byte; "
	    "it must be text");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(config_parse(&cf, "test.conf", first,
	    sizeof first - 1, &cause), -1);
	ck_assert_str_eq(cause, "test.conf:1: the file contains a NUL byte; "
	    "it must be text");
	free(cause);
	/* Nothing was applied. */
	assert_value(&cf, "server", "listen", "127.0.0.1:9980");
	config_free(&cf);
}
END_TEST

START_TEST(value_errors)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "[server]\nlisten = localhost\n",
		  "test.conf:2: invalid value \"localhost\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nlisten = 1.2.3.4:0\n",
		  "test.conf:2: invalid value \"1.2.3.4:0\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nlisten = 1.2.3.4:70000\n",
		  "test.conf:2: invalid value \"1.2.3.4:70000\" for "
		  "server.listen: expected an address such as 127.0.0.1:9980 or "
		  "[::1]:9980" },
		{ "[server]\nlisten = 1.2.3.4:http\n",
		  "test.conf:2: invalid value \"1.2.3.4:http\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nlisten = :9980\n",
		  "test.conf:2: invalid value \":9980\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nlisten = 1.2.3.4:\n",
		  "test.conf:2: invalid value \"1.2.3.4:\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nlisten = ::1:9980\n",
		  "test.conf:2: invalid value \"::1:9980\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nlisten = []:9980\n",
		  "test.conf:2: invalid value \"[]:9980\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nlisten = [::1]9980\n",
		  "test.conf:2: invalid value \"[::1]9980\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nlisten = 1.2.3.4:+80\n",
		  "test.conf:2: invalid value \"1.2.3.4:+80\" for server.listen: "
		  "expected an address such as 127.0.0.1:9980 or [::1]:9980" },
		{ "[server]\nsocket = run/api.sock\n",
		  "test.conf:2: invalid value \"run/api.sock\" for server.socket: "
		  "expected an absolute path" },
		{ "[server]\ndata_dir = \"\"\n",
		  "test.conf:2: invalid value \"\" for server.data_dir: expected "
		  "an absolute path" },
		{ "[server]\npublic_url = ftp://example.com\n",
		  "test.conf:2: invalid value \"ftp://example.com\" for "
		  "server.public_url: expected empty or a URL starting with "
		  "http:// or https://" },
		{ "[server]\npublic_url = \"http://\"\n",
		  "test.conf:2: invalid value \"http://\" for server.public_url: "
		  "expected a URL with a host, such as https://ak.example.com" },
		{ "[server]\npublic_url = https:///x\n",
		  "test.conf:2: invalid value \"https:///x\" for "
		  "server.public_url: expected a URL with a host, such as "
		  "https://ak.example.com" },
		{ "[server]\npublic_url = \"https://a b\"\n",
		  "test.conf:2: invalid value \"https://a b\" for "
		  "server.public_url: expected a URL with a host, such as "
		  "https://ak.example.com" },
		{ "[server]\nuser = bad user\n",
		  "test.conf:2: invalid value \"bad user\" for server.user: "
		  "expected a user name" },
		{ "[server]\nuser = -x\n",
		  "test.conf:2: invalid value \"-x\" for server.user: expected a "
		  "user name" },
		{ "[server]\nuser = \"\"\n",
		  "test.conf:2: invalid value \"\" for server.user: expected a "
		  "user name" },
		{ "[server]\nuser = abcdefghijklmnopqrstuvwxyz0123456\n",
		  "test.conf:2: invalid value \"abcdefghijklmnopqrstuvwxyz0123456\""
		  " for server.user: expected a user name" },
		{ "[store]\nsynchronous = off\n",
		  "test.conf:2: invalid value \"off\" for store.synchronous: "
		  "expected full or normal" },
		{ "[workers]\nsandbox = paranoid\n",
		  "test.conf:2: invalid value \"paranoid\" for workers.sandbox: "
		  "expected best-effort or strict" },
		{ "[workers]\nnetwork = no\n",
		  "test.conf:2: invalid value \"no\" for workers.network: "
		  "expected on or off" },
		{ "[log]\nlevel = verbose\n",
		  "test.conf:2: invalid value \"verbose\" for log.level: expected "
		  "error, warning, notice, info or debug" },
		{ "[log]\nlevel = INFO\n",
		  "test.conf:2: invalid value \"INFO\" for log.level: expected "
		  "error, warning, notice, info or debug" },
		{ "[http]\nmax_body_size = lots\n",
		  "test.conf:2: invalid value \"lots\" for http.max_body_size: "
		  "expected a size such as 512KiB or 16MiB" },
		{ "[http]\nmax_body_size = 8MB\n",
		  "test.conf:2: invalid value \"8MB\" for http.max_body_size: "
		  "expected a size such as 512KiB or 16MiB" },
		{ "[http]\nmax_body_size = 1\n",
		  "test.conf:2: http.max_body_size = 1 is out of range: it must "
		  "be between 1KiB and 1GiB" },
		{ "[http]\nmax_body_size = 2GiB\n",
		  "test.conf:2: http.max_body_size = 2GiB is out of range: it "
		  "must be between 1KiB and 1GiB" },
		{ "[http]\nmax_header_size = 1023\n",
		  "test.conf:2: http.max_header_size = 1023 is out of range: it "
		  "must be between 1KiB and 1MiB" },
		{ "[http]\nrequest_timeout = soon\n",
		  "test.conf:2: invalid value \"soon\" for http.request_timeout: "
		  "expected a duration such as 250ms, 10s, 5m or 1h" },
		{ "[http]\nrequest_timeout = 30\n",
		  "test.conf:2: invalid value \"30\" for http.request_timeout: "
		  "expected a duration such as 250ms, 10s, 5m or 1h" },
		{ "[http]\nrequest_timeout = 99ms\n",
		  "test.conf:2: http.request_timeout = 99ms is out of range: it "
		  "must be between 100ms and 1h" },
		{ "[http]\nrequest_timeout = 0\n",
		  "test.conf:2: http.request_timeout = 0 is out of range: it "
		  "must be between 100ms and 1h" },
		{ "[http]\nrequest_timeout = 61m\n",
		  "test.conf:2: http.request_timeout = 61m is out of range: it "
		  "must be between 100ms and 1h" },
		{ "[http]\nmax_connections = many\n",
		  "test.conf:2: invalid value \"many\" for http.max_connections: "
		  "expected a whole number" },
		{ "[http]\nmax_connections = -1\n",
		  "test.conf:2: invalid value \"-1\" for http.max_connections: "
		  "expected a whole number" },
		{ "[http]\nmax_connections = 10k\n",
		  "test.conf:2: invalid value \"10k\" for http.max_connections: "
		  "expected a whole number" },
		{ "[http]\nmax_connections = 99999999999999999999999\n",
		  "test.conf:2: invalid value \"99999999999999999999999\" for "
		  "http.max_connections: expected a whole number" },
		{ "[http]\nmax_connections = 0\n",
		  "test.conf:2: http.max_connections = 0 is out of range: it must "
		  "be between 1 and 1000000" },
		{ "[http]\nmax_connections = 1000001\n",
		  "test.conf:2: http.max_connections = 1000001 is out of range: "
		  "it must be between 1 and 1000000" },
		{ "[secrets]\nkey_file = secrets.key\n",
		  "test.conf:2: invalid value \"secrets.key\" for "
		  "secrets.key_file: expected an absolute path" },
	};

	for (size_t i = 0; i < nitems(cases); i++)
		assert_error(cases[i].text, cases[i].want);
}
END_TEST

/* [secrets] key_file: empty (data_dir/secrets.key) or absolute. */
START_TEST(secrets_key_file_option)
{
	struct config cf;
	char *cause = NULL;
	const char *text = "[secrets]\nkey_file = /etc/autokitteh/master.key\n";

	config_init(&cf);
	assert_value(&cf, "secrets", "key_file", "");
	ck_assert_int_eq(config_parse(&cf, "test.conf", text, strlen(text),
	    &cause), 0);
	assert_value(&cf, "secrets", "key_file", "/etc/autokitteh/master.key");
	text = "[secrets]\nkey_file =\n";
	ck_assert_int_eq(config_parse(&cf, "again.conf", text, strlen(text),
	    &cause), 0);
	assert_value(&cf, "secrets", "key_file", "");
	config_free(&cf);
}
END_TEST

/* [sessions] retention: a duration (days allowed), 0 or off = forever. */
START_TEST(sessions_retention_option)
{
	static const struct {
		const char	*value;
		uint64_t	 ms;
		const char	*shown;
	} cases[] = {
		{ "7d", 7ULL * 86400000, "7d" },
		{ "1d12h", 36ULL * 3600000, "1d12h" },
		{ "48h", 2ULL * 86400000, "2d" },
		{ "90m", 90ULL * 60000, "1h30m" },
		{ "2s", 2000, "2s" },
		{ "off", 0, "off" },
		{ "0", 0, "off" },
		{ "\"off\"", 0, "off" },
		{ "3650d", 3650ULL * 86400000, "3650d" },
	};
	static const struct {
		const char	*value;
		const char	*want;
	} bad[] = {
		{ "forever", "test.conf:2: invalid value \"forever\" for "
		  "sessions.retention: expected a duration such as 12h, 30d or "
		  "1d12h, or off" },
		{ "30", "test.conf:2: invalid value \"30\" for "
		  "sessions.retention: expected a duration such as 12h, 30d or "
		  "1d12h, or off" },
		{ "30 days", "test.conf:2: invalid value \"30 days\" for "
		  "sessions.retention: expected a duration such as 12h, 30d or "
		  "1d12h, or off" },
		{ "-1d", "test.conf:2: invalid value \"-1d\" for "
		  "sessions.retention: expected a duration such as 12h, 30d or "
		  "1d12h, or off" },
		{ "1w", "test.conf:2: invalid value \"1w\" for "
		  "sessions.retention: expected a duration such as 12h, 30d or "
		  "1d12h, or off" },
		{ "OFF", "test.conf:2: invalid value \"OFF\" for "
		  "sessions.retention: expected a duration such as 12h, 30d or "
		  "1d12h, or off" },
		{ "", "test.conf:2: invalid value \"\" for sessions.retention: "
		  "expected a duration such as 12h, 30d or 1d12h, or off" },
		{ "3651d", "test.conf:2: sessions.retention = 3651d is out of "
		  "range: it must be between 0 and 3650d" },
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		struct config cf;
		char *cause = NULL, *text;

		config_init(&cf);
		xasprintf(&text, "[sessions]\nretention = %s\n",
		    cases[i].value);
		ck_assert_msg(config_parse(&cf, "test.conf", text, strlen(text),
		    &cause) == 0, "%s: %s", cases[i].value, cause);
		ck_assert_uint_eq(cf.sessions_retention_ms, cases[i].ms);
		assert_value(&cf, "sessions", "retention", cases[i].shown);
		free(text);
		config_free(&cf);
	}
	for (size_t i = 0; i < nitems(bad); i++) {
		char *text;

		xasprintf(&text, "[sessions]\nretention = %s\n", bad[i].value);
		assert_error(text, bad[i].want);
		free(text);
	}
}
END_TEST

START_TEST(path_length)
{
	char text[512], path[200];

	/* sun_path holds 108 bytes with the NUL: 107 is the longest. */
	memset(path, 'a', sizeof path);
	path[0] = '/';
	path[107] = '\0';
	snprintf(text, sizeof text, "[server]\nsocket = %s\n", path);
	assert_ok(text);
	path[107] = 'a';
	path[108] = '\0';
	snprintf(text, sizeof text, "[server]\nsocket = %s\n", path);
	assert_error(text, "test.conf:2: server.socket is 108 bytes long; the "
	    "limit is 107");
}
END_TEST

/*
 * A failed parse stops at the bad line: the lines before it have already
 * been applied (the daemon exits 78 on any error, so this is harmless).
 */
START_TEST(failed_parse_state)
{
	static const char text[] = "[log]\nlevel = debug\n[server]\n"
	    "user = someone\nlisten = nowhere\ndata_dir = /elsewhere\n";
	struct config cf;
	char *cause = NULL;

	config_init(&cf);
	ck_assert_int_eq(config_parse(&cf, "t", text, strlen(text), &cause),
	    -1);
	ck_assert_str_eq(cause, "t:5: invalid value \"nowhere\" for "
	    "server.listen: expected an address such as 127.0.0.1:9980 or "
	    "[::1]:9980");
	free(cause);
	assert_value(&cf, "log", "level", "debug");
	assert_value(&cf, "server", "user", "someone");
	assert_value(&cf, "server", "listen", "127.0.0.1:9980");
	assert_value(&cf, "server", "data_dir", "/var/lib/autokitteh");
	config_free(&cf);
}
END_TEST

START_TEST(split_address)
{
	char *host = NULL, *port = NULL;

	ck_assert_int_eq(config_split_address("[::1]:9980", &host, &port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_str_eq(port, "9980");
	free(host);
	free(port);
	ck_assert_int_eq(config_split_address("[fe80::1%eth0]:1", &host,
	    &port), 0);
	ck_assert_str_eq(host, "fe80::1%eth0");
	ck_assert_str_eq(port, "1");
	free(host);
	free(port);
	ck_assert_int_eq(config_split_address("127.0.0.1:9980", &host, &port),
	    0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_str_eq(port, "9980");
	free(host);
	free(port);
	ck_assert_int_eq(config_split_address("localhost:65535", &host,
	    &port), 0);
	ck_assert_str_eq(host, "localhost");
	ck_assert_str_eq(port, "65535");
	free(host);
	free(port);

	host = port = NULL;
	ck_assert_int_eq(config_split_address("[::1]", &host, &port), -1);
	ck_assert_int_eq(config_split_address("[::1:80", &host, &port), -1);
	ck_assert_int_eq(config_split_address("[::1]:", &host, &port), -1);
	ck_assert_int_eq(config_split_address("[::1]:0", &host, &port), -1);
	ck_assert_int_eq(config_split_address("[::1]:65536", &host, &port),
	    -1);
	ck_assert_int_eq(config_split_address("h:-1", &host, &port), -1);
	ck_assert_int_eq(config_split_address("h:1 ", &host, &port), -1);
	ck_assert_int_eq(config_split_address("", &host, &port), -1);
	ck_assert_ptr_null(host);
	ck_assert_ptr_null(port);
}
END_TEST

/* ---- config_load: files ---- */

static char tmpdir[64];

static void
tmpdir_teardown(void)
{
	char cmd[128];

	if (tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	tmpdir[0] = '\0';
}

static void
tmpdir_setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check-config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static char *
write_file(const char *name, const char *text, size_t len)
{
	char *path;
	int fd;

	xasprintf(&path, "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(load_valid)
{
	static const char text[] = "[http]\nmax_connections = 7\n";
	char *path = write_file("ak.conf", text, strlen(text)), *cause = NULL;
	struct config cf;

	config_init(&cf);
	ck_assert_int_eq(config_load(&cf, path, 0, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(cf.file, path);
	ck_assert_uint_eq(cf.max_connections, 7);
	assert_value(&cf, "log", "level", "info");
	config_free(&cf);
	free(path);
}
END_TEST

START_TEST(load_error_names_path)
{
	static const char text[] = "[http]\n\nmax_connections = x\n";
	char *path = write_file("bad.conf", text, strlen(text)), *cause = NULL;
	char *want;
	struct config cf;

	config_init(&cf);
	ck_assert_int_eq(config_load(&cf, path, 1, &cause), -1);
	xasprintf(&want, "%s:3: invalid value \"x\" for http.max_connections: "
	    "expected a whole number", path);
	ck_assert_str_eq(cause, want);
	ck_assert_ptr_null(cf.file);
	free(want);
	free(cause);
	config_free(&cf);
	free(path);
}
END_TEST

START_TEST(load_missing)
{
	struct config cf;
	char *path, *cause = NULL, *want;

	xasprintf(&path, "%s/missing.conf", tmpdir);
	config_init(&cf);
	ck_assert_int_eq(config_load(&cf, path, 1, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_ptr_null(cf.file);
	assert_value(&cf, "server", "listen", "127.0.0.1:9980");

	ck_assert_int_eq(config_load(&cf, path, 0, &cause), -1);
	xasprintf(&want, "%s: cannot open the configuration file: No such "
	    "file or directory", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	config_free(&cf);
	free(path);
}
END_TEST

START_TEST(load_directory)
{
	struct config cf;
	char *cause = NULL, *want;

	config_init(&cf);
	ck_assert_int_eq(config_load(&cf, tmpdir, 0, &cause), -1);
	xasprintf(&want, "%s: not a regular file", tmpdir);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	cause = NULL;
	/* missing_ok covers only a missing file. */
	ck_assert_int_eq(config_load(&cf, tmpdir, 1, &cause), -1);
	free(cause);
	config_free(&cf);
}
END_TEST

START_TEST(load_too_large)
{
	size_t big = 1024 * 1024 + 1;
	char *text = xmalloc(big), *path, *cause = NULL, *want;
	struct config cf;

	/* Comment lines: valid content, only the size is wrong. */
	memset(text, '#', big);
	for (size_t i = 79; i < big; i += 80)
		text[i] = '\n';
	path = write_file("big.conf", text, big);
	config_init(&cf);
	ck_assert_int_eq(config_load(&cf, path, 0, &cause), -1);
	xasprintf(&want, "%s: the file is larger than 1MiB; is it the right "
	    "file?", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);

	/* Exactly 1MiB is still accepted. */
	path = write_file("edge.conf", text, big - 1);
	cause = NULL;
	ck_assert_int_eq(config_load(&cf, path, 0, &cause), 0);
	ck_assert_ptr_null(cause);
	config_free(&cf);
	free(path);
	free(text);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, option_table);
	tcase_add_test(tc, sessions_retention_option);
	tcase_add_test(tc, full_file);
	tcase_add_test(tc, not_nul_terminated);
	tcase_add_test(tc, empty_and_comments);
	tcase_add_test(tc, structure_errors);
	tcase_add_test(tc, path_lists);
	tcase_add_test(tc, nul_byte);
	tcase_add_test(tc, value_errors);
	tcase_add_test(tc, secrets_key_file_option);
	tcase_add_test(tc, path_length);
	tcase_add_test(tc, failed_parse_state);
	tcase_add_test(tc, split_address);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, load_valid);
	tcase_add_test(tc, load_error_names_path);
	tcase_add_test(tc, load_missing);
	tcase_add_test(tc, load_directory);
	tcase_add_test(tc, load_too_large);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
