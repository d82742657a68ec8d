/*
 * Tests for runner/proc.c, the one way phaselab starts a process: the exit
 * status contract of proc.h (like timeout(1)), the deadline and the process
 * group, bounded capture of both streams without deadlock, the environment,
 * the working directory, the out_path mode, proc_describe and interrupts.
 *
 * The children are ordinary programs (sh, sleep, head, tr, cat, pwd): no
 * container engine.  Time bounds are generous: they check behaviour (the
 * deadline is enforced, nobody waits for a 10 s sleep), not speed, and must
 * hold under valgrind too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/interrupt.h"
#include "lib/proc.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

/* A scratch folder for the whole group, made by setup and removed by teardown. */
static char tmpdir[1024];

static void path_in_tmp(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/phaselab-proc-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	/* a script without execute permission: 126 */
	path_in_tmp(path, sizeof(path), "not-executable");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, "#!/bin/sh\necho ran\n", 19) != 19 || close(fd) < 0)
		return -1;
	if (setenv("PHASELAB_T_KEEP", "keep", 1) < 0 || setenv("PHASELAB_T_GONE", "gone", 1) < 0 ||
	    setenv("PHASELAB_T_OVER", "old", 1) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char path[PATH_MAX];

	(void)state;
	path_in_tmp(path, sizeof(path), "not-executable");
	unlink(path);
	path_in_tmp(path, sizeof(path), "both.log");
	unlink(path);
	path_in_tmp(path, sizeof(path), "big.log");
	unlink(path);
	return rmdir(tmpdir);
}

/* Run argv with a deadline; the caller releases p. */
static int run_argv(struct proc *p, const char *const *argv, long timeout_ms)
{
	p->argv = argv;
	p->timeout_ms = timeout_ms;
	return proc_run(p);
}

static int run_sh(struct proc *p, const char *script, long timeout_ms)
{
	const char *argv[] = { "sh", "-c", script, NULL };
	int rc = run_argv(p, argv, timeout_ms);

	p->argv = NULL; /* argv is gone with this frame */
	return rc;
}

/*
 * Is pid gone?  A killed process may stay a zombie until its new parent
 * reaps it (the container's init may never do it): a zombie is gone too.
 * Gives the kernel up to a second to deliver the kill.
 */
static int process_gone(pid_t pid)
{
	for (int i = 0; i < 50; i++) {
		char path[64], buf[512], *paren;
		FILE *f;

		if (kill(pid, 0) < 0 && errno == ESRCH)
			return 1;
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
		f = fopen(path, "r");
		if (!f)
			return 1;
		buf[0] = '\0';
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		paren = strrchr(buf, ')');
		if (paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'))
			return 1;
		usleep(20000);
	}
	return 0;
}

struct status_row {
	const char *argv[5];
	int status;
	int exec_errno;
};

static const struct status_row status_rows[] = {
	{ { "true", NULL }, 0, 0 },
	{ { "false", NULL }, 1, 0 },
	{ { "sh", "-c", "exit 3", NULL }, 3, 0 },
	{ { "sh", "-c", "exit 255", NULL }, 255, 0 },
	{ { "phaselab-no-such-program-here", NULL }, PROC_NOT_FOUND, ENOENT },
	{ { "/nonexistent/folder/program", NULL }, PROC_NOT_FOUND, ENOENT },
	{ { "/", NULL }, PROC_CANNOT_EXEC, EACCES },       /* a folder */
	/* killed by a signal: 128+N */
	{ { "sh", "-c", "kill -KILL $$", NULL }, 128 + SIGKILL, 0 },
	{ { "sh", "-c", "kill -TERM $$", NULL }, 128 + SIGTERM, 0 },
	{ { "sh", "-c", "kill -SEGV $$", NULL }, 128 + SIGSEGV, 0 },
};

static void test_status(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(status_rows) / sizeof(status_rows[0]); i++) {
		const struct status_row *r = &status_rows[i];
		struct proc p = PROC_INIT;
		int rc = run_argv(&p, r->argv, 10000);

		if (rc != r->status || p.exec_errno != r->exec_errno)
			print_error("row %zu (%s): status %d errno %d\n", i, r->argv[0], rc, p.exec_errno);
		assert_int_equal(rc, r->status);
		assert_int_equal(p.status, r->status);
		assert_int_equal(p.exec_errno, r->exec_errno);
		assert_false(p.timed_out);
		assert_false(p.interrupted);
		proc_release(&p);
	}
}

