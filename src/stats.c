#include "stats.h"
#include "cli.h"
#include "dest.h"
#include "tx.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {
	[DEST_IDLE] = "idle",           [DEST_WAITING] = "waiting",
	[DEST_CONNECTING] = "connecting", [DEST_STREAMING] = "streaming",
	[DEST_DRAINING] = "draining",   [DEST_DONE] = "done",
	[DEST_FAILED] = "failed",
};

/* s as a JSON string, or null. */
static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

/* "2026-11-26T15:04:05.123Z" */
static void json_time(FILE *f, const struct timespec *t)
{
	struct tm tm;
	char buf[32];

	gmtime_r(&t->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "\"%s.%03ldZ\"", buf, t->tv_nsec / 1000000);
}

static void write_dest(FILE *f, const struct dest *d, const char *transport)
{
	char why[160];

	fputs("    {\"address\": ", f);
	json_str(f, d->subscriber ? d->name + strlen("subscriber ") : d->name);
	fprintf(f, ", \"kind\": \"%s\", \"state\": \"%s\", \"bytes\": %llu, \"joined_at\": %llu, "
		   "\"transport\": \"%s\", \"connect_tries\": %u, \"error\": ",
		d->subscriber ? "subscriber" : "push", state_names[d->state],
		(unsigned long long)(d->rd.sent - d->joined), (unsigned long long)d->joined,
		d->switched ? "copy" : transport, d->subscriber ? 0 : d->tries + d->connected);
	json_str(f, *dest_error(d, why, sizeof(why)) ? why : NULL);
	fputc('}', f);
}

static void write_run(FILE *f, const struct stats_run *r)
{
	const struct tx_counters *n = r->tx;
	double secs = (double)(r->end.tv_sec - r->start.tv_sec) +
		      (double)(r->end.tv_nsec - r->start.tv_nsec) / 1e9;

	fprintf(f, "{\n  \"version\": \"%s\",\n  \"mode\": \"%s\",\n  \"transport\": \"%s\",\n",
		RINGCAST_VERSION, r->mode, r->transport);
	fprintf(f, "  \"ring\": {\"size\": %zu, \"locked\": %s},\n", r->ring_size,
		r->ring_locked ? "true" : "false");
	fputs("  \"source\": {\"name\": ", f);
	json_str(f, r->source);
	fprintf(f, ", \"bytes\": %llu, \"size\": ", (unsigned long long)r->source_bytes);
	if (r->source_size >= 0)
		fprintf(f, "%lld", (long long)r->source_size);
	else
		fputs("null", f);
	fputs(", \"error\": ", f);
	json_str(f, r->source_error);
	fputs("},\n  \"start\": ", f);
	json_time(f, &r->start);
	fputs(",\n  \"end\": ", f);
	json_time(f, &r->end);
	fprintf(f, ",\n  \"duration_s\": %.3f,\n  \"interrupted\": %s,\n  \"exit_status\": %d,\n", secs,
		r->interrupted ? "true" : "false", r->exit_status);
	fprintf(f, "  \"sends\": {\"calls\": %llu, \"bytes\": %llu, \"zerocopy\": %llu, "
		   "\"completions\": %llu, \"copied_by_kernel\": %llu, \"copied_after_enobufs\": %llu, "
		   "\"switched_to_copy\": %llu},\n",
		(unsigned long long)n->sends, (unsigned long long)n->bytes,
		(unsigned long long)n->zc_sends, (unsigned long long)n->zc_done,
		(unsigned long long)n->zc_copied, (unsigned long long)n->fallback,
		(unsigned long long)n->switched);
	fprintf(f, "  \"destinations\": {\"total\": %zu, \"done\": %zu, \"failed\": %zu},\n",
		r->ndests, r->done, r->failed);
	fputs("  \"dests\": [", f);
	for (size_t i = 0; i < r->ndests; i++) {
		fputs(i ? ",\n" : "\n", f);
		write_dest(f, r->dests[i], r->transport);
	}
	fputs(r->ndests ? "\n  ]\n}\n" : "]\n}\n", f);
}

int stats_write(const char *path, const struct stats_run *r)
{
	int to_stderr = !strcmp(path, "-");
	FILE *f = to_stderr ? stderr : fopen(path, "w");

	if (!f) {
		errmsg("--stats %s: %s", path, strerror(errno));
		return -1;
	}
	write_run(f, r);
	if (to_stderr)
		return fflush(f) == 0 ? 0 : -1;
	if (ferror(f) | fclose(f)) {
		errmsg("--stats %s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
