/* A crew as a node of a relay tree (crew.h): the root's hosts and their
 * checks, the children a plan gives it, and repair: adopting the children
 * of a relay that failed, resuming a host a child asked it to, and asking
 * its own sender when its ring no longer holds what a host needs. */
#include "crew.h"
#include "cli.h"
#include "framed.h"
#include "net.h"
#include "ring.h"
#include "src.h"
#include "tree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One address of a tree's host, "ADDRESS:PORT", and which host it is. */
struct host_addr {
	char addr[64];
	size_t host;
};

/* sa as net_fmt_addr gives it, an IPv4-mapped IPv6 address ([::ffff:A]:P)
 * as the IPv4 one (A:P), which it is. */
static void unmapped(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[64];

	net_fmt_addr(sa, a, sizeof(a));
	if (!strncmp(a, "[::ffff:", 8) && strchr(a, '.') && strchr(a, ']'))
		snprintf(buf, len, "%.*s%s", (int)(strchr(a, ']') - a - 8), a + 8,
			 strchr(a, ']') + 1);
	else
		snprintf(buf, len, "%s", a);
}

static int by_addr(const void *a, const void *b)
{
	return strcmp(((const struct host_addr *)a)->addr, ((const struct host_addr *)b)->addr);
}

/* Two hosts of a tree that are one (127.0.0.1:P and 127.1:P, a name and
 * its address): every address each resolves to here, sorted, must be
 * another's.  A name that does not resolve here (it may inside the fleet)
 * is left to its relay.  0, or -1 with *why. */
static int distinct_hosts(struct crew *c, const char **why)
{
	const struct config *cfg = c->cfg;
	struct host_addr *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (size_t i = 0; i < cfg->ndests && rc == 0; i++) {
		struct addrinfo *res;
		const struct dest_spec *s = &cfg->dests[i];
		if (net_resolve(s->host, s->port, cfg->family, &res))
			continue;
		for (struct addrinfo *ai = res; ai && rc == 0; ai = ai->ai_next) {
			struct host_addr *more = n < cap
				? v
				: realloc(v, (cap = 2 * cap + 16) * sizeof(*v));
			if (!more) {
				rc = fail_why(c->why, sizeof(c->why), why, "%s", strerror(ENOMEM));
				break;
			}
			v = more;
			v[n].host = i;
			unmapped(ai->ai_addr, v[n++].addr, sizeof(v->addr));
		}
		freeaddrinfo(res);
	}
	if (rc == 0 && n)
		qsort(v, n, sizeof(*v), by_addr);
	for (size_t i = 1; rc == 0 && i < n; i++)
		if (!strcmp(v[i].addr, v[i - 1].addr) && v[i].host != v[i - 1].host)
			rc = fail_why(
				c->why, sizeof(c->why), why,
				"--tree: %s and %s are one host (%s); a tree reaches each host once",
				cfg->dests[MIN(v[i].host, v[i - 1].host)].text,
				cfg->dests[MAX(v[i].host, v[i - 1].host)].text, v[i].addr);
	free(v);
	return rc;
}

/* Whether sa is an address of this machine: one a socket can be bound to. */
static int is_local(const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage ss;
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	memcpy(&ss, sa, len);
	((struct sockaddr_in *)&ss)->sin_port = 0; /* sin6_port is at the same place */
	ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return ok;
}

/* Whether any address host:port (resolved here) is this machine's and one
 * a listener on lhost (NULL: every address) takes. */
static int on_this_host(const char *host, const char *port, const char *lhost, int family)
{
	struct addrinfo *res, *lres = NULL;
	int mine = 0;

	if (net_resolve(host, port, family, &res))
		return 0;
	if (lhost && net_resolve(lhost, port, family, &lres))
		lres = NULL;
	for (struct addrinfo *ai = res; ai && !mine; ai = ai->ai_next) {
		char a[64], b[64];
		mine = !lhost && is_local(ai->ai_addr, ai->ai_addrlen);
		net_fmt_addr(ai->ai_addr, a, sizeof(a));
		for (struct addrinfo *li = lres; li && !mine; li = li->ai_next)
			mine = !strcmp(a, net_fmt_addr(li->ai_addr, b, sizeof(b)));
	}
	freeaddrinfo(res);
	if (lres)
		freeaddrinfo(lres);
	return mine;
}

/* A host of the tree that is the root itself: the port of the root's own
 * listener (-i tcp-listen://, ringcast-listen://, -l) on an address of this
 * machine.  Sending to it would feed the root its own stream.  0, or -1
 * with *why. */
