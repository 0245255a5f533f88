/* The stream's SHA-256 through libcrypto's EVP interface (digest.h). */
#include "digest.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

int digest_open(struct digest *d, const char **why)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	*d = (struct digest){ 0 };
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		*why = "cannot start a SHA-256 (libcrypto)";
		return -1;
	}
	d->ctx = ctx;
	return 0;
}

void digest_update(struct digest *d, const void *p, size_t len)
{
	if (d->ctx && len)
		EVP_DigestUpdate(d->ctx, p, len);
}

const char *digest_final(struct digest *d)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!d->ctx)
		return NULL;
	EVP_DigestFinal_ex(d->ctx, md, &n);
	memcpy(d->raw, md, sizeof(d->raw)); /* n is 32: SHA-256 */
	digest_free(d);
	return digest_to_hex(d->raw, d->hex);
}

char *digest_to_hex(const unsigned char *raw, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[DIGEST_HEX_LEN] = '\0';
	return hex;
}

void digest_free(struct digest *d)
{
	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
}

int digest_valid_hex(const char *s)
{
	size_t n = strlen(s);

	if (n != DIGEST_HEX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

void digest_hmac(const void *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n);
}

int digest_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