static void test_cannot_exec(void **state)
{
	char path[PATH_MAX];
	const char *argv[] = { path, NULL };
	struct proc p = PROC_INIT;

	(void)state;
	/* the file exists, is a valid script, but has no execute permission */
	path_in_tmp(path, sizeof(path), "not-executable");
	assert_int_equal(run_argv(&p, argv, 10000), PROC_CANNOT_EXEC);
	assert_int_equal(p.exec_errno, EACCES);
	assert_int_equal(p.out.len, 0);
	proc_release(&p);
}

static void test_output(void **state)
{
	struct proc p = PROC_INIT;

	(void)state;
	assert_int_equal(run_sh(&p, "echo out; echo err >&2; printf 'a\\000b'", 10000), 0);
	/* each stream apart, NUL bytes kept, nothing cut */
	assert_int_equal(p.out.len, 7);
	assert_memory_equal(p.out.buf, "out\na\0b", 7);
	assert_string_equal(p.err.buf, "err\n");
	assert_int_equal(p.out_dropped, 0);
	assert_int_equal(p.err_dropped, 0);
	assert_true(p.elapsed_ms >= 0 && p.elapsed_ms < 5000);
	proc_release(&p);
}

/* stdin is /dev/null: a program that reads it gets end-of-file at once. */
static void test_stdin_devnull(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct proc p = PROC_INIT;

	(void)state;
	assert_int_equal(run_argv(&p, argv, 3000), 0);
	assert_false(p.timed_out);
	assert_int_equal(p.out.len, 0);
	proc_release(&p);
}

static void test_timeout(void **state)
{
	const char *argv[] = { "sleep", "10", NULL };
	struct proc p = PROC_INIT;
	long long t0 = now_ms(), took;

	(void)state;
	assert_int_equal(run_argv(&p, argv, 300), PROC_TIMED_OUT);
	took = now_ms() - t0;
	assert_int_equal(p.status, PROC_TIMED_OUT);
	assert_true(p.timed_out);
	assert_false(p.interrupted);
	assert_int_equal(p.exec_errno, 0);
	assert_true(p.elapsed_ms >= 300);
	assert_true(took < 5000);
	proc_release(&p);
}

/* The whole group goes at the deadline, not only the direct child. */
static void test_timeout_kills_group(void **state)
{
	struct proc p = PROC_INIT;
	long long t0 = now_ms();
	long pid;

	(void)state;
	assert_int_equal(run_sh(&p, "sleep 30 & echo $!; sleep 30", 300), PROC_TIMED_OUT);
	assert_true(now_ms() - t0 < 5000);
	assert_true(p.timed_out);
	assert_int_equal(sscanf(p.out.buf, "%ld", &pid), 1);
	assert_true(pid > 1);
	assert_true(process_gone((pid_t)pid));
	proc_release(&p);
}

/* A child that ignores SIGTERM gets SIGKILL after the grace period. */
static void test_timeout_ignores_term(void **state)
{
	struct proc p = PROC_INIT;
	long long t0 = now_ms(), took;
	long pid;

	(void)state;
	assert_int_equal(run_sh(&p, "trap '' TERM; sleep 30 & echo $!; sleep 30", 300), PROC_TIMED_OUT);
	took = now_ms() - t0;
	assert_true(p.timed_out);
	assert_true(took < 5000);
	assert_int_equal(sscanf(p.out.buf, "%ld", &pid), 1);
	assert_true(process_gone((pid_t)pid));
	proc_release(&p);
}

#define CHUNK 2500000
#define ROUNDS 8

/*
 * Megabytes on both streams, interleaved: a runner that waited on one pipe
 * while the child blocked on the other would hang here until the deadline
 * (then the status would be 124, not 0).  Each stream keeps its first and
 * last max_capture/2 bytes and a marker with the count left out.
 */
