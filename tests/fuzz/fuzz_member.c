/* libFuzzer target for the archive member names: what --extract compares
 * and what --unpack serves a member as.  A name it accepts must never reach
 * outside the archive: not absolute, no "." or ".." component, no empty one. */
#include "src.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	const char *p = archive_member_plain(s);
	if (p < s || p > s + size || (p[0] == '.' && p[1] == '/'))
		abort();
	char *name = archive_member_name(s);
	if (name) {
		if (!*name || name[0] == '/')
			abort();
		for (const char *c = name; *c;) {
			size_t n = strcspn(c, "/");
			if (n == 0 || (n == 1 && c[0] == '.') ||
			    (n == 2 && c[0] == '.' && c[1] == '.'))
				abort();
			c += n + (c[n] == '/');
			if (c[-1] == '/' && !*c)
				abort(); /* a trailing slash: an empty last component */
		}
		free(name);
	}
	free(s);
	return 0;
}
