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

struct tree_child tree_find(size_t n, unsigned k, size_t i)
{
	size_t base = 0;

	for (;;) { /* i < n: each pass goes one level down, into a smaller list */
		size_t m = n < k ? n : k, q = n / m, r = n % m;
		struct tree_child c;
		if (i < r * (q + 1))
			c = (struct tree_child){ i / (q + 1) * (q + 1), q + 1 };
		else
			c = (struct tree_child){ r * (q + 1) + (i - r * (q + 1)) / q * q, q };
		if (i == c.first)
			return (struct tree_child){ base + c.first, c.count };
		base += c.first + 1;
		i -= c.first + 1;
		n = c.count - 1;
	}
}
