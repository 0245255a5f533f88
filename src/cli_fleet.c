/* --tree and --key-file: the fleet's plan checked before anything is sent,
 * and its key loaded (declared in cli.h). */
#include "cli.h"
#include "frame.h"
#include "tree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MIN 16   /* bytes: 128 bits, the least an HMAC key should have */
#define KEY_MAX 4096 /* bytes: more adds nothing to HMAC-SHA256 */

static void load_key(struct config *cfg)
{
	const char *path = cfg->key_file;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		cli_usage_error("--key-file %s: %s", path, strerror(errno));
	if (!(cfg->key = malloc(KEY_MAX + 1)))
		cli_usage_error("--key-file %s: %s", path, strerror(ENOMEM));
	n = read(fd, cfg->key, KEY_MAX + 1);
	close(fd);
	if (n < 0)
		cli_usage_error("--key-file %s: %s", path, strerror(errno));
	if (n < KEY_MIN || n > KEY_MAX)
		cli_usage_error("--key-file %s: a key of %zd bytes; it takes %d to %d (for example "
				"head -c 32 /dev/urandom > %s)",
				path, n, KEY_MIN, KEY_MAX, path);
	if (st.st_mode & 077)
		warnmsg("--key-file %s: others may read it (mode %03o); chmod 600 it", path,
			(unsigned)(st.st_mode & 0777));
	cfg->keylen = (size_t)n;
}

/* The plan the largest first-level group carries, in bytes: its fan-out,
 * then every host of it but its head. */
static size_t largest_plan(const struct config *cfg)
{
	struct tree_child *c = calloc(cfg->tree, sizeof(*c));
	size_t m = c ? tree_split(cfg->ndests, cfg->tree, c) : 0, most = 0;

	if (!c)
		cli_usage_error("--tree: %s", strerror(ENOMEM));
	for (size_t i = 0; i < m; i++) {
		size_t len = 2;
		for (size_t j = c[i].first + 1; j < c[i].first + c[i].count; j++)
			len += 2 + strlen(cfg->dests[j].text + strlen("ringcast://"));
		most = MAX(most, len);
	}
	free(c);
	return most;
}

void cli_check_fleet(struct config *cfg)
{
	if (cfg->key_file)
		load_key(cfg);
	if (!cfg->tree)
		return;
	if (cfg->ndests == 0)
		cli_usage_error("--tree relays through ringcast:// DESTs, and none is given");
	for (size_t i = 0; i < cfg->ndests; i++)
		if (cfg->dests[i].kind != DEST_FRAMED)
			cli_usage_error("--tree relays through ringcast receivers: '%s' is not "
					"ringcast://HOST:PORT",
					cfg->dests[i].text);
	if (cfg->ndests > FRAME_HOSTS_MAX)
		cli_usage_error("--tree: %zu hosts; a tree reports on at most %d", cfg->ndests,
				FRAME_HOSTS_MAX);
	size_t depth = tree_depth(cfg->ndests, cfg->tree);
	if (depth > TREE_MAX_DEPTH)
		cli_usage_error("--tree %u over %zu hosts is %zu hosts deep, more than %d; a "
				"larger K makes it shallower",
				cfg->tree, cfg->ndests, depth, TREE_MAX_DEPTH);
	/* Room in the header for everything else it may carry. */
	size_t plan = largest_plan(cfg),
	       room = FRAME_FIELDS_MAX - (FRAME_HEADER_MAX - FRAME_FIXED) - 8 - FRAME_MAC_LEN;
	if (plan > room)
		cli_usage_error("--tree %u: the plan for the largest subtree is %zu bytes, more "
				"than a header holds (%zu); a larger K makes subtrees smaller",
				cfg->tree, plan, room);
}
