#include "stats.h"
#include "fleet.h"
#include "frame.h"
#include "parse.h"
#include "text.h"
#include "util.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
	[DEST_IDLE] = "idle",
	[DEST_WAITING] = "waiting",
	[DEST_CONNECTING] = "connecting",
	[DEST_STREAMING] = "streaming",
	[DEST_DRAINING] = "draining",
	[DEST_DONE] = "done",
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
	char why[FRAME_REASON_MAX + 160];

	fputs("    {\"address\": ", f);
	json_str(f, d->subscriber ? d->name + strlen("subscriber ") : d->name);
	fprintf(f,
		", \"kind\": \"%s\", \"state\": \"%s\", \"bytes\": %llu, \"joined_at\": %llu, "
		"\"transport\": \"%s\", \"connect_tries\": %u, \"error\": ",
		d->subscriber                    ? "subscriber"
			: dest_is_output(d)      ? "output"
			: d->kind == DEST_FRAMED ? "framed"
						 : "push",
		state_names[d->state], (unsigned long long)(d->rd.sent - d->joined),
		(unsigned long long)d->joined,
		dest_is_output(d)     ? "write"
			: d->switched ? "copy"
				      : transport,
		d->subscriber ? 0 : d->tries + d->connected);
	json_str(f, *dest_error(d, why, sizeof(why)) ? why : NULL);
	if (d->kind == DEST_FRAMED) /* its receiver's verdict */
		fprintf(f, ", \"verified\": %s", d->state == DEST_DONE ? "true" : "false");
	fputc('}', f);
}

/* The JSON "dests" list, one destination at a time (crew_walk). */
struct dest_list {
	FILE *f;
	const char *transport;
	size_t n;
};

static void count_dest(const struct dest *d, void *ctx)
{
	(void)d;
	((struct dest_list *)ctx)->n++;
}

static void list_dest(const struct dest *d, void *ctx)
{
	struct dest_list *l = ctx;

	fputs(l->n++ ? ",\n" : "\n", l->f);
	write_dest(l->f, d, l->transport);
}

/* A tree's "hosts": every host below this node, with its verdict. */
static void write_hosts(FILE *f, const struct fleet *fl)
{
	fputs(",\n  \"hosts\": [", f);
	for (size_t i = 0; i < fl->n; i++) {
		const struct frame_host *h = &fl->h[i];
		fputs(i ? ",\n    {\"address\": " : "\n    {\"address\": ", f);
		json_str(f, h->address);
		fprintf(f,
			", \"state\": \"%s\", \"verified\": %s, \"bytes\": %llu, "
			"\"resumed_from\": %llu, \"error\": ",
			h->code == FRAME_VERIFIED             ? "done"
				: h->code == FRAME_UNANSWERED ? "unanswered"
							      : "failed",
			h->code == FRAME_VERIFIED ? "true" : "false", (unsigned long long)h->bytes,
			(unsigned long long)h->resumed_from);
		if (h->code == FRAME_VERIFIED)
			json_str(f, NULL);
		else {
			char e[FRAME_REASON_MAX + 32];
			snprintf(e, sizeof(e), "%s%s%s", frame_code_name(h->code),
				 *h->reason ? ": " : "", h->reason);
			json_str(f, e);
		}
		fputc('}', f);
	}
	fputs("\n  ]", f);
}

