/*
 * check-notify.c: unit tests for src/notify.c, the sd_notify protocol.
 *
 * Parsing of NOTIFY_SOCKET and of the watchdog variables, then the real
 * thing: a datagram socket stands in for systemd and we compare the exact
 * bytes that arrive. Check forks each test, so notify.c's static state
 * starts fresh every time.
 */
#include "autokittehd.h"

#include <check.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(address_path)
{
	struct sockaddr_un sun;
	socklen_t len = 0;

	ck_assert_int_eq(notify_parse_address("/run/x", &sun, &len), 0);
	ck_assert_int_eq(sun.sun_family, AF_UNIX);
	ck_assert_str_eq(sun.sun_path, "/run/x");
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen("/run/x") + 1);
}
END_TEST

START_TEST(address_abstract)
{
	struct sockaddr_un sun;
	socklen_t len = 0;

	ck_assert_int_eq(notify_parse_address("@abstract", &sun, &len), 0);
	ck_assert_int_eq(sun.sun_family, AF_UNIX);
	ck_assert_int_eq(sun.sun_path[0], '\0');
	ck_assert_mem_eq(sun.sun_path + 1, "abstract", 8);
	/* No trailing NUL: abstract names are length-delimited. */
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen("@abstract"));
}
END_TEST

START_TEST(address_rejects)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	char longest[sizeof sun.sun_path], too_long[sizeof sun.sun_path + 1];

	ck_assert_int_eq(notify_parse_address(NULL, &sun, &len), -1);
	ck_assert_int_eq(notify_parse_address("", &sun, &len), -1);
	ck_assert_int_eq(notify_parse_address("relative", &sun, &len), -1);
	ck_assert_int_eq(notify_parse_address("run/x", &sun, &len), -1);
	ck_assert_int_eq(notify_parse_address("@", &sun, &len), -1);

	/* 107 bytes fit with the NUL; 108 do not. */
	memset(longest, 'a', sizeof longest);
	longest[0] = '/';
	longest[sizeof longest - 1] = '\0';
	ck_assert_int_eq(notify_parse_address(longest, &sun, &len), 0);
	ck_assert_uint_eq(len, sizeof sun);
	memset(too_long, 'a', sizeof too_long);
	too_long[0] = '/';
	too_long[sizeof too_long - 1] = '\0';
	ck_assert_int_eq(notify_parse_address(too_long, &sun, &len), -1);
	too_long[0] = '@';
	ck_assert_int_eq(notify_parse_address(too_long, &sun, &len), -1);
}
END_TEST

START_TEST(watchdog_interval)
{
	uint64_t us = 0;
	char pid[32];

	ck_assert_int_eq(notify_watchdog_interval("30000000", NULL, 42, &us), 0);
	ck_assert_uint_eq(us, 15000000);
	us = 0;
	ck_assert_int_eq(notify_watchdog_interval("30000000", "", 42, &us), 0);
	ck_assert_uint_eq(us, 15000000);

	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	us = 0;
	/* Never pings more often than every 1ms, however small the timeout. */
	ck_assert_int_eq(notify_watchdog_interval("3", pid, getpid(), &us), 0);
	ck_assert_uint_eq(us, 1000);
	snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
	ck_assert_int_eq(notify_watchdog_interval("30000000", pid, getpid(),
	    &us), -1);
}
END_TEST

START_TEST(watchdog_malformed)
{
	static const char *const usecs[] = {
		NULL, "", "abc", "-5", "0", "10x", "x10", "-0",
		"99999999999999999999999",
	};
	static const char *const pids[] = {
		"abc", "0", "-1", "42x", "4 2", "99999999999999999999",
	};
	uint64_t us = 777;

	for (size_t i = 0; i < nitems(usecs); i++)
		ck_assert_msg(notify_watchdog_interval(usecs[i], NULL, 42,
		    &us) == -1, "WATCHDOG_USEC=\"%s\" accepted",
		    usecs[i] != NULL ? usecs[i] : "(unset)");
	for (size_t i = 0; i < nitems(pids); i++)
		ck_assert_msg(notify_watchdog_interval("30000000", pids[i], 42,
		    &us) == -1, "WATCHDOG_PID=\"%s\" accepted", pids[i]);
	ck_assert_uint_eq(us, 777);
}
END_TEST

/* ---- end to end: a datagram socket in place of systemd ---- */

static char tmpdir[64];
static int listener = -1;

