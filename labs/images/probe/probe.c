/*
 * probe: one HTTP GET from inside a container's network namespace, for an
 * engine whose published ports are on another machine (a remote engine).
 * phaselab runs it as `docker run --network container:<id> phaselab/probe
 * PORT PATH TIMEOUT_MS`; it must see what a client on the engine's host sees
 * through the published port, so it connects to the container's own network
 * address (the first IPv4 address that is not loopback), never 127.0.0.1:
 * a service that listens on localhost only does not answer there either.
 *
 * Prints the answer as it came (status line, headers, body), at most
 * PROBE_MAX bytes, and exits 0.  Otherwise exits with curl's numbers, so the
 * harness words the failure as it does for its own request: 7 could not
 * connect, 28 timed out, 52 empty reply, 56 the connection failed while
 * reading; 2 usage; the reason on stderr.
 *
 * Built static (gcc -static -Os) into a FROM scratch image by make-images.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define PROBE_MAX ((64 << 10) + (16 << 10)) /* the harness keeps 64 KiB of body */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(int code, const char *what, const char *why)
{
	fprintf(stderr, "%s: %s\n", what, why);
	return code;
}

/* The namespace's first non-loopback IPv4 address; 127.0.0.1 when it has none. */
static struct in_addr own_address(void)
{
	struct ifaddrs *ifs, *i;
	struct in_addr a = { htonl(INADDR_LOOPBACK) };

	if (getifaddrs(&ifs) != 0)
		return a;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		break;
	}
	freeifaddrs(ifs);
	return a;
}

/* Wait for fd to be ready for events until deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return 1; /* let the next call report the error */
	}
}

int main(int argc, char **argv)
{
	static char buf[PROBE_MAX];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[1024], addr[INET_ADDRSTRLEN], where[64];
	long port, timeout_ms;
	long long deadline;
	size_t got = 0;
	int fd, err = 0, n;
	socklen_t len = sizeof(err);

	if (argc != 4 || (port = strtol(argv[1], NULL, 10)) <= 0 || port > 65535 || argv[2][0] != '/' ||
	    (timeout_ms = strtol(argv[3], NULL, 10)) <= 0)
		return fail(2, "usage", "probe PORT /PATH TIMEOUT_MS");
	deadline = now_ms() + timeout_ms;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr = own_address();
	inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	snprintf(where, sizeof(where), "%s port %ld", addr, port);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%ld\r\nUser-Agent: phaselab\r\n"
		     "Connection: close\r\n\r\n", argv[2], port);
	if (n < 0 || (size_t)n >= sizeof(req))
		return fail(2, "usage", "the path is too long");

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return fail(7, "socket", strerror(errno));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		return fail(7, where, strerror(errno));
	if (!wait_fd(fd, POLLOUT, deadline))
		return fail(28, where, "connection timed out");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err)
		return fail(7, where, strerror(err ? err : errno));
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t w = write(fd, req + off, (size_t)n - off);

		if (w < 0 && errno == EAGAIN) {
			if (!wait_fd(fd, POLLOUT, deadline))
				return fail(28, where, "timed out sending the request");
			continue;
		}
		if (w < 0)
			return fail(55, where, strerror(errno));
		off += (size_t)w;
	}
	for (;;) {
		ssize_t r;

		if (!wait_fd(fd, POLLIN, deadline)) {
			if (got)
				break; /* an answer came; a slow body is cut at the deadline */
			return fail(28, where, "no answer within the timeout");
		}
		r = read(fd, got < sizeof(buf) ? buf + got : buf, got < sizeof(buf) ? sizeof(buf) - got : sizeof(buf));
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			if (got)
				break;
			return fail(56, where, strerror(errno));
		}
		if (r == 0)
			break;
		if (got < sizeof(buf))
			got += (size_t)r; /* beyond the bound: read and drop, the answer is whole */
	}
	close(fd);
	if (!got)
		return fail(52, where, "empty reply from server");
	fwrite(buf, 1, got, stdout);
	return 0;
}