static void write_run(FILE *f, const struct run_view *r)
{
	const struct tx_counters *n = &r->tx;
	double secs = (double)(r->end.tv_sec - r->start.tv_sec) +
		(double)(r->end.tv_nsec - r->start.tv_nsec) / 1e9;
	struct dest_list all = { .f = f, .transport = r->tx_ops->name };

	fprintf(f, "{\n  \"version\": \"%s\",\n  \"mode\": \"%s\",\n  \"transport\": \"%s\",\n",
		RINGCAST_VERSION, r->mode, all.transport);
	fprintf(f,
		"  \"ring\": {\"size\": %zu, \"in_use\": %zu, \"locked\": %s, \"file_pages\": %s},\n",
		r->ring_size, r->ring_in_use, r->ring_locked ? "true" : "false",
		r->file_pages ? "true" : "false");
	fputs("  \"source\": {\"name\": ", f);
	json_str(f, r->source);
	fprintf(f, ", \"bytes\": %llu, \"size\": ", (unsigned long long)r->prog.in);
	if (r->source_size >= 0)
		fprintf(f, "%lld", (long long)r->source_size);
	else
		fputs("null", f);
	fputs(", \"error\": ", f);
	json_str(f, r->source_error);
	fputs("},\n  \"sha256\": ", f);
	json_str(f, r->sha256);
	fputs(",\n  \"start\": ", f);
	json_time(f, &r->start);
	fputs(",\n  \"end\": ", f);
	json_time(f, &r->end);
	fprintf(f, ",\n  \"duration_s\": %.3f,\n  \"interrupted\": %s,\n  \"exit_status\": %d,\n",
		secs, r->interrupted ? "true" : "false", r->exit_status);
	fprintf(f,
		"  \"sends\": {\"calls\": %llu, \"bytes\": %llu, \"zerocopy\": %llu, "
		"\"completions\": %llu, \"copied_by_kernel\": %llu, \"copied_after_enobufs\": %llu, "
		"\"switched_to_copy\": %llu},\n",
		(unsigned long long)n->sends, (unsigned long long)n->bytes,
		(unsigned long long)n->zc_sends, (unsigned long long)n->zc_done,
		(unsigned long long)n->zc_copied, (unsigned long long)n->fallback,
		(unsigned long long)n->switched);
	r->walk(r->walk_arg, count_dest, &all);
	fprintf(f, "  \"destinations\": {\"total\": %zu, \"done\": %zu, \"failed\": %zu},\n", all.n,
		r->prog.done, r->prog.failed);
	fputs("  \"dests\": [", f);
	size_t total = all.n;
	all.n = 0;
	r->walk(r->walk_arg, list_dest, &all);
	fputs(total ? "\n  ]" : "]", f);
	if (r->fleet && r->fleet->n)
		write_hosts(f, r->fleet);
	fputs("\n}\n", f);
}

int stats_write(const char *path, const struct run_view *r)
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

void stats_status(const struct run_view *v)
{
	char in[32], lag[32], subs[40] = "";

	if (v->show_subs)
		snprintf(subs, sizeof(subs), "%zu subscriber%s, ", v->subs, plural(v->subs));
	notice("status: %s in, %s%zu connecting, %zu waiting to retry, %zu streaming, "
	       "%zu draining, %zu done, %zu failed, slowest lag %s",
	       fmt_bytes(v->prog.in, in, sizeof(in)), subs, v->state[DEST_CONNECTING],
	       v->state[DEST_WAITING], v->state[DEST_STREAMING], v->state[DEST_DRAINING],
	       v->prog.done, v->prog.failed, fmt_bytes(v->prog.lag, lag, sizeof(lag)));
}

void stats_summary(const struct run_view *v)
{
	struct tx sum = { .ops = v->tx_ops, .n = v->tx };
	char in[32];

	info("%s from %s to %zu of %zu destination%s in %.2f s",
	     fmt_bytes(v->prog.in, in, sizeof(in)), v->source, v->prog.done, v->dests,
	     plural(v->dests), v->secs);
	if (v->turned)
		info("turned away %zu subscriber%s (--max-subscribers)", v->turned,
		     plural(v->turned));
	if (v->refused)
		warnmsg("refused %zu connection%s from addresses not --allow'ed", v->refused,
			plural(v->refused));
	tx_report(&sum);
	if (v->prog.failed)
		errmsg("%zu of %zu destination%s did not receive the whole stream", v->prog.failed,
		       v->dests, plural(v->dests));
	if (v->interrupted && v->cut)
		errmsg("interrupted after %s of the source: no destination has the whole stream",
		       in);
	if (v->few_subs)
		errmsg("the stream started with fewer than %zu subscriber%s (--wait-timeout)",
		       v->few_subs, plural(v->few_subs));
	if (v->dests == 0)
		errmsg("nobody received the stream: no DEST was given and no subscriber connected%s",
		       v->refused ? " from an --allow'ed address" : "");
}

void stats_digest(const struct run_view *v)
{
	if (!v->sha256)
		return;
	/* The escaped name whole (a byte becomes at most four), and the
	 * leading backslash by which sha256sum -c knows an escaped line. */
	size_t len = 4 * strlen(v->input) + 1;
	char *name = malloc(len), cut[256];
	/* Out of memory: escaped all the same, and cut (no raw control byte
	 * ever reaches a terminal). */
	const char *shown = name ? text_escape(v->input, name, len)
				 : text_escape(v->input, cut, sizeof(cut));

	fprintf(stderr, "%sSHA256 (%s) = %s\n", strcmp(shown, v->input) ? "\\" : "", shown,
		v->sha256);
	free(name);
}