static void
listener_teardown(void)
{
	char *path;

	if (listener != -1)
		close(listener);
	listener = -1;
	unsetenv("NOTIFY_SOCKET");
	if (tmpdir[0] == '\0')
		return;
	xasprintf(&path, "%s/notify", tmpdir);
	unlink(path);
	free(path);
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

static void
listener_setup(void)
{
	struct sockaddr_un sun;
	char *path;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/check-notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	xasprintf(&path, "%s/notify", tmpdir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	listener = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(listener, -1);
	ck_assert_int_eq(bind(listener, (struct sockaddr *)&sun, sizeof sun),
	    0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", path, 1), 0);
	free(path);
}

/* The next datagram, NUL-terminated; fails the test after 5 s. */
static void
receive(char *buf, size_t size, ssize_t *len)
{
	struct timeval tv = { 5, 0 };

	ck_assert_int_eq(setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof tv), 0);
	*len = recv(listener, buf, size - 1, 0);
	ck_assert_msg(*len >= 0, "no datagram: %s", strerror(errno));
	buf[*len] = '\0';
}

START_TEST(send_exact_bytes)
{
	char buf[1024];
	ssize_t n;

	ck_assert_int_eq(notify_enabled(), 0);
	notify_init();
	ck_assert_int_eq(notify_enabled(), 1);
	ck_assert_int_eq(notify_send("READY=1\nSTATUS=x"), 0);
	receive(buf, sizeof buf, &n);
	ck_assert_int_eq(n, (ssize_t)strlen("READY=1\nSTATUS=x"));
	ck_assert_mem_eq(buf, "READY=1\nSTATUS=x", (size_t)n);

	notify_status("hello %d", 5);
	receive(buf, sizeof buf, &n);
	ck_assert_int_eq(n, (ssize_t)strlen("STATUS=hello 5"));
	ck_assert_str_eq(buf, "STATUS=hello 5");
}
END_TEST

START_TEST(status_truncated)
{
	char buf[2048], big[1000];
	ssize_t n;

	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	notify_init();
	notify_status("%s", big);
	receive(buf, sizeof buf, &n);
	ck_assert_int_eq(n, 511);
	ck_assert(strncmp(buf, "STATUS=zzz", 10) == 0);
}
END_TEST

START_TEST(send_abstract)
{
	struct sockaddr_un sun;
	int fd;
	char name[64], buf[64];
	socklen_t len;
	ssize_t n;
	struct timeval tv = { 5, 0 };

	snprintf(name, sizeof name, "@check-notify-%ld", (long)getpid());
	ck_assert_int_eq(notify_parse_address(name, &sun, &len), 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	notify_init();
	ck_assert_int_eq(notify_send("STOPPING=1"), 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof tv), 0);
	n = recv(fd, buf, sizeof buf - 1, 0);
	ck_assert_int_eq(n, 10);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "STOPPING=1");
	close(fd);
}
END_TEST

START_TEST(disabled)
{
	unsetenv("NOTIFY_SOCKET");
	notify_init();
	ck_assert_int_eq(notify_enabled(), 0);
	ck_assert_int_eq(notify_send("READY=1"), 0);	/* a no-op */

	ck_assert_int_eq(setenv("NOTIFY_SOCKET", "not-a-path", 1), 0);
	notify_init();
	ck_assert_int_eq(notify_enabled(), 0);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(send_nobody_listening)
{
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1), 0);
	notify_init();
	ck_assert_int_eq(notify_enabled(), 1);
	ck_assert_int_eq(notify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

/* The watchdog pings at once, then from the loop at half WATCHDOG_USEC. */
START_TEST(watchdog_pings)
{
	struct event_base *base = event_base_new();
	struct timeval stop = { 0, 250000 };
	char buf[64];
	ssize_t n;
	int pings = 0;

	ck_assert_int_eq(setenv("WATCHDOG_USEC", "100000", 1), 0);
	unsetenv("WATCHDOG_PID");
	notify_init();
	notify_watchdog_start(base);
	event_base_loopexit(base, &stop);
	event_base_dispatch(base);
	notify_watchdog_stop();
	while ((n = recv(listener, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		ck_assert_str_eq(buf, "WATCHDOG=1");
		pings++;
	}
	/* One at start, then one per 50 ms for 250 ms. */
	ck_assert_msg(pings >= 3 && pings <= 8, "%d pings", pings);
	event_base_free(base);
	unsetenv("WATCHDOG_USEC");
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, address_path);
	tcase_add_test(tc, address_abstract);
	tcase_add_test(tc, address_rejects);
	tcase_add_test(tc, watchdog_interval);
	tcase_add_test(tc, watchdog_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("send");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, listener_setup, listener_teardown);
	tcase_add_test(tc, send_exact_bytes);
	tcase_add_test(tc, status_truncated);
	tcase_add_test(tc, watchdog_pings);
	suite_add_tcase(s, tc);

	tc = tcase_create("environment");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, send_abstract);
	tcase_add_test(tc, disabled);
	tcase_add_test(tc, send_nobody_listening);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(notify_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
