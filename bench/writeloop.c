/* The floor for a copying fan-out: read the input in 256 KiB chunks and
 * write() each chunk completely to every destination in turn, blocking.
 * Usage: writeloop INPUT PORT...  (destinations on 127.0.0.1) */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[256 << 10];

int main(int argc, char **argv)
{
	if (argc < 3)
		return fprintf(stderr, "usage: writeloop INPUT PORT...\n"), 2;
	int in = open(argv[1], O_RDONLY), n = argc - 2;
	int *fd = calloc((size_t)n, sizeof(int));

	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)atoi(argv[i + 2])),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd[i], (void *)&sa, sizeof(sa)) < 0)
			return perror("writeloop: connect"), 1;
	}
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (int i = 0; i < n; i++)
			for (ssize_t off = 0; off < r;) {
				ssize_t w = write(fd[i], buf + off, (size_t)(r - off));
				if (w < 0)
					return perror("writeloop: write"), 1;
				off += w;
			}
	}
	for (int i = 0; i < n; i++)
		close(fd[i]);
	return 0;
}
