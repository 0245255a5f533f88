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
/* ... and for a relay, 2 s more per level of hosts below it: when a host
 * stalls, each relay above it stops reading as soon as its ring is full,
 * all within a moment, and the checks run once a second: without a margin
 * per level its parent's clock and its own raced (a pipeline with 64 KiB
 * rings dropped the healthy relay above a stalled one 3 times of 3). */
#define TREE_STALL_STEP_MS 2000
/* A tree's receiver's ring unless --ring-size is given (or the stream is
 * smaller): measured on a pipeline of 16 hosts at 200 Mbit/s when a ring
 * was set up whole (its pages populated and pinned for io_uring, ~50 ms
 * for 64 MiB, every hop), 1.16 times line rate against 1.08 with 8 MiB
 * (BENCHMARKS.md).  A ring now grows only when it must, and io_uring pins
 * it a slot at a time (ring.h, tx_uring.c), so a larger one costs little
 * more; it widens a relay's repair window, which the tests go by. */
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
