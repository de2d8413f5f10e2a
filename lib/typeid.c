/*
 * typeid.c: TypeIDs, the object IDs AutoKitteh uses ("prj_01h455vb4pex5vsknk084sn02q").
 *
 * A TypeID is a lowercase prefix, "_", and a UUID written as 26 characters
 * of Crockford's base32 (lowercase, no padding; the first character carries
 * only 3 bits and so is at most '7'). New IDs use UUIDv7: 48 bits of Unix
 * milliseconds then random bits, so IDs sort by creation time.
 */
#include "common.h"

#include <string.h>
#include <time.h>

#include <openssl/rand.h>

static const char typeid_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

int
typeid_encode(const uint8_t uuid[16], char out[TYPEID_SUFFIX_LEN + 1])
{
	/* 130 bits (two leading zeros) read 5 at a time from the top. */
	for (int i = 0; i < TYPEID_SUFFIX_LEN; i++) {
		int bit = i * 5 - 2, v = 0;

		for (int b = 0; b < 5; b++, bit++) {
			v <<= 1;
			if (bit >= 0 && (uuid[bit / 8] >> (7 - bit % 8)) & 1)
				v |= 1;
		}
		out[i] = typeid_alphabet[v];
	}
	out[TYPEID_SUFFIX_LEN] = '\0';
	return 0;
}

int
typeid_decode(const char *suffix, uint8_t uuid[16])
{
	if (strlen(suffix) != TYPEID_SUFFIX_LEN || suffix[0] > '7')
		return -1;
	memset(uuid, 0, 16);
	for (int i = 0; i < TYPEID_SUFFIX_LEN; i++) {
		const char *p = strchr(typeid_alphabet, suffix[i]);
		int bit = i * 5 - 2;

		if (p == NULL || suffix[i] == '\0')
			return -1;
		for (int b = 4; b >= 0; b--, bit++) {
			if (bit >= 0 && ((p - typeid_alphabet) >> b) & 1)
				uuid[bit / 8] |= (uint8_t)(1 << (7 - bit % 8));
		}
	}
	return 0;
}

int
typeid_new(const char *prefix, char *out, size_t size)
{
	uint8_t uuid[16];
	char suffix[TYPEID_SUFFIX_LEN + 1];
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (RAND_bytes(uuid + 6, 10) != 1)
		return -1;
	for (int i = 0; i < 6; i++)
		uuid[i] = (uint8_t)(ms >> (40 - 8 * i));
	uuid[6] = (uint8_t)(0x70 | (uuid[6] & 0x0f));	/* version 7 */
	uuid[8] = (uint8_t)(0x80 | (uuid[8] & 0x3f));	/* RFC 4122 variant */
	typeid_encode(uuid, suffix);
	if ((size_t)snprintf(out, size, "%s_%s", prefix, suffix) >= size)
		return -1;
	return 0;
}

/* Is id a well-formed TypeID, with the given prefix when prefix != NULL? */
int
typeid_check(const char *id, const char *prefix)
{
	const char *sep = strrchr(id, '_');
	uint8_t uuid[16];
	size_t plen;

	if (sep == NULL)
		return -1;
	plen = (size_t)(sep - id);
	if (plen == 0 || plen > TYPEID_MAX_PREFIX || id[0] == '_' ||
	    id[plen - 1] == '_')
		return -1;
	for (size_t i = 0; i < plen; i++) {
		if ((id[i] < 'a' || id[i] > 'z') && id[i] != '_')
			return -1;
	}
	if (prefix != NULL && (strlen(prefix) != plen ||
	    strncmp(id, prefix, plen) != 0))
		return -1;
	return typeid_decode(sep + 1, uuid);
}
