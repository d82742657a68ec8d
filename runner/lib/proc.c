#include "lib/proc.h"
#include "lib/interrupt.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* SIGTERM, then SIGKILL after this long: shorter when the user is waiting on Ctrl-C */
#define KILL_GRACE_MS 2000
#define INTERRUPT_GRACE_MS 500

extern char **environ;

/*
 * The environment for the child, built before fork(): after fork() only
 * async-signal-safe calls are allowed (libcurl may have threads running).
 * Returns a new NULL-terminated vector; the strings are borrowed from environ
 * and p->env.
 */
static char **build_env(const struct proc *p)
{
	size_t n = 0, extra = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	if (p->env)
		while (p->env[extra])
			extra++;
	envp = xcalloc(n + extra + 1, sizeof(*envp));
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nlen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int overridden = 0;

		for (size_t j = 0; j < extra && !overridden; j++) {
			const char *e = p->env[j], *eeq = strchr(e, '=');
			size_t elen = eeq ? (size_t)(eeq - e) : strlen(e);
			overridden = elen == nlen && !strncmp(e, environ[i], nlen);
		}
		if (!overridden)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < extra; j++)
		if (strchr(p->env[j], '='))
			envp[k++] = (char *)p->env[j];
	envp[k] = NULL;
	return envp;
}

static void child_exec(const struct proc *p, char **envp, int out_fd, int err_fd, int exec_fd,
		       pid_t parent)
{
	sigset_t none;
	int devnull, e;

	setpgid(0, 0);
	/*
	 * Our children are in their own group, so a terminal's Ctrl-C reaches
	 * only us and we clean up; but if we are SIGKILLed, they must not live
	 * on (an orphaned `docker build` would create an image after the next
	 * run's cleanup).
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(PROC_INTERRUPTED);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	if (!p->dir || chdir(p->dir) == 0)
		execvpe(p->argv[0], (char *const *)p->argv, envp);
	e = errno;
	if (write(exec_fd, &e, sizeof(e)) < 0) {
		/* nothing more we can report */
	}
	_exit(e == ENOENT ? PROC_NOT_FOUND : PROC_CANNOT_EXEC);
}

int proc_start(struct proc *p)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, execp[2] = { -1, -1 };
	int file_fd = -1;
	char **envp;
	pid_t pid, parent;

	p->status = -1;
	p->exec_errno = 0;
	p->timed_out = p->interrupted = 0;
	p->out_dropped = p->err_dropped = 0;
	p->started = now_ms();

	if (pipe2(execp, O_CLOEXEC) < 0)
		return -1;
	if (p->out_path) {
		file_fd = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (file_fd < 0)
			goto fail;
	} else if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		goto fail;
	}

	envp = build_env(p);
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		free(envp);
		goto fail;
	}
	if (pid == 0) {
		if (file_fd >= 0)
			child_exec(p, envp, file_fd, file_fd, execp[1], parent);
		child_exec(p, envp, outp[1], errp[1], execp[1], parent);
	}
	free(envp);
	/* both sides set the group, so neither a kill nor a signal can race it */
	setpgid(pid, pid);
	p->pid = pid;
	close(execp[1]);
	p->fd_exec = execp[0];
	if (file_fd >= 0) {
		close(file_fd);
	} else {
		close(outp[1]);
		close(errp[1]);
		p->fd_out = outp[0];
		p->fd_err = errp[0];
	}
	return 0;

fail:
	{
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (outp[i] >= 0) close(outp[i]);
			if (errp[i] >= 0) close(errp[i]);
			if (execp[i] >= 0) close(execp[i]);
		}
		if (file_fd >= 0)
			close(file_fd);
		errno = e;
	}
	return -1;
}

