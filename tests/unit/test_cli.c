/* cli_parse and cli_free: the table's plain kinds land in their fields, and
 * a second parse in one process works (the DEST list's capacity is the
 * config's, and cli_free resets it). */
#include "cli.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NDESTS 40 /* past the list's first capacity, 16 */

/* argv: "ringcast", the options, then NDESTS DESTs 10.0.0.N:port. */
static void parse(struct config *cfg, const char *const *opts, int nopts, unsigned port)
{
	static char dests[NDESTS][48];
	char *argv[1 + 16 + NDESTS];
	int argc = 0;

	argv[argc++] = "ringcast";
	for (int i = 0; i < nopts; i++)
		argv[argc++] = (char *)opts[i];
	for (int i = 0; i < NDESTS; i++) {
		snprintf(dests[i], sizeof(dests[i]), "10.0.0.%d:%u", i + 1, port);
		argv[argc++] = dests[i];
	}
	cli_parse(cfg, argc, argv);
}

static int dests_are(const struct config *cfg, unsigned port)
{
	char want[48];

	if (cfg->ndests != NDESTS || cfg->dests_cap < NDESTS)
		return 0;
	for (size_t i = 0; i < cfg->ndests; i++) {
		snprintf(want, sizeof(want), "10.0.0.%zu:%u", i + 1, port);
		if (strcmp(cfg->dests[i].text, want))
			return 0;
	}
	return 1;
}

int main(void)
{
	static const char *const first[] = { "-q",   "-i",          "/dev/null", "--retry",
					     "3",    "-s",          "1.5M",      "--stall-timeout",
					     "2.5s", "--ring-size", "1M" };
	static const char *const second[] = { "-q", "-j", "2", "--connect-timeout", "0" };
	struct config cfg;

	parse(&cfg, first, 11, 9000);
	ok(dests_are(&cfg, 9000), "first parse: %d DESTs", NDESTS);
	ok(cfg.retries == 3, "--retry into an unsigned");
	ok(cfg.size == 1572864, "-s into an int64_t");
	ok(cfg.stall_ms == 2500, "--stall-timeout in ms");
	ok(cfg.ring_size == 1 << 20 && cfg.ring_given, "--ring-size, and that it was given");
	ok(cfg.quiet == 1 && cfg.progress == 0, "-q, and no progress line then");
	ok(!strcmp(cfg.input, "/dev/null"), "-i");
	cli_free(&cfg);
	ok(!cfg.dests && !cfg.ndests && !cfg.dests_cap, "cli_free resets the DEST list");

	parse(&cfg, second, 5, 9001);
	ok(dests_are(&cfg, 9001), "second parse in one process: %d DESTs", NDESTS);
	ok(cfg.threads == 2 && cfg.connect_ms == 0, "the second parse reads its own options");
	ok(cfg.retries == 0 && cfg.size == -1 && !cfg.ring_given && !strcmp(cfg.input, "-"),
	   "and none of the first's");
	cli_free(&cfg);
	return tap_done();
}
