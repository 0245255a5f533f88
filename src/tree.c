/* Relay trees: the split every node makes (tree.h). */
#include "tree.h"

size_t tree_split(size_t n, unsigned k, struct tree_child *out)
{
	size_t m = n < k ? n : k, first = 0;

	for (size_t i = 0; i < m; i++) {
		out[i].first = first;
		out[i].count = n / m + (i < n % m);
		first += out[i].count;
	}
	return m;
}

size_t tree_depth(size_t n, unsigned k)
{
	size_t depth = 0;

	/* The first group is the largest: follow it down. */
	while (n > 0) {
		size_t m = n < k ? n : k;
		n = n / m + (n % m != 0) - 1;
		depth++;
	}
	return depth;
}
