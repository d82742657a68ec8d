/*
 * proc: the one way phaselab starts a process.
 *
 * A process is described by an argv vector (argv[0] looked up on PATH; never
 * a shell), extra environment entries, a working directory and a deadline.
 * It runs in its own process group, with stdin on /dev/null.  Its stdout and
 * stderr are captured through a poll() loop that drains both pipes, so a child
 * that fills one pipe while we wait on the other cannot deadlock us.
 *
 * Capture is bounded: each stream keeps its first and last max_capture/2
 * bytes with a marker between them, so megabytes of build output cost a
 * fixed amount of memory and still show how the output began and ended.
 *
 * Exit status contract (like timeout(1)): the child's exit code; 124 when the
 * deadline passed (the group got SIGTERM, then SIGKILL after a grace period);
 * 126 when the program exists but could not be run, 127 when it was not found
 * (exec_errno then says why); 128+N when killed by signal N; 130 when
 * phaselab itself was interrupted (SIGINT/SIGTERM) and killed the child.
 *
 * Usage:
 *	struct proc p = PROC_INIT;
 *	const char *argv[] = { "docker", "version", NULL };
 *	p.argv = argv;
 *	p.timeout_ms = 10000;
 *	if (proc_run(&p) == 0) use(p.out.buf);
 *	proc_release(&p);
 */
#ifndef PHASELAB_PROC_H
#define PHASELAB_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/strbuf.h"

#define PROC_TIMED_OUT 124
#define PROC_CANNOT_EXEC 126
#define PROC_NOT_FOUND 127
#define PROC_INTERRUPTED 130

struct proc {
	/* set by the caller */
	const char *const *argv;
	const char *const *env;  /* extra "NAME=value" entries (NULL-terminated) or NULL;
				    "NAME" alone removes NAME from the environment */
	const char *dir;         /* working directory, or NULL */
	long timeout_ms;         /* 0: no deadline */
	size_t max_capture;      /* per stream; 0 means PROC_DEFAULT_CAPTURE */
	/*
	 * When set, stdout and stderr are written to this file instead of pipes
	 * (and read back into out by proc_finish): for a process that runs in
	 * the background while we do other work, which nobody drains meanwhile.
	 */
	const char *out_path;
	/* 1: keep running when phaselab is interrupted (the cleanup's own calls) */
	int uninterruptible;

	/* results */
	struct strbuf out;
	struct strbuf err;
	size_t out_dropped;      /* bytes left out of the middle of out */
	size_t err_dropped;
	int status;
	int exec_errno;          /* errno of a failed exec, else 0 */
	int timed_out;
	int interrupted;
	long elapsed_ms;

	/* private */
	pid_t pid;
	int fd_out, fd_err, fd_exec;
	long long started;
	struct strbuf out_tail, err_tail;
};

#define PROC_DEFAULT_CAPTURE (8u << 20)
#define PROC_INIT { .fd_out = -1, .fd_err = -1, .fd_exec = -1, \
	.out = STRBUF_INIT, .err = STRBUF_INIT, .out_tail = STRBUF_INIT, .err_tail = STRBUF_INIT }

/* Start the process.  Returns 0, or -1 when it could not even be forked (errno). */
int proc_start(struct proc *p);
/* Wait for a started process, enforcing the deadline.  Returns p->status. */
int proc_finish(struct proc *p);
/*
 * For a process started with out_path (nobody needs to drain its pipes):
 * 1 when it has ended (it is then finished as by proc_finish, or killed at
 * its deadline or on an interrupt), 0 while it runs.  For a worker pool.
 */
int proc_poll(struct proc *p);
/* proc_start + proc_finish.  Returns p->status, or -1 when fork failed. */
int proc_run(struct proc *p);
/* Free the captured output; p can be reused after PROC_INIT-style reset. */
void proc_release(struct proc *p);

/* "docker build -t x ." for messages: argv joined with spaces, quoted where needed. */
void proc_describe(const struct proc *p, struct strbuf *sb);

#endif
