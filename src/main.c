/* ringcast: read a stream once, deliver it to many TCP peers at once. */
#include "cli.h"
#include "fanout.h"
#include "loop.h"
#include "serve.h"
#include "util.h"

#include <signal.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct config cfg;

	cli_parse(&cfg, argc, argv);

	/* A peer that goes away must not kill us; its send fails with EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* Delivered through a signalfd once the event loop runs; until then
	 * SIGINT and SIGTERM end the process as usual. */
	loop_block_signals();

	int status = cfg.serve ? serve_run(&cfg) : fanout_run(&cfg);
	cli_free(&cfg);
	return status;
}
