#include "lib/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t pending;
static int pipefd[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	char c = 1;

	pending = sig;
	if (pipefd[1] >= 0 && write(pipefd[1], &c, 1) < 0) {
		/* full pipe: a wake-up is already queued */
	}
	errno = saved;
}

int interrupt_install(void)
{
	struct sigaction sa;

	if (pipefd[0] >= 0)
		return 0;
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: blocking calls return EINTR so loops notice at once */
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

int interrupt_pending(void)
{
	return pending;
}

int interrupt_fd(void)
{
	return pipefd[0];
}

int interrupt_sleep_ms(long ms)
{
	struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };

	if (pending)
		return 1;
	if (ms <= 0)
		return 0;
	if (poll(&pfd, pipefd[0] >= 0 ? 1 : 0, (int)ms) < 0 && errno != EINTR)
		return pending ? 1 : 0;
	return pending ? 1 : 0;
}

int interrupt_after_fork(void)
{
	int fds[2];

	if (pipefd[0] < 0)
		return 0;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	close(pipefd[0]);
	close(pipefd[1]);
	pipefd[0] = fds[0];
	pipefd[1] = fds[1];
	return 0;
}

void interrupt_clear(void)
{
	char buf[64];

	pending = 0;
	if (pipefd[0] >= 0)
		while (read(pipefd[0], buf, sizeof(buf)) > 0)
			;
}