static void test_big_output(void **state)
{
	static const char script[] =
		"printf BEGIN-OUT; printf BEGIN-ERR >&2; i=0; "
		"while [ $i -lt 8 ]; do "
		"head -c 2500000 /dev/zero | tr '\\0' a; "
		"head -c 2500000 /dev/zero | tr '\\0' b >&2; "
		"i=$((i+1)); done; "
		"printf END-OUT; printf END-ERR2 >&2";
	const size_t cap = 1u << 20, half = cap / 2;
	const size_t out_total = 9 + (size_t)CHUNK * ROUNDS + 7;
	const size_t err_total = 9 + (size_t)CHUNK * ROUNDS + 8;
	struct proc p = PROC_INIT;
	char marker[80];
	size_t mlen;

	(void)state;
	p.max_capture = cap;
	assert_int_equal(run_sh(&p, script, 60000), 0);
	assert_false(p.timed_out);

	assert_int_equal(p.out_dropped, out_total - 2 * half);
	assert_int_equal(p.err_dropped, err_total - 2 * half);

	mlen = (size_t)snprintf(marker, sizeof(marker), "\n[... %zu bytes of output left out ...]\n",
				p.out_dropped);
	assert_int_equal(p.out.len, 2 * half + mlen);
	assert_memory_equal(p.out.buf, "BEGIN-OUT", 9);
	assert_memory_equal(p.out.buf + half, marker, mlen);
	assert_memory_equal(p.out.buf + p.out.len - 7, "END-OUT", 7);
	/* the streams did not mix (the marker itself says "bytes") */
	assert_null(memchr(p.out.buf, 'b', half));
	assert_null(memchr(p.out.buf + half + mlen, 'b', half));
	assert_int_equal(p.out.buf[half - 1], 'a');
	assert_int_equal(p.out.buf[half + mlen], 'a');

	mlen = (size_t)snprintf(marker, sizeof(marker), "\n[... %zu bytes of output left out ...]\n",
				p.err_dropped);
	assert_int_equal(p.err.len, 2 * half + mlen);
	assert_memory_equal(p.err.buf, "BEGIN-ERR", 9);
	assert_memory_equal(p.err.buf + half, marker, mlen);
	assert_memory_equal(p.err.buf + p.err.len - 8, "END-ERR2", 8);
	assert_null(memchr(p.err.buf, 'a', half));
	assert_null(memchr(p.err.buf + half + mlen, 'a', half));
	proc_release(&p);
}

/* Exactly max_capture bytes fit; one more is cut. */
static void test_capture_edge(void **state)
{
	struct proc p = PROC_INIT;

	(void)state;
	p.max_capture = 10;
	assert_int_equal(run_sh(&p, "printf 0123456789", 10000), 0);
	assert_int_equal(p.out_dropped, 0);
	assert_string_equal(p.out.buf, "0123456789");
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	p.max_capture = 10;
	assert_int_equal(run_sh(&p, "printf 0123456789X", 10000), 0);
	assert_int_equal(p.out_dropped, 1);
	assert_string_equal(p.out.buf, "01234\n[... 1 bytes of output left out ...]\n6789X");
	proc_release(&p);
}

struct env_row {
	const char *env[4];
	const char *script;
	const char *expected;
};

static const struct env_row env_rows[] = {
	{ { NULL }, "echo \"$PHASELAB_T_KEEP\"", "keep\n" },           /* inherited */
	{ { "X=hello", NULL }, "echo \"$X\"", "hello\n" },
	{ { "X=a b=c", NULL }, "echo \"$X\"", "a b=c\n" },             /* '=' in the value */
	{ { "X=", NULL }, "echo \"${X-unset}|\"", "|\n" },             /* set, empty */
	{ { "PHASELAB_T_GONE", NULL }, "echo \"${PHASELAB_T_GONE-unset}\"", "unset\n" },
	{ { "PHASELAB_T_OVER=new", NULL }, "env | grep '^PHASELAB_T_OVER='", "PHASELAB_T_OVER=new\n" },
	/* a name that is a prefix of another removes only itself */
	{ { "PHASELAB_T", NULL }, "echo \"$PHASELAB_T_KEEP\"", "keep\n" },
	{ { "PHASELAB_T_KEEPX=1", NULL }, "echo \"$PHASELAB_T_KEEP $PHASELAB_T_KEEPX\"", "keep 1\n" },
	{ { "PHASELAB_T_GONE", "Y=1", "PHASELAB_T_OVER=x", NULL },
	  "echo \"${PHASELAB_T_GONE-unset} $Y $PHASELAB_T_OVER $PHASELAB_T_KEEP\"", "unset 1 x keep\n" },
	/* removing what is not there is no error */
	{ { "PHASELAB_T_NEVER_SET", NULL }, "echo \"${PHASELAB_T_NEVER_SET-unset}\"", "unset\n" },
};