/* Keep the head in sb and a sliding tail in tail, each at most half the cap. */
static void capture(struct strbuf *sb, struct strbuf *tail, size_t *dropped,
		    size_t cap, const char *buf, size_t len)
{
	size_t half = cap / 2;

	if (sb->len < half) {
		size_t take = half - sb->len < len ? half - sb->len : len;
		strbuf_add(sb, buf, take);
		buf += take;
		len -= take;
	}
	if (!len)
		return;
	strbuf_add(tail, buf, len);
	if (tail->len > 2 * half) {
		size_t cut = tail->len - half;
		memmove(tail->buf, tail->buf + cut, half);
		strbuf_setlen(tail, half);
		*dropped += cut;
	}
}

static void capture_finish(struct strbuf *sb, struct strbuf *tail, size_t *dropped, size_t cap)
{
	size_t half = cap / 2;

	if (tail->len > half) {
		*dropped += tail->len - half;
		memmove(tail->buf, tail->buf + tail->len - half, half);
		strbuf_setlen(tail, half);
	}
	if (*dropped)
		strbuf_addf(sb, "\n[... %zu bytes of output left out ...]\n", *dropped);
	strbuf_add(sb, tail->buf, tail->len);
	strbuf_release(tail);
}

static void kill_group(struct proc *p, int sig)
{
	if (p->pid > 0)
		kill(-p->pid, sig);
}

/*
 * Wait for the child while draining pipes (if any).  Terminates the group at
 * the deadline or on interrupt.  Returns when the child was reaped.
 */
static void wait_loop(struct proc *p, size_t cap)
{
	long long deadline = p->timeout_ms > 0 ? p->started + p->timeout_ms : 0;
	long long kill_at = 0, drain_until = 0;
	int reaped = 0, wstatus = 0, idle_ms = 1;
	char buf[65536];

	while (!reaped || p->fd_out >= 0 || p->fd_err >= 0) {
		struct pollfd pfd[3];
		int n = 0, wait_ms = 50;
		long long now = now_ms();

		if (!reaped) {
			pid_t r = waitpid(p->pid, &wstatus, WNOHANG);
			if (r == p->pid) {
				reaped = 1;
				/* a grandchild may hold the pipes open: read what is there, not forever */
				drain_until = now + 500;
			}
		}
		if (reaped && drain_until && now >= drain_until) {
			if (p->fd_out >= 0) { close(p->fd_out); p->fd_out = -1; }
			if (p->fd_err >= 0) { close(p->fd_err); p->fd_err = -1; }
			break;
		}
		if (!p->interrupted && !p->timed_out) {
			if (interrupt_pending() && !p->uninterruptible) {
				p->interrupted = 1;
			} else if (deadline && now >= deadline) {
				p->timed_out = 1;
			}
			if (p->interrupted || p->timed_out) {
				kill_group(p, SIGTERM);
				kill_at = now + (p->interrupted ? INTERRUPT_GRACE_MS : KILL_GRACE_MS);
			}
		}
		if (kill_at && now >= kill_at) {
			kill_group(p, SIGKILL);
			kill_at = 0;
		}
		/*
		 * The child exited but a grandchild may still hold the pipes:
		 * once we are past the deadline, stop reading them.
		 */
		if (reaped && (p->timed_out || p->interrupted) && !kill_at) {
			if (p->fd_out >= 0) { close(p->fd_out); p->fd_out = -1; }
			if (p->fd_err >= 0) { close(p->fd_err); p->fd_err = -1; }
			break;
		}

		if (p->fd_out >= 0)
			pfd[n++] = (struct pollfd){ .fd = p->fd_out, .events = POLLIN };
		if (p->fd_err >= 0)
			pfd[n++] = (struct pollfd){ .fd = p->fd_err, .events = POLLIN };
		if (!p->interrupted && !p->uninterruptible && interrupt_fd() >= 0)
			pfd[n++] = (struct pollfd){ .fd = interrupt_fd(), .events = POLLIN };
		if (reaped && n == 0)
			break;
		/*
		 * No pipe left to read: the child is exiting (its pipes close just
		 * before it can be reaped) or writes to a file.  Look again soon,
		 * then less often: a fixed 50 ms here cost every engine call up to
		 * 50 ms, a third of a quick phase's whole run.
		 */
		if (p->fd_out < 0 && p->fd_err < 0) {
			wait_ms = idle_ms;
			idle_ms = idle_ms * 2 > 50 ? 50 : idle_ms * 2;
		}
		if (deadline && !p->timed_out && deadline - now < wait_ms)
			wait_ms = (int)(deadline - now > 0 ? deadline - now : 0);
		if (poll(pfd, (nfds_t)n, wait_ms) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			ssize_t r;
			int is_out;

			if (pfd[i].fd == interrupt_fd() || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			is_out = pfd[i].fd == p->fd_out;
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r > 0) {
				if (is_out)
					capture(&p->out, &p->out_tail, &p->out_dropped, cap, buf, (size_t)r);
				else
					capture(&p->err, &p->err_tail, &p->err_dropped, cap, buf, (size_t)r);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(pfd[i].fd);
				if (is_out)
					p->fd_out = -1;
				else
					p->fd_err = -1;
			}
		}
	}
	if (!reaped) {
		kill_group(p, SIGKILL);
		while (waitpid(p->pid, &wstatus, 0) < 0 && errno == EINTR)
			;
	}
	/* leave nothing of the group behind, even a daemonised grandchild */
	kill_group(p, SIGKILL);

	if (p->interrupted)
		p->status = PROC_INTERRUPTED;
	else if (p->timed_out)
		p->status = PROC_TIMED_OUT;
	else if (WIFEXITED(wstatus))
		p->status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		p->status = 128 + WTERMSIG(wstatus);
	else
		p->status = 1;
}

