/*
 * privilege.c: who the daemon runs as.
 *
 * Started as root with server.user other than root, we bind the listeners
 * and then drop, in the fixed order setgroups, setresgid, setresuid, each
 * fatal on failure, and verify that root cannot be regained. user = root
 * keeps root (development and tests only; we say so in the log). Started as
 * any other user, we run as that user and server.user is not consulted.
 */
#include "autokittehd.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
privilege_resolve(const char *user, struct privilege *priv, char **cause)
{
	struct passwd *pw;

	memset(priv, 0, sizeof *priv);
	priv->uid = geteuid();
	priv->gid = getegid();
	if (geteuid() != 0) {
		struct passwd *self = getpwuid(geteuid());

		priv->name = xstrdup(self != NULL ? self->pw_name : "?");
		return 0;
	}
	if (strcmp(user, "root") == 0) {
		priv->name = xstrdup("root");
		log_warning("running as root because server.user = root; use "
		    "this for development and tests only");
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		xasprintf(cause, "server.user \"%s\" does not exist: create it "
		    "(systemd-sysusers does so from the package's sysusers.d "
		    "file) or set server.user to an existing user", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		xasprintf(cause, "server.user \"%s\" has uid 0; set server.user "
		    "to an unprivileged user (or to root, explicitly)", user);
		return -1;
	}
	priv->drop = 1;
	priv->uid = pw->pw_uid;
	priv->gid = pw->pw_gid;
	priv->name = xstrdup(pw->pw_name);
	return 0;
}

void
privilege_drop(const struct privilege *priv)
{
	if (!priv->drop)
		return;
	if (setgroups(1, &priv->gid) == -1)
		fatal("setgroups(%u)", (unsigned)priv->gid);
	if (setresgid(priv->gid, priv->gid, priv->gid) == -1)
		fatal("setresgid(%u)", (unsigned)priv->gid);
	if (setresuid(priv->uid, priv->uid, priv->uid) == -1)
		fatal("setresuid(%u)", (unsigned)priv->uid);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("dropped privileges to %s but could regain root; "
		    "refusing to run", priv->name);
	log_info("running as user %s (uid %u, gid %u)", priv->name,
	    (unsigned)priv->uid, (unsigned)priv->gid);
}

void
privilege_free(struct privilege *priv)
{
	free(priv->name);
	priv->name = NULL;
}
