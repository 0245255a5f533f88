/*
 * Relay trees (--tree K): how a list of hosts is shared out.  A node with
 * hosts to reach splits them into at most K contiguous groups, as equal as
 * they can be (the first ones one host larger); the first host of each
 * group is its child, and the rest of the group is that child's own list,
 * which it splits the same way.  K = 1 is a pipeline through every host
 * (Kascade's shape); a larger K a tree about log_K(n) deep.  Pure: the same
 * split at the root and at every relay, so a plan is only a list.
 */
#ifndef RINGCAST_TREE_H
#define RINGCAST_TREE_H

#include <stddef.h>

#define TREE_MAX_DEPTH 1024 /* hosts one after the other, at most */
/* --stall-timeout in a tree unless given: a relay that stops reading
 * without closing is bypassed within seconds, not a minute (the wait for a
 * verdict, which covers the receiver's syncs, keeps the 60 s default). */
#define TREE_STALL_MS 5000
/* A tree's receiver's ring unless --ring-size is given (or the stream is
 * smaller): measured on a pipeline of 16 hosts at 200 Mbit/s, a 64 MiB
 * ring's set-up (its pages populated and pinned for io_uring, ~50 ms)
 * delayed every hop, 1.16 times line rate against 1.08 with 8 MiB
 * (BENCHMARKS.md).  A larger ring widens a relay's repair window only. */
#define TREE_RING (8u << 20)

/* One child of a split: hosts[first] is the child, hosts[first + 1] to
 * hosts[first + count - 1] its own list. */
struct tree_child {
	size_t first, count;
};

/* Split n hosts for fan-out k (>= 1) into out[] (room for k): the number of
 * children, min(k, n). */
size_t tree_split(size_t n, unsigned k, struct tree_child *out);

/* How many hosts deep the tree of n hosts under fan-out k is (0 for none):
 * the longest chain of relays a byte crosses, counting the last host. */
size_t tree_depth(size_t n, unsigned k);

/* Where host i (< n) of a list of n split under fan-out k sits, at
 * whatever depth: its group, as the node above it gives it (hosts[first]
 * is host i, the rest of the group its own list). */
struct tree_child tree_find(size_t n, unsigned k, size_t i);

#endif
