/*
 * Serve mode's catalog: the blobs it serves, each with its 200 head built
 * once, and with --http the listing '/' answers with.  Looked up by name.
 * The blobs never change once the catalog is built.
 */
#ifndef RINGCAST_CATALOG_H
#define RINGCAST_CATALOG_H

#include "blob.h"
#include "http.h"

#include <stddef.h>

struct served {
	struct blob b;
	char *href; /* its URL path (listing_href) */
	char *head; /* its 200 head but for Date and Connection (http_ok_head) */
	size_t head_len;
};

/* Zeroed but for index.b.fd (-1): an empty catalog. */
struct catalog {
	struct served *blobs; /* n of them, in the order added */
	size_t n;
	struct served index; /* catalog_index: the page '/' answers with */
	/* --http's --max-header: a request for each blob must fit in it; 0
	 * (raw TCP) when blobs are not fetched by name. */
	size_t max_header;
	char *why; /* the last error's text, owned */
};

/* Take b into the catalog, which owns it from then on; its name must be
 * new, and with max_header a request for it must fit.  0 with *out set, or
 * -ENOMEM, -EEXIST or -EINVAL with *why (the catalog's, until its next
 * call), b still the caller's. */
int catalog_add(struct catalog *cat, struct blob *b, const struct served **out, const char **why);

/* The blob served as name (a decoded URL path without its '/'), or NULL.
 * "" names none (no blob is named so: blob.c); the listing is cat->index. */
const struct served *catalog_find(const struct catalog *cat, const char *name);

/* Build cat->index, the listing of every blob (listing_html), once all are
 * added.  0, or -errno with *why, NULL when blob.c said why already. */
int catalog_index(struct catalog *cat, const char **why);

/* sv as http_answer and http_head take it; its pointers are into sv. */
void catalog_rep(const struct served *sv, struct http_rep *rep);

/* Free every blob, the listing and the error text. */
void catalog_free(struct catalog *cat);

#endif
