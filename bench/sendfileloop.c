/* The floor for a page-sharing fan-out: for each 256 KiB of the input,
 * sendfile() it completely to every destination in turn, blocking.  No copy
 * at the sender; the pages are shared with the socket buffers.
 * Usage: sendfileloop INPUT PORT...  (destinations on 127.0.0.1) */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define STEP (256 << 10)

int main(int argc, char **argv)
{
	if (argc < 3)
		return fprintf(stderr, "usage: sendfileloop INPUT PORT...\n"), 2;
	int in = open(argv[1], O_RDONLY), n = argc - 2;
	int *fd = calloc((size_t)n, sizeof(int));
	struct stat st;

	if (in < 0 || fstat(in, &st) < 0)
		return perror("sendfileloop: input"), 1;
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)atoi(argv[i + 2])),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd[i], (void *)&sa, sizeof(sa)) < 0)
			return perror("sendfileloop: connect"), 1;
	}
	for (off_t pos = 0; pos < st.st_size; pos += STEP) {
		size_t len = st.st_size - pos < STEP ? (size_t)(st.st_size - pos) : STEP;
		for (int i = 0; i < n; i++)
			for (off_t off = pos; off < pos + (off_t)len;) {
				ssize_t w = sendfile(fd[i], in, &off,
						     (size_t)(pos + (off_t)len - off));
				if (w <= 0)
					return perror("sendfileloop: sendfile"), 1;
			}
	}
	for (int i = 0; i < n; i++)
		close(fd[i]);
	return 0;
}
