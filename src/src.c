/* SOURCE as given on the command line, to the kind that reads it. */
#include "src.h"

#include <string.h>

int source_open(struct source *s, const char *spec, const char **why)
{
	*why = NULL;
	if (!strncmp(spec, "tcp://", 6))
		return src_tcp_open(s, spec, why);
	if (!strncmp(spec, "tcp-listen://", 13))
		return src_tcp_listen_open(s, spec, why);
	return src_fd_open(s, spec, why);
}