static void test_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(env_rows) / sizeof(env_rows[0]); i++) {
		const struct env_row *r = &env_rows[i];
		struct proc p = PROC_INIT;

		p.env = r->env[0] ? r->env : NULL;
		assert_int_equal(run_sh(&p, r->script, 10000), 0);
		if (strcmp(p.out.buf, r->expected))
			print_error("row %zu: got \"%s\"\n", i, p.out.buf);
		assert_string_equal(p.out.buf, r->expected);
		proc_release(&p);
	}
	/* our own environment is untouched */
	assert_string_equal(getenv("PHASELAB_T_GONE"), "gone");
	assert_string_equal(getenv("PHASELAB_T_OVER"), "old");
	assert_null(getenv("X"));
}

static void test_dir(void **state)
{
	const char *argv[] = { "pwd", "-P", NULL };
	char real[PATH_MAX], missing[PATH_MAX];
	struct proc p = PROC_INIT;

	(void)state;
	assert_non_null(realpath(tmpdir, real));
	p.dir = tmpdir;
	assert_int_equal(run_argv(&p, argv, 10000), 0);
	strbuf_rtrim(&p.out);
	assert_string_equal(p.out.buf, real);
	proc_release(&p);

	/* a folder that does not exist: the program never runs, errno says why */
	path_in_tmp(missing, sizeof(missing), "no-such-folder");
	p = (struct proc)PROC_INIT;
	p.dir = missing;
	assert_int_not_equal(run_argv(&p, argv, 10000), 0);
	assert_true(p.status == PROC_NOT_FOUND || p.status == PROC_CANNOT_EXEC);
	assert_int_equal(p.exec_errno, ENOENT);
	assert_int_equal(p.out.len, 0);
	proc_release(&p);
}

static void test_out_path(void **state)
{
	char path[PATH_MAX];
	struct proc p = PROC_INIT;
	char buf[64];
	ssize_t n;
	int fd;

	(void)state;
	path_in_tmp(path, sizeof(path), "both.log");
	p.out_path = path;
	assert_int_equal(run_sh(&p, "echo out; echo err >&2; echo out2", 10000), 0);
	/* both streams, in the order written, read back into out */
	assert_string_equal(p.out.buf, "out\nerr\nout2\n");
	assert_int_equal(p.err.len, 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_int_equal(n, 13);
	buf[n] = '\0';
	assert_string_equal(buf, "out\nerr\nout2\n");
	proc_release(&p);

	/* the read-back is bounded like a pipe */
	path_in_tmp(path, sizeof(path), "big.log");
	p = (struct proc)PROC_INIT;
	p.out_path = path;
	p.max_capture = 1000;
	assert_int_equal(run_sh(&p, "printf S; head -c 300000 /dev/zero | tr '\\0' x; printf E", 10000), 0);
	assert_int_equal(p.out_dropped, 300002 - 1000);
	assert_int_equal(p.out.buf[0], 'S');
	assert_int_equal(p.out.buf[p.out.len - 1], 'E');
	assert_non_null(strstr(p.out.buf, "[... 299002 bytes of output left out ...]"));
	proc_release(&p);
}

/* proc_start and proc_finish apart: the process runs while we do other work. */
static void test_start_finish(void **state)
{
	const char *argv[] = { "sh", "-c", "sleep 0.2; echo late", NULL };
	struct proc p = PROC_INIT;

	(void)state;
	p.argv = argv;
	p.timeout_ms = 10000;
	assert_int_equal(proc_start(&p), 0);
	assert_true(p.pid > 0);
	/* the child is in its own process group */
	assert_int_equal(getpgid(p.pid), p.pid);
	usleep(50000);
	assert_int_equal(proc_finish(&p), 0);
	assert_string_equal(p.out.buf, "late\n");
	assert_true(p.elapsed_ms >= 200);
	proc_release(&p);
}

struct describe_row {
	const char *argv[6];
	const char *expected;
};

static const struct describe_row describe_rows[] = {
	{ { "docker", "build", "-t", "x", ".", NULL }, "docker build -t x ." },
	{ { "docker", "run", "--label", "phaselab.run=abc", "img:1.0@sha256:00", NULL },
	  "docker run --label phaselab.run=abc img:1.0@sha256:00" },
	{ { "echo", "a b", NULL }, "echo 'a b'" },
	{ { "echo", "", NULL }, "echo ''" },
	{ { "echo", "it's", NULL }, "echo 'it'\\''s'" },
	{ { "sh", "-c", "echo $X", NULL }, "sh -c 'echo $X'" },
	{ { "ls", "*.js", NULL }, "ls '*.js'" },
	{ { "x", "a\nb", "t\tab", NULL }, "x 'a\nb' 't\tab'" },
	{ { "x", "a|b", "a;b", "a&b", "~", NULL }, "x 'a|b' 'a;b' 'a&b' '~'" },
	{ { "x", "\"q\"", "back\\slash", NULL }, "x '\"q\"' 'back\\slash'" },
};

static void test_describe(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(describe_rows) / sizeof(describe_rows[0]); i++) {
		struct proc p = PROC_INIT;
		struct strbuf sb = STRBUF_INIT;

		p.argv = describe_rows[i].argv;
		strbuf_addstr(&sb, "$ ");
		proc_describe(&p, &sb);
		assert_memory_equal(sb.buf, "$ ", 2); /* appended */
		assert_string_equal(sb.buf + 2, describe_rows[i].expected);
		strbuf_release(&sb);
	}
}