static int not_self(struct crew *c, const char **why)
{
	const struct config *cfg = c->cfg;
	struct dest_spec in = { 0 };
	const char *w;
	int rc = 0;

	if (parse_addr(cfg->input, ADDR_TCP_LISTEN_SOURCE, &in, &w) < 0 &&
	    parse_addr(cfg->input, ADDR_FRAMED_LISTEN_SOURCE, &in, &w) < 0)
		in = (struct dest_spec){ 0 };
	for (size_t i = 0; i < cfg->ndests && rc == 0; i++) {
		const struct dest_spec *s = &cfg->dests[i];
		int by_in = !strcmp(s->port, in.port),
		    by_l = cfg->have_listen && !strcmp(s->port, cfg->listen.port);
		const char *mine = by_in ? cfg->input : by_l ? "-l" : NULL;
		if (mine && strcmp(s->port, "0") &&
		    on_this_host(s->host, s->port, by_in ? in.host : cfg->listen.host, cfg->family))
			rc = fail_why(
				c->why, sizeof(c->why), why,
				"--tree: %s is this host's own listener (%s); the root sends to "
				"other hosts",
				s->text, mine);
	}
	free(in.host);
	free(in.text);
	return rc;
}

int crew_tree_hosts(struct crew *c, const char **why)
{
	const struct config *cfg = c->cfg;

	if (!(c->tree_hosts = calloc(cfg->ndests, sizeof(*c->tree_hosts))))
		return fail_why(c->why, sizeof(c->why), why, "%s", strerror(ENOMEM));
	for (size_t i = 0; i < cfg->ndests; i++)
		c->tree_hosts[i] = cfg->dests[i].text + strlen("ringcast://");
	return distinct_hosts(c, why) < 0 || not_self(c, why) < 0 ? -1 : 0;
}

/* A child of this node in a tree: connect to host ("HOST:PORT") with the
 * plan for the n hosts after it.  0, or -1 with *why. */
static int child_init(struct crew *c, struct dest *d, unsigned k, const char *const *hosts,
		      size_t n, int strict, const char **why)
{
	struct dest_spec s;
	const char *w;
	char b[160];
	int rc;

	*d = (struct dest){ .io = { .fd = -1 }, .kind = DEST_FRAMED };
	if (!(d->owned = malloc(strlen("ringcast://") + strlen(hosts[0]) + 1)) ||
	    !(d->plan = malloc(FRAME_FIELDS_MAX)))
		return fail_why(c->why, sizeof(c->why), why, "%s", strerror(ENOMEM));
	sprintf(d->owned, "ringcast://%s", hosts[0]);
	d->name = d->owned;
	if (parse_dest(d->owned, &s, &w) < 0)
		return fail_why(c->why, sizeof(c->why), why, "plan host '%s': %s", hosts[0], w);
	rc = net_resolve(s.host, s.port, c->cfg->family, &d->addrs);
	if (rc)
		net_resolve_why(rc, s.host, c->cfg->family, b, sizeof(b));
	free(s.host);
	free(s.text);
	/* The root's own DESTs are refused before anything is sent; a host a
	 * plan names fails alone (its subtree is adopted, as for a dead one). */
	if (rc && (strict || !(d->unresolved = strdup(b))))
		return fail_why(c->why, sizeof(c->why), why, "%s: %s", d->name, b);
	ssize_t len = frame_plan_encode(k, hosts + 1, n, d->plan, FRAME_FIELDS_MAX);
	if (len < 0)
		return fail_why(c->why, sizeof(c->why), why, "%s: the plan of its %zu hosts: %s",
				d->name, n,
				len == -ENOSPC ? "too large for a header" : "malformed");
	d->plan_len = (size_t)len;
	d->depth_below = tree_depth(n, k);
	return 0;
}

static int add_child(struct crew *c, unsigned k, const char *const *hosts, size_t n,
		     const char **why)
{
	return child_init(c, &c->push[c->npush++], k, hosts, n, c->cfg->tree != 0, why);
}

void crew_free_dest_parts(struct dest *d)
{
	if (d->addrs)
		freeaddrinfo(d->addrs);
	framed_free(d);
	free(d->plan);
	free(d->owned);
	free(d->real);
	free(d->unresolved);
}

/* A plan's hosts, as strings. */
struct plan_list {
	unsigned k;
	size_t n;
	char (*host)[FRAME_HOST_MAX + 1];
	const char **hp; /* host[i], for the functions that take a list */
};

static void plan_free(struct plan_list *p)
{
	free(p->host);
	free(p->hp);
	*p = (struct plan_list){ 0 };
}

/* Read the plan (len bytes at plan, NULL: none) into p.  0, or -1 when
 * there is none, it names no host, or memory ran out. */
static int plan_list(struct plan_list *p, const uint8_t *plan, size_t len)
{
	const char *why;
	size_t off = 0;

	*p = (struct plan_list){ 0 };
	if (!plan || frame_plan_parse(plan, len, &p->k, &p->n, &why) < 0 || p->n == 0 ||
	    !(p->host = calloc(p->n, sizeof(*p->host))) ||
	    !(p->hp = calloc(p->n, sizeof(*p->hp)))) {
		plan_free(p);
		return -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		frame_plan_host(plan, &off, p->host[i]);
		p->hp[i] = p->host[i];
	}
	return 0;
}

