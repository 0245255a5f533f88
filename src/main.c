/* ringcast: read a stream once, deliver it to many TCP peers at once. */
#include "cli.h"
#include "fanout.h"
#include "loop.h"
#include "output.h"
#include "serve.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* Standard input, output and error that were closed get /dev/null, so that
 * no descriptor ringcast opens (the ring's memfd, a socket) takes their
 * number and has messages or a stream written into it.  - then refuses a
 * standard output that was closed. */
static void std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			exit(2);
		if (fd == STDOUT_FILENO)
			output_stdout_closed = 1;
	}
}

int main(int argc, char **argv)
{
	struct config cfg;

	std_fds();
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
