/* libFuzzer target for the command-line parsers: sizes, durations, the
 * address forms of every place that takes one (DEST, -l, tcp:// and
 * tcp-listen:// sources), --allow blocks, and --dests-from lines.  Each gets
 * the input as a string of exactly its length, so ASan sees any read past
 * the end; the checks are what each parser promises about what it accepts. */
#include "net.h"
#include "parse.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_spec(const struct dest_spec *d, int listen)
{
	unsigned long port = strtoul(d->port, NULL, 10);

	if (d->kind == DEST_FILE || d->kind == DEST_STDOUT) {
		/* an output: a path (never empty) in its text, no host */
		if (!d->text || d->host ||
		    (d->kind == DEST_FILE &&
		     (!d->path || !*d->path || d->path < d->text ||
		      d->path > d->text + strlen(d->text))) ||
		    (d->kind == DEST_STDOUT && strcmp(d->text, "-")))
			abort();
		free(d->text);
		return;
	}
	if (!d->text || (!listen && !d->host) || port > 65535 || (!listen && port == 0))
		abort();
	if (strpbrk(d->text, " \t\n\v\f\r")) /* no address has white space */
		abort();
	free(d->host);
	free(d->text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct dest_spec d;
	struct cidr c;
	const char *why;
	uint64_t v;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (parse_size(s, &v) == 0 && strlen(s) == 0)
		abort();
	if (parse_duration_ms(s, &v) == 0 && v > 1000000000000000ull)
		abort();
	/* 0 means something of its own: only zeros may come to it */
	if (parse_duration_ms(s, &v) == 0 && v == 0 && strpbrk(s, "123456789"))
		abort();
	for (int use = ADDR_DEST; use <= ADDR_FRAMED_LISTEN_SOURCE; use++) {
		int port_alone = use == ADDR_LISTEN || use == ADDR_TCP_LISTEN_SOURCE ||
			use == ADDR_FRAMED_LISTEN_SOURCE;

		why = NULL;
		if (parse_addr(s, (enum addr_use)use, &d, &why) == 0)
			check_spec(&d, port_alone);
		else if (!why || !*why)
			abort(); /* every refusal says why */
	}
	if (parse_cidr(s, &c, &why) == 0 &&
	    !((c.family == AF_INET && c.bits <= 32) || (c.family == AF_INET6 && c.bits <= 128)))
		abort();
	if (parse_dest_line(s, &d, &why) == 1)
		check_spec(&d, 0);
	why = NULL;
	if (parse_dest(s, &d, &why) == 0)
		check_spec(&d, 0);
	else if (!why || !*why)
		abort();
	free(s);
	return 0;
}
