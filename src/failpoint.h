/*
 * failpoint.h: named crash points for the reliability torture
 * (tests/torture, docs/RELIABILITY.md).
 *
 * FAILPOINT("name") marks a place where the daemon may be killed on
 * purpose: with AK_FAILPOINTS="name:N[,name:N...]" in its environment, the
 * Nth time the named point is reached the daemon raises SIGKILL, exactly
 * as if `kill -9` had arrived there ("name:N:stop": SIGSTOP, so that a
 * test can watch the rest of the system while the daemon is frozen there). Only builds configured with
 * --enable-failpoints (the default with --enable-asan, as in CI) have
 * them; elsewhere the macro is empty and AK_FAILPOINTS only earns a
 * warning at start. Disarmed, a point costs one load and one branch.
 *
 * The points (add a name here and to failpoint.c's table):
 *   before-commit               store-commit.c: a batch is about to COMMIT
 *   after-commit-before-ack     session.c: a RESULT is committed, its ACK
 *                               not yet sent
 *   after-result-before-commit  session.c: a RESULT is in the open batch,
 *                               not yet committed
 *   recovery                    session.c: recovery's write at start, not
 *                               yet committed
 *   replay                      session.c: RUN with a history just sent to
 *                               a worker (it is replaying)
 *   zygote-spawn                pool.c: the zygote was just forked (it must
 *                               not outlive us)
 *   early-run-before-commit     session.c: a webhook's session was sent
 *                               RUN{go} in the batch that saves it, not yet
 *                               committed (its code must not run)
 *   after-commit-before-go      session.c: that batch is committed, GO not
 *                               yet sent (the session must run once, after
 *                               recovery)
 */
#ifndef FAILPOINT_H
#define FAILPOINT_H

void failpoint_init(void);

#ifdef AK_FAILPOINTS
extern int failpoints_armed;
void failpoint_hit(const char *name);
#define FAILPOINT(name) do {						\
	if (failpoints_armed)						\
		failpoint_hit(name);					\
} while (0)
#else
#define FAILPOINT(name) do { } while (0)
#endif

#endif
