/* The DEST list of the command line: DEST arguments, --dests-from files,
 * the warning for a destination given twice and the error for an output given twice (declared in cli.h). */
#include "cli.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void push_dest(struct config *cfg, const struct dest_spec *d)
{
	if (cfg->ndests == cfg->dests_cap) {
		size_t cap = cfg->dests_cap ? 2 * cfg->dests_cap : 16;
		struct dest_spec *n = realloc(cfg->dests, cap * sizeof(*n));
		if (!n)
			cli_usage_error("%s", strerror(ENOMEM));
		cfg->dests = n;
		cfg->dests_cap = cap;
	}
	cfg->dests[cfg->ndests++] = *d;
}

void cli_add_dest(struct config *cfg, const char *arg)
{
	struct dest_spec d;
	const char *why;

	if (parse_dest(arg, &d, &why) < 0)
		cli_usage_error("destination '%s': %s", arg, why);
	push_dest(cfg, &d);
}

void cli_dests_from(struct config *cfg, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;

	if (!f)
		cli_usage_error("--dests-from %s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		struct dest_spec d;
		const char *why;
		int rc = parse_dest_line(line, &d, &why);

		n++;
		if (rc < 0)
			cli_usage_error("--dests-from %s: line %u: destination '%s': %s", path, n,
					line + strspn(line, " \t"), why);
		if (rc > 0)
			push_dest(cfg, &d);
	}
	if (ferror(f))
		cli_usage_error("--dests-from %s: %s", path, strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
}

static int by_address(const void *a, const void *b)
{
	const struct dest_spec *x = *(struct dest_spec *const *)a,
			       *y = *(struct dest_spec *const *)b;
	int c = (int)x->kind - (int)y->kind;

	if (c || x->kind == DEST_STDOUT)
		return c;
	if (x->kind == DEST_FILE)
		return strcmp(x->path, y->path);
	c = strcasecmp(x->host, y->host);
	return c ? c : strcmp(x->port, y->port);
}

void cli_warn_duplicates(const struct config *cfg)
{
	const struct dest_spec **v = malloc(cfg->ndests * sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < cfg->ndests; i++)
		v[i] = &cfg->dests[i];
	qsort(v, cfg->ndests, sizeof(*v), by_address);
	for (size_t i = 0, j; i < cfg->ndests; i = j) {
		for (j = i + 1; j < cfg->ndests && by_address(&v[i], &v[j]) == 0; j++)
			;
		if (j - i > 1 && cfg->tree)
			cli_usage_error(
				"--tree: %s is given %zu times; a tree reaches each host once",
				v[i]->text, j - i);
		if (j - i > 1 && (v[i]->kind == DEST_FILE || v[i]->kind == DEST_STDOUT))
			cli_usage_error("output %s is given %zu times; one writer per output",
					v[i]->text, j - i);
		if (j - i > 1)
			warnmsg("destination %s is given %zu times; it will get the stream %zu times",
				v[i]->text, j - i, j - i);
	}
	free(v);
}
