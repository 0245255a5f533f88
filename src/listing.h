/*
 * Serve mode's answer to '/': a small HTML page that lists every blob with a
 * link, its size and its type, and the URL path of a blob's name.  Pure: it
 * builds bytes and does no I/O, so it can be unit-tested alone.
 */
#ifndef RINGCAST_LISTING_H
#define RINGCAST_LISTING_H

#include <stddef.h>
#include <stdint.h>

struct listing_item {
	const char *name; /* the blob's name, any bytes but NUL */
	uint64_t size;    /* bytes */
	const char *type; /* its Content-Type */
};

/* The absolute URL path that names `name` (malloc'd; NULL when out of
 * memory): '/', then every byte of name percent-encoded (RFC 3986, 2.1)
 * except the unreserved ones (2.3) and '/'.  Decoded once, as serve mode
 * decodes a request path, it gives name back.  Keeping '/' is safe because
 * no name starts with '/' or holds an empty, "." or ".." segment (blob.c,
 * archive_member_name), which a client would otherwise normalise away. */
char *listing_href(const char *name);

/* The page for items[0, n), in their order: a UTF-8 HTML document that is
 * also well-formed XML, each name HTML-escaped as text and percent-encoded
 * as a link; a byte of a name that is not valid UTF-8, and any control
 * character or noncharacter, shows as U+FFFD (the link keeps every byte).
 * Returns a malloc'd buffer of *len bytes, or NULL when out of memory. */
char *listing_html(const struct listing_item *items, size_t n, size_t *len);

#endif
