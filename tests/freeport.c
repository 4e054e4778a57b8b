/*
 * freeport - print TCP port numbers that are currently free on 127.0.0.1.
 *
 * Usage: freeport [COUNT]
 *
 * Binds COUNT (default 1, at most 64) TCP sockets to 127.0.0.1 port 0, asks
 * the kernel which port each one got, prints them one per line and exits,
 * which releases them again.  All sockets are held open at the same time, so
 * the ports printed by one call are distinct.  A port is only free at the
 * moment it is printed: whoever uses it must cope with losing the race to
 * another process (tests/lib.sh retries).
 *
 * Test helper for the mqmon test suite; not installed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 64

int main(int argc, char **argv)
{
	int fds[MAX_PORTS];
	unsigned ports[MAX_PORTS];
	long count = 1;
	long i;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [COUNT]\n", argv[0]);
		return 2;
	}
	if (argc == 2) {
		char *end;
		count = strtol(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || count < 1 || count > MAX_PORTS) {
			fprintf(stderr, "%s: COUNT must be 1..%d\n", argv[0], MAX_PORTS);
			return 2;
		}
	}

	for (i = 0; i < count; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof sa;

		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0) {
			perror("freeport: socket");
			return 1;
		}
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = 0;
		if (bind(fds[i], (struct sockaddr *)&sa, sizeof sa) != 0) {
			perror("freeport: bind 127.0.0.1:0");
			return 1;
		}
		if (getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0) {
			perror("freeport: getsockname");
			return 1;
		}
		ports[i] = ntohs(sa.sin_port);
	}
	for (i = 0; i < count; i++) {
		printf("%u\n", ports[i]);
		close(fds[i]);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