/* Take over the group of n hosts at hp (hp[0] the host, the rest its own
 * list under fan-out k), which `from` had: a new destination that resumes
 * it (RESUME), holding the ring from its oldest byte until the host says
 * where it is; it connects at the next crew_sync.  One this host resumes
 * already is not taken twice.  0, or -1 (said why). */
static int adopt_one(struct crew *c, const char *from, unsigned k, const char *const *hp, size_t n)
{
	for (size_t i = 0; i < c->nadopted; i++)
		if (dest_live(c->adopted[i]) &&
		    !strcmp(c->adopted[i]->name + strlen("ringcast://"), hp[0]))
			return -1;
	struct dest **more = realloc(c->adopted, (c->nadopted + 1) * sizeof(*more));
	struct dest *a = more ? malloc(sizeof(*a)) : NULL;
	const char *why = strerror(ENOMEM);

	if (more)
		c->adopted = more;
	if (!a || child_init(c, a, k, hp, n - 1, 0, &why) < 0 ||
	    shard_add(&c->shards[0], a, ring_oldest(&c->shards[0].view)) < 0) {
		errmsg("%s: cannot take over %s: %s", from, hp[0], why);
		if (a)
			crew_free_dest_parts(a);
		free(a);
		return -1;
	}
	a->resume = 1;
	c->adopted[c->nadopted++] = a;
	c->to_connect = 1;
	return 0;
}

void crew_adopt(struct crew *c, struct dest *d)
{
	struct plan_list p;

	/* A relay cut off from its own sender is not the one to take over: its
	 * child was dropped because of that, and a live host resumes them. */
	if ((c->source && c->source->lost) || c->no_repair ||
	    plan_list(&p, d->plan, d->plan_len) < 0)
		return;
	struct tree_child *kids = calloc(p.k, sizeof(*kids));
	size_t m = kids ? tree_split(p.n, p.k, kids) : 0;
	for (size_t i = 0; i < m; i++)
		if (adopt_one(c, d->name, p.k, p.hp + kids[i].first, kids[i].count) == 0)
			warnmsg("%s failed; %s resumes from this host", d->name,
				c->adopted[c->nadopted - 1]->name);
	d->adopted_out = m > 0;
	free(kids);
	plan_free(&p);
}

void crew_asked(struct crew *c, struct dest *d, const char *host, uint64_t offset)
{
	struct plan_list p;
	size_t i = 0;

	if (plan_list(&p, d->plan, d->plan_len) == 0)
		while (i < p.n && strcmp(p.host[i], host))
			i++;
	if (i == p.n) { /* an ask names no host the plan does not */
		if (d->fr->strays++ == 0)
			warnmsg("%s asked this host to resume %s, which is not in its plan; ignored "
				"(and any more such)",
				d->name, host);
	} else {
		struct tree_child g = tree_find(p.n, p.k, i);
		if (adopt_one(c, d->name, p.k, p.hp + g.first, g.count) == 0)
			warnmsg("%s cannot resume ringcast://%s at byte %llu; it resumes from this host",
				d->name, host, (unsigned long long)offset);
	}
	plan_free(&p);
}

int crew_hand_up(struct crew *c, struct dest *d, uint64_t offset)
{
	struct source *s = c->source;

	if (!s || !s->ops || !s->ops->ask)
		return -ENOSYS;
	int rc = s->ops->ask(s, d->name + strlen("ringcast://"), offset);
	if (rc == 0)
		warnmsg("%s: this host's ring no longer holds byte %llu; asked its sender to resume it",
			d->name, (unsigned long long)offset);
	return rc;
}

int crew_add_tree(struct crew *c, unsigned k, const char *const *hosts, size_t n, const char **why)
{
	struct tree_child *kids = calloc(k, sizeof(*kids));
	size_t m = kids ? tree_split(n, k, kids) : 0;
	struct dest *push = kids ? realloc(c->push, (c->npush + m + 1) * sizeof(*push)) : NULL;

	if (!push) {
		free(kids);
		return fail_why(c->why, sizeof(c->why), why, "%s", strerror(ENOMEM));
	}
	c->push = push;
	c->opts.tree = 1;
	if (!c->cfg->stall_set && c->opts.stall_ms) {
		c->opts.stall_ms = TREE_STALL_MS;
		c->opts.stall_step_ms = TREE_STALL_STEP_MS;
		snprintf(c->opts.stall_why, sizeof(c->opts.stall_why),
			 "stalled: accepted nothing for %.1f s (a tree's --stall-timeout)",
			 TREE_STALL_MS / 1000.0);
	}
	int rc = 0;
	for (size_t i = 0; i < m && rc == 0; i++)
		rc = add_child(c, k, hosts + kids[i].first, kids[i].count - 1, why);
	free(kids);
	return rc;
}

void crew_tree_source(struct crew *c, struct source *s)
{
	c->source = s;
	if (c->cfg->tree && s->seekable && s->fd >= 0) { /* its own: the pump closes s->fd */
		c->opts.refill_fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
		c->opts.refill_base = s->seek_base;
	}
}
