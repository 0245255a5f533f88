#include "catalog.h"
#include "listing.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set cat->why as printf would; ENOMEM's text when that fails too. */
static const char *say(struct catalog *cat, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *say(struct catalog *cat, const char *fmt, ...)
{
	va_list ap;

	free(cat->why);
	va_start(ap, fmt);
	if (vasprintf(&cat->why, fmt, ap) < 0)
		cat->why = NULL;
	va_end(ap);
	return cat->why ? cat->why : strerror(ENOMEM);
}

void catalog_rep(const struct served *sv, struct http_rep *rep)
{
	*rep = (struct http_rep){ .size = sv->b.size,
				  .mtime = sv->b.mtime,
				  .mtime_strong = sv->b.mtime_strong,
				  .etag = sv->b.etag,
				  .type = sv->b.type,
				  .ok_head = sv->head,
				  .ok_head_len = sv->head_len };
}

/* sv's 200 head, built once: 0 or -ENOMEM. */
static int build_head(struct served *sv)
{
	struct http_rep rep;

	catalog_rep(sv, &rep);
	rep.ok_head = NULL;
	sv->head = http_ok_head(&rep, &sv->head_len);
	return sv->head ? 0 : -ENOMEM;
}

const struct served *catalog_find(const struct catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->n; i++)
		if (!strcmp(cat->blobs[i].b.name, name))
			return &cat->blobs[i];
	return NULL;
}

/* Can a client fetch href?  The smallest request for it, "GET HREF
 * HTTP/1.1", an empty Host and the blank line, must fit in --max-header (a
 * long archive member's path, a name of many bytes that need escaping):
 * refused now rather than listed with a link that gets 414.  0 or -EINVAL. */
static int fits(struct catalog *cat, const char *href, const char **why)
{
	size_t need = strlen("GET  HTTP/1.1\r\nHost:\r\n\r\n") + strlen(href);

	if (!cat->max_header || need <= cat->max_header)
		return 0;
	*why = say(cat,
		   "%.60s%s cannot be fetched: a request for it takes %zu bytes or more, "
		   "and --max-header is %zu",
		   href, strlen(href) > 60 ? "..." : "", need, cat->max_header);
	return -EINVAL;
}

/* b, named href, as the last blob: 0 with *out set, or -ENOMEM. */
static int append(struct catalog *cat, struct blob *b, char *href, const struct served **out)
{
	struct served *n = realloc(cat->blobs, (cat->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	cat->blobs = n;
	n += cat->n;
	*n = (struct served){ .b = *b, .href = href };
	if (build_head(n) < 0)
		return -ENOMEM; /* n is not counted: b and href are still the caller's */
	cat->n++;
	*out = n;
	return 0;
}

int catalog_add(struct catalog *cat, struct blob *b, const struct served **out, const char **why)
{
	/* The name as its URL path: any byte of a name is safe on a terminal so. */
	char *href = listing_href(b->name);
	int rc;

	*why = strerror(ENOMEM);
	if (!href)
		return -ENOMEM;
	if (catalog_find(cat, b->name)) {
		*why = say(cat, "another BLOB is already served at %s", href);
		rc = -EEXIST;
	} else if ((rc = fits(cat, href, why)) == 0 && (rc = append(cat, b, href, out)) == 0) {
		return 0;
	}
	free(href);
	return rc;
}

int catalog_index(struct catalog *cat, const char **why)
{
	struct listing_item *items = calloc(cat->n, sizeof(*items));
	size_t len = 0;
	char *page = NULL;
	int rc = -ENOMEM;

	*why = strerror(ENOMEM);
	if (items) {
		for (size_t i = 0; i < cat->n; i++)
			items[i] = (struct listing_item){ cat->blobs[i].b.name,
							  cat->blobs[i].b.size,
							  cat->blobs[i].b.type };
		page = listing_html(items, cat->n, &len);
	}
	if (page) {
		rc = blob_from_mem(&cat->index.b, "", "text/html; charset=utf-8", page, len);
		if (rc < 0)
			*why = NULL; /* blob.c said why */
		else if ((rc = build_head(&cat->index)) < 0)
			*why = strerror(-rc);
	}
	free(items);
	free(page);
	return rc;
}

static void served_free(struct served *sv)
{
	free(sv->href);
	free(sv->head);
	blob_free(&sv->b);
}

void catalog_free(struct catalog *cat)
{
	for (size_t i = 0; i < cat->n; i++)
		served_free(&cat->blobs[i]);
	free(cat->blobs);
	served_free(&cat->index);
	free(cat->why);
	*cat = (struct catalog){ .index = { .b = { .fd = -1 } } };
}
