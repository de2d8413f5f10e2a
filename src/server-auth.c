/*
 * server-auth.c: who may call the API.
 *
 * On the Unix socket the kernel tells us who the peer is (SO_PEERCRED, and
 * SO_PEERGROUPS for supplementary groups): root, the daemon's own user and
 * members of group autokitteh are admitted. On TCP every request carries
 * "Authorization: Bearer <token>"; tokens are checked in auth-token.c.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
auth_unix_peer(int fd, struct peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	memset(peer, 0, sizeof *peer);
	peer->is_unix = 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	peer->pid = cred.pid;
	snprintf(peer->address, sizeof peer->address, "unix:pid=%ld,uid=%u",
	    (long)cred.pid, (unsigned)cred.uid);
	return 0;
}

static int
peer_in_group(int fd, gid_t group)
{
	gid_t groups[256];
	socklen_t len = sizeof groups;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return 0;
	for (size_t i = 0; i < len / sizeof groups[0]; i++) {
		if (groups[i] == group)
			return 1;
	}
	return 0;
}

/* group is (gid_t)-1 when no group autokitteh exists. */
int
auth_unix_admit(const struct peer *peer, int fd, gid_t group, uid_t self)
{
	if (peer->uid == 0 || peer->uid == self)
		return 1;
	if (group == (gid_t)-1)
		return 0;
	return peer->gid == group || peer_in_group(fd, group);
}

/* "Bearer <secret>" -> secret; -1 when absent or malformed. */
int
auth_bearer_parse(const char *header, const char **secret)
{
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return -1;
	header += 7;
	while (*header == ' ')
		header++;
	if (*header == '\0')
		return -1;
	*secret = header;
	return 0;
}