/* A helper process that sends SIGINT to us after delay_ms. */
static pid_t interrupt_later(long delay_ms)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		usleep((useconds_t)delay_ms * 1000);
		kill(parent, SIGINT);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

static void test_interrupt(void **state)
{
	const char *argv[] = { "sleep", "10", NULL };
	struct proc p = PROC_INIT;
	long long t0;
	pid_t helper;

	(void)state;
	assert_int_equal(interrupt_install(), 0);
	interrupt_clear();
	helper = interrupt_later(300);
	assert_true(helper > 0);
	t0 = now_ms();
	/* the deadline is a safety net only: the interrupt must come first */
	assert_int_equal(run_argv(&p, argv, 8000), PROC_INTERRUPTED);
	assert_true(now_ms() - t0 < 5000);
	reap(helper);
	assert_true(p.interrupted);
	assert_false(p.timed_out);
	assert_int_equal(interrupt_pending(), SIGINT);
	interrupt_clear();
	assert_int_equal(interrupt_pending(), 0);
	proc_release(&p);
}

/* An interrupt already pending when the process starts stops it at once. */
static void test_interrupt_pending(void **state)
{
	const char *argv[] = { "sleep", "10", NULL };
	struct proc p = PROC_INIT;
	long long t0 = now_ms();

	(void)state;
	assert_int_equal(interrupt_install(), 0);
	assert_int_equal(raise(SIGINT), 0);
	assert_int_equal(interrupt_pending(), SIGINT);
	assert_int_equal(run_argv(&p, argv, 8000), PROC_INTERRUPTED);
	assert_true(now_ms() - t0 < 5000);
	assert_true(p.interrupted);
	interrupt_clear();
	proc_release(&p);
}

/* The cleanup's own calls run to the end even after an interrupt. */
static void test_uninterruptible(void **state)
{
	struct proc p = PROC_INIT;
	pid_t helper;

	(void)state;
	assert_int_equal(interrupt_install(), 0);
	interrupt_clear();
	helper = interrupt_later(200);
	assert_true(helper > 0);
	p.uninterruptible = 1;
	assert_int_equal(run_sh(&p, "sleep 1; echo done", 8000), 0);
	reap(helper);
	assert_false(p.interrupted);
	assert_false(p.timed_out);
	assert_string_equal(p.out.buf, "done\n");
	assert_true(p.elapsed_ms >= 1000);
	/* the interrupt is still there for the caller to act on */
	assert_int_equal(interrupt_pending(), SIGINT);
	proc_release(&p);

	/* also when it was pending before the start */
	p = (struct proc)PROC_INIT;
	p.uninterruptible = 1;
	assert_int_equal(run_sh(&p, "sleep 0.3; echo done", 8000), 0);
	assert_false(p.interrupted);
	assert_string_equal(p.out.buf, "done\n");
	interrupt_clear();
	proc_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_cannot_exec),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_stdin_devnull),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_timeout_ignores_term),
		cmocka_unit_test(test_big_output),
		cmocka_unit_test(test_capture_edge),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_out_path),
		cmocka_unit_test(test_start_finish),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_interrupt),
		cmocka_unit_test(test_interrupt_pending),
		cmocka_unit_test(test_uninterruptible),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
