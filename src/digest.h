/*
 * The stream's SHA-256 (FIPS 180-4), through OpenSSL's libcrypto EVP
 * interface, which uses the CPU's SHA instructions where it has them.
 */
#ifndef RINGCAST_DIGEST_H
#define RINGCAST_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN 64 /* a SHA-256 in hexadecimal, without the NUL */

struct digest {
	void *ctx;                    /* EVP_MD_CTX; NULL: not open */
	char hex[DIGEST_HEX_LEN + 1]; /* after digest_final: lower-case hex */
	unsigned char raw[32];        /* after digest_final: the 32 bytes */
};

/* Start a SHA-256.  0, or -1 with *why (a static string). */
int digest_open(struct digest *d, const char **why);
/* Add len bytes at p. */
void digest_update(struct digest *d, const void *p, size_t len);
/* End it: d->hex holds the digest, and d is closed.  Returns d->hex, or
 * NULL when d was not open. */
const char *digest_final(struct digest *d);
/* The 32 bytes at raw in lower-case hex into hex[DIGEST_HEX_LEN + 1];
 * returns hex. */
char *digest_to_hex(const unsigned char *raw, char *hex);
/* HMAC-SHA256 (RFC 2104) of the len bytes at data with the keylen-byte
 * key, into out[32], through libcrypto. */
void digest_hmac(const void *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[32]);
/* Whether the n bytes at a and b are equal, in time that does not depend
 * on where they differ (for MACs). */
int digest_equal(const void *a, const void *b, size_t n);
/* Free an open digest without ending it; safe on a zeroed or closed one. */
void digest_free(struct digest *d);
/* Whether s is a SHA-256 in hexadecimal: exactly 64 hex digits, either case. */
int digest_valid_hex(const char *s);

#endif
