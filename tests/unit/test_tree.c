/* The split every node of a relay tree makes, and how deep it goes. */
#include "tap.h"
#include "tree.h"

static void splits(void)
{
	struct tree_child c[4];

	ok(tree_split(15, 2, c) == 2 && c[0].first == 0 && c[0].count == 8 && c[1].first == 8 &&
		   c[1].count == 7,
	   "15 hosts, K 2: groups of 8 and 7, the first larger");
	ok(tree_split(8, 1, c) == 1 && c[0].first == 0 && c[0].count == 8,
	   "K 1: one group of all, a pipeline");
	ok(tree_split(3, 4, c) == 3 && c[2].first == 2 && c[2].count == 1,
	   "fewer hosts than K: a child each");
	ok(tree_split(0, 4, c) == 0, "no hosts: no children");
	size_t total = 0, n = tree_split(1001, 4, c);
	for (size_t i = 0; i < n; i++)
		total += c[i].count;
	ok(n == 4 && total == 1001 && c[0].count == 251 && c[3].count == 250 &&
		   c[3].first + c[3].count == 1001,
	   "1001 hosts, K 4: every host in exactly one group, sizes 251 and 250");
}

static void depths(void)
{
	ok(tree_depth(0, 2) == 0 && tree_depth(1, 2) == 1, "0 hosts: 0 deep; 1 host: 1");
	ok(tree_depth(8, 1) == 8 && tree_depth(1025, 1) == 1025, "a pipeline is as deep as long");
	ok(tree_depth(15, 2) == 4 && tree_depth(3, 2) == 2 && tree_depth(2, 2) == 1,
	   "K 2: 15 hosts 4 deep, 3 hosts 2, 2 hosts 1");
	ok(tree_depth(200, 4) == 4, "200 hosts, K 4: 4 deep");
}

/* tree_find against a walk of the splits themselves, every host of many
 * shapes. */
static void walk(size_t base, size_t n, unsigned k, struct tree_child *where)
{
	struct tree_child c[8];
	size_t m = tree_split(n, k, c);

	for (size_t j = 0; j < m; j++) {
		where[base + c[j].first] = (struct tree_child){ base + c[j].first, c[j].count };
		walk(base + c[j].first + 1, c[j].count - 1, k, where);
	}
}

static void finds(void)
{
	static struct tree_child where[300];
	int all = 1;

	for (unsigned k = 1; k <= 8; k++)
		for (size_t n = 1; n <= 300; n += n < 40 ? 1 : 37) {
			walk(0, n, k, where);
			for (size_t i = 0; i < n; i++) {
				struct tree_child f = tree_find(n, k, i);
				all &= f.first == where[i].first && f.count == where[i].count;
			}
		}
	ok(all, "tree_find gives every host's own group, as the splits below the root do");
	struct tree_child f = tree_find(15, 2, 9);
	ok(f.first == 9 && f.count == 3, "15 hosts, K 2: host 9 heads hosts 9 to 11");
	f = tree_find(8, 1, 5);
	ok(f.first == 5 && f.count == 3, "a pipeline of 8: host 5 heads the last 3");
}

int main(void)
{
	splits();
	depths();
	finds();
	return tap_done();
}
