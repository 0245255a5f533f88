/* The member names --extract and --unpack go by (src.h): pure string work,
 * apart from the archive readers so that the fuzzer can hold it alone. */
#include "src.h"

#include <stdlib.h>
#include <string.h>

const char *archive_member_plain(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return name;
}

char *archive_member_name(const char *path)
{
	char *out = malloc(strlen(path) + 1), *o = out;

	if (!out || path[0] == '/') {
		free(out);
		return NULL;
	}
	while (*path) {
		size_t n = strcspn(path, "/");
		if (n == 2 && path[0] == '.' && path[1] == '.') {
			free(out);
			return NULL;
		}
		if (n && !(n == 1 && path[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, path, n);
			o += n;
		}
		path += n + (path[n] == '/');
	}
	*o = 0;
	if (o == out) {
		free(out);
		return NULL;
	}
	return out;
}