static void read_back_file(struct proc *p, size_t cap)
{
	char buf[65536];
	ssize_t r;
	int fd = open(p->out_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		capture(&p->out, &p->out_tail, &p->out_dropped, cap, buf, (size_t)r);
	close(fd);
}

int proc_finish(struct proc *p)
{
	size_t cap = p->max_capture ? p->max_capture : PROC_DEFAULT_CAPTURE;
	int e = 0;

	wait_loop(p, cap);
	if (p->out_path)
		read_back_file(p, cap);
	capture_finish(&p->out, &p->out_tail, &p->out_dropped, cap);
	capture_finish(&p->err, &p->err_tail, &p->err_dropped, cap);
	if (p->fd_exec >= 0) {
		if (read(p->fd_exec, &e, sizeof(e)) == (ssize_t)sizeof(e))
			p->exec_errno = e;
		close(p->fd_exec);
		p->fd_exec = -1;
	}
	p->elapsed_ms = (long)(now_ms() - p->started);
	p->pid = 0;
	return p->status;
}

int proc_poll(struct proc *p)
{
	siginfo_t si;

	if (p->pid <= 0)
		return 1;
	memset(&si, 0, sizeof(si));
	/* WNOWAIT: only look; proc_finish reaps it and collects the output */
	if ((p->timeout_ms > 0 && now_ms() >= p->started + p->timeout_ms) ||
	    (interrupt_pending() && !p->uninterruptible) ||
	    (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == p->pid)) {
		proc_finish(p);
		return 1;
	}
	return 0;
}

int proc_run(struct proc *p)
{
	if (proc_start(p) < 0) {
		p->exec_errno = errno;
		p->status = -1;
		return -1;
	}
	return proc_finish(p);
}

void proc_release(struct proc *p)
{
	strbuf_release(&p->out);
	strbuf_release(&p->err);
	strbuf_release(&p->out_tail);
	strbuf_release(&p->err_tail);
}

void proc_describe(const struct proc *p, struct strbuf *sb)
{
	for (const char *const *a = p->argv; *a; a++) {
		if (a != p->argv)
			strbuf_addch(sb, ' ');
		if (**a && !strpbrk(*a, " \t\n'\"\\$`*?[]{}()<>|&;#~"))
			strbuf_addstr(sb, *a);
		else {
			strbuf_addch(sb, '\'');
			for (const char *c = *a; *c; c++) {
				if (*c == '\'')
					strbuf_addstr(sb, "'\\''");
				else
					strbuf_addch(sb, *c);
			}
			strbuf_addch(sb, '\'');
		}
	}
}
