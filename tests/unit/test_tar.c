/*
 * Tests for runner/lib/tar.c (libarchive's tar reader under tar.h's
 * contract): archives are made by the system's `tar` (GNU tar)
 * in a scratch folder, in each format tar.h says it understands: plain,
 * ustar name prefixes, GNU long names ('L', 'K'), pax path/linkpath records
 * and a pax global header.  Then a file's data, stopping early, and files
 * that are not tar archives.  Malformed archives no tar writes (a pax record
 * without its newline, a size past the end) are made block by block here,
 * and so are truncated archives, walked from a file and from a pipe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/strbuf.h"
#include "lib/tar.h"
#include "lib/xalloc.h"

static char tmp[PATH_MAX];
/* a 60+1+60 path that ustar can split into prefix and name, and a 150-char name it cannot */
static char split_name[128], long_name[151];

static void shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command in the scratch folder; any failure fails the test. */
static void shell(const char *fmt, ...)
{
	struct strbuf cmd = STRBUF_INIT;
	va_list ap;
	int rc;

	strbuf_addf(&cmd, "cd '%s' && ", tmp);
	va_start(ap, fmt);
	strbuf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	rc = system(cmd.buf);
	if (rc != 0)
		fail_msg("`%s` failed (%d)", cmd.buf, rc);
	strbuf_release(&cmd);
}

static char *in_tmp(const char *name)
{
	return xasprintf("%s/%s", tmp, name);
}

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/phaselab-tar-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp))
		return -1;
	memset(split_name, 'd', 60);
	split_name[60] = '/';
	memset(split_name + 61, 'f', 60);
	split_name[121] = '\0';
	memset(long_name, 'p', 150);
	long_name[150] = '\0';
	shell("mkdir -p src/sub src/%.60s && printf 'hello\\n' > src/hello.txt && chmod 0640 src/hello.txt"
	      " && printf deep > src/sub/deep.txt && chmod 0755 src/sub"
	      " && ln -s hello.txt src/link && ln src/hello.txt src/hard"
	      " && printf long1 > src/%s && printf long2 > src/%s && ln -s %s src/lnk_long",
	      split_name, split_name, long_name, long_name);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct seen {
	char name[512];
	char link[512];
	char type;
	unsigned mode;
	unsigned long long size;
	char data[64];
	size_t data_len;
	int has_data;
};

struct walk {
	struct seen e[16];
	size_t n;
	int calls;
	const char *want_data;  /* return 2 for this name */
	int stop_after;         /* return 1 after this many entries (0: never) */
};

static int record(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct walk *w = vctx;
	struct seen *s;

	w->calls++;
	if (data) {
		/* the second call for the same entry, with its contents */
		assert_true(w->n > 0);
		s = &w->e[w->n - 1];
		assert_string_equal(e->name, s->name);
		assert_true(data->len < sizeof(s->data));
		memcpy(s->data, data->buf, data->len);
		s->data_len = data->len;
		s->has_data = 1;
		assert_int_equal(data->buf[data->len], '\0');
		return 0;
	}
	assert_true(w->n < 16);
	s = &w->e[w->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", e->name);
	snprintf(s->link, sizeof(s->link), "%s", e->linkname);
	s->type = e->type;
	s->mode = e->mode;
	s->size = e->size;
	if (w->stop_after && (int)w->n >= w->stop_after)
		return 1;
	return w->want_data && !strcmp(e->name, w->want_data) ? 2 : 0;
}

static const struct seen *find(const struct walk *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->e[i].name, name))
			return &w->e[i];
	fail_msg("no entry '%s' in the archive (%zu entries)", name, w->n);
	return NULL;
}

static void walk_archive(const char *archive, struct walk *w, size_t max_data)
{
	char *path = in_tmp(archive);

	if (tar_walk(path, record, w, max_data) != 0)
		fail_msg("tar_walk '%s': %s", path, strerror(errno));
	free(path);
}

static void test_plain(void **state)
{
	struct walk w = { 0 };
	const struct seen *s;

	(void)state;
	shell("tar --format=gnu -cf plain.tar -C src hello.txt sub link hard");
	walk_archive("plain.tar", &w, 0);
	assert_int_equal(w.n, 5);

	s = find(&w, "hello.txt");
	assert_int_equal(s->type, '0');
	assert_int_equal(s->mode & 07777, 0640);
	assert_int_equal(s->size, 6);
	assert_string_equal(s->link, "");

	s = find(&w, "sub/");
	assert_int_equal(s->type, '5');
	assert_int_equal(s->mode & 07777, 0755);
	assert_int_equal(s->size, 0);

	s = find(&w, "sub/deep.txt");
	assert_int_equal(s->type, '0');
	assert_int_equal(s->size, 4);

	s = find(&w, "link");
	assert_int_equal(s->type, '2');
	assert_string_equal(s->link, "hello.txt");
	assert_int_equal(s->size, 0);

	s = find(&w, "hard");
	assert_int_equal(s->type, '1');
	assert_string_equal(s->link, "hello.txt");
	assert_int_equal(s->size, 0);
	/* the walk went on past each file's data: nothing was read */
	assert_int_equal(w.calls, 5);
}

/* Names come without a leading "./" or "/". */
static void test_name_prefixes(void **state)
{
	struct walk w = { 0 };
	char *src = in_tmp("src");

	(void)state;
	shell("tar -cf dot.tar -C src ./hello.txt ./sub/deep.txt");
	walk_archive("dot.tar", &w, 0);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.e[0].name, "hello.txt");
	assert_string_equal(w.e[1].name, "sub/deep.txt");

	memset(&w, 0, sizeof(w));
	shell("tar -P -cf abs.tar '%s/hello.txt'", src);
	walk_archive("abs.tar", &w, 0);
	assert_int_equal(w.n, 1);
	/* tmp itself is absolute: the name is it without its first "/" */
	assert_int_equal(strncmp(w.e[0].name, src + 1, strlen(src + 1)), 0);
	assert_string_equal(w.e[0].name + strlen(src + 1), "/hello.txt");
	free(src);
}

/* "@S" stands for split_name, "@L" for long_name. */
static const char *expand(const char *s)
{
	return !strcmp(s, "@S") ? split_name : !strcmp(s, "@L") ? long_name : s;
}

struct want_entry {
	const char *name;
	char type;
	const char *link;
};

struct long_row {
	const char *options;
	const char *members;
	struct want_entry want[5];
};

#define NO_TIMES "--pax-option=delete=atime,delete=ctime,delete=mtime"

static const struct long_row long_rows[] = {
	/* 'L' and 'K' records */
	{ "--format=gnu", "lnk_long @L @S hello.txt",
	  { { "lnk_long", '2', "@L" }, { "@L", '0', "" }, { "@S", '0', "" }, { "hello.txt", '0', "" } } },
	/*
	 * 'x' records with path and linkpath.  GNU tar adds an 'x' header with
	 * times to every entry unless told not to; without them only the
	 * entries that need a record get one.  Two 'x' headers that carry
	 * different keys in a row are test_pax_without_path_regression.
	 */
	{ "--format=pax " NO_TIMES, "@L @S hello.txt",
	  { { "@L", '0', "" }, { "@S", '0', "" }, { "hello.txt", '0', "" } } },
	{ "--format=pax " NO_TIMES, "lnk_long hello.txt",
	  { { "lnk_long", '2', "@L" }, { "hello.txt", '0', "" } } },
	/* the 155-byte prefix field */
	{ "--format=ustar", "@S hello.txt link",
	  { { "@S", '0', "" }, { "hello.txt", '0', "" }, { "link", '2', "hello.txt" } } },
};

static void make_archive(const char *archive, const char *options, const char *members)
{
	struct strbuf list = STRBUF_INIT;
	char *copy = xstrdup(members), *tok, *save = NULL;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		strbuf_addf(&list, " %s", expand(tok));
	shell("tar %s -cf %s -C src%s", options, archive, list.buf);
	strbuf_release(&list);
	free(copy);
}

static void test_long_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(long_rows) / sizeof(long_rows[0]); i++) {
		const struct long_row *r = &long_rows[i];
		struct walk w = { .want_data = split_name };
		size_t n = 0;

		make_archive("long.tar", r->options, r->members);
		walk_archive("long.tar", &w, 64);
		while (n < 5 && r->want[n].name)
			n++;
		if (w.n != n)
			fail_msg("row %zu: %zu entries, expected %zu", i, w.n, n);
		for (size_t j = 0; j < n; j++) {
			const struct seen *s = &w.e[j];

			if (strcmp(s->name, expand(r->want[j].name)) || s->type != r->want[j].type ||
			    strcmp(s->link, expand(r->want[j].link)))
				fail_msg("row %zu entry %zu: '%s' type %c link '%s'", i, j, s->name, s->type, s->link);
			if (s->type == '0')
				assert_int_equal(s->size, strcmp(s->name, "hello.txt") ? 5 : 6);
			/* the data of a long-named file, through a long-name record */
			if (strcmp(s->name, split_name))
				assert_false(s->has_data);
			else
				assert_string_equal(s->data, "long1");
		}
	}
}

/* A pax path record wins over the header's name; a global header is skipped. */
static void test_pax_records(void **state)
{
	struct walk w = { 0 };

	(void)state;
	shell("tar --format=pax --pax-option=path:=renamed/by-pax.txt -cf ren.tar -C src hello.txt");
	walk_archive("ren.tar", &w, 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.e[0].name, "renamed/by-pax.txt");
	assert_int_equal(w.e[0].size, 6);

	memset(&w, 0, sizeof(w));
	shell("tar --format=pax --pax-option=comment=global,delete=atime,delete=ctime,delete=mtime "
	      "-cf glob.tar -C src hello.txt link");
	walk_archive("glob.tar", &w, 0);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.e[0].name, "hello.txt");
	assert_string_equal(w.e[1].name, "link");
	assert_string_equal(w.e[1].link, "hello.txt");
}

/*
 * Regression (fixed): an 'x' header without a path record gives its entry the name of the
 * entry before it, and one without a linkpath record gives it the previous
 * entry's link target.  tar.c's tar_walk() reuses the name and link buffers
 * across entries and, after pax_apply(), sets have_long_name = name.len > 0
 * and have_long_link = link.len > 0, which is true whenever an earlier entry
 * left something there.  GNU tar writes an 'x' header with times for every
 * entry; Go's archive/tar (`docker export`) writes one for xattrs, big ids,
 * non-ASCII or long names.  `tar --format=pax -cf x.tar hello.txt link`
 * walks as "hello.txt", "hello.txt" (the second a symlink).
 */
static const struct long_row pax_bug_rows[] = {
	{ "--format=pax", "hello.txt link sub/deep.txt",
	  { { "hello.txt", '0', "" }, { "link", '2', "hello.txt" }, { "sub/deep.txt", '0', "" } } },
	{ "--format=pax " NO_TIMES, "lnk_long @L",
	  { { "lnk_long", '2', "@L" }, { "@L", '0', "" } } },
	{ "--format=pax " NO_TIMES, "@L lnk_long",
	  { { "@L", '0', "" }, { "lnk_long", '2', "@L" } } },
};

static void test_pax_without_path_regression(void **state)
{
	int wrong = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(pax_bug_rows) / sizeof(pax_bug_rows[0]); i++) {
		const struct long_row *r = &pax_bug_rows[i];
		struct walk w = { 0 };

		make_archive("pax-bug.tar", r->options, r->members);
		walk_archive("pax-bug.tar", &w, 0);
		assert_true(w.n >= 2);
		for (size_t j = 0; j < w.n && r->want[j].name; j++) {
			const struct seen *s = &w.e[j];

			if (strcmp(s->name, expand(r->want[j].name)) || s->type != r->want[j].type ||
			    strcmp(s->link, expand(r->want[j].link))) {
				print_error("%s (%s) entry %zu: '%.20s' type %c link '%.20s', expected '%.20s' link '%.20s'\n",
					    r->options, r->members, j, s->name, s->type, s->link,
					    expand(r->want[j].name), expand(r->want[j].link));
				wrong++;
			}
		}
	}
	assert_int_equal(wrong, 0);
}

struct data_row {
	size_t max_data;
	const char *expected;  /* NULL: no second call */
};

static const struct data_row data_rows[] = {
	{ 64, "hello\n" },
	{ 6, "hello\n" },
	{ 3, "hel" },     /* cut, and the walk still finds the next header */
	{ 0, NULL },      /* no data wanted: fn's 2 means go on */
};

static void test_data(void **state)
{
	(void)state;
	shell("tar --format=gnu -cf data.tar -C src sub/deep.txt hello.txt link");
	for (size_t i = 0; i < sizeof(data_rows) / sizeof(data_rows[0]); i++) {
		struct walk w = { .want_data = "hello.txt" };
		const struct seen *s;

		walk_archive("data.tar", &w, data_rows[i].max_data);
		assert_int_equal(w.n, 3);
		s = find(&w, "hello.txt");
		if (data_rows[i].expected) {
			assert_true(s->has_data);
			assert_int_equal(s->data_len, strlen(data_rows[i].expected));
			assert_memory_equal(s->data, data_rows[i].expected, s->data_len);
			assert_int_equal(w.calls, 4);
		} else {
			assert_false(s->has_data);
			assert_int_equal(w.calls, 3);
		}
		assert_false(find(&w, "sub/deep.txt")->has_data);
		assert_string_equal(find(&w, "link")->link, "hello.txt");
	}
}

static void test_stop(void **state)
{
	struct walk w = { .stop_after = 2 };

	(void)state;
	shell("tar --format=gnu -cf stop.tar -C src hello.txt sub link hard");
	walk_archive("stop.tar", &w, 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.calls, 2);
}

struct bad_row {
	const char *name;
	const char *make;     /* shell command writing the file */
	int err;              /* expected errno */
};

static const struct bad_row bad_rows[] = {
	{ "text.txt", "yes 'this is not a tar archive' | head -c 2048 > text.txt", EINVAL },
	{ "zero-size-header.bin", "printf 'x' > zero-size-header.bin && head -c 1023 /dev/zero >> zero-size-header.bin", EINVAL },
	{ "missing.tar", "true", ENOENT },
};

static void test_not_tar(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct walk w = { 0 };
		char *path = in_tmp(bad_rows[i].name);
		int rc;

		shell("%s", bad_rows[i].make);
		errno = 0;
		rc = tar_walk(path, record, &w, 0);
		if (rc != -1)
			print_error("%s: rc %d\n", bad_rows[i].name, rc);
		assert_int_equal(rc, -1);
		assert_int_equal(errno, bad_rows[i].err);
		assert_int_equal(w.calls, 0);
		free(path);
	}
}

/*
 * Regression (fixed): tar_walk never verifies a header's checksum, and accepts a file that
 * ends before the first 512-byte header.  So a short text file ("hello\n")
 * returns 0 as an empty archive, and a text file of digits (its bytes
 * 148..155 parse as an octal checksum) is walked as an archive whose entries
 * are garbage.  tar.h promises -1 with EINVAL for a file that is not a tar
 * archive.
 */
static const struct bad_row forged_rows[] = {
	{ "short.txt", "printf 'hello\\n' > short.txt", EINVAL },
	{ "digits.txt", "yes 1234567 | head -c 2048 > digits.txt", EINVAL },
};

static void test_not_tar_forged(void **state)
{
	int wrong = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(forged_rows) / sizeof(forged_rows[0]); i++) {
		struct walk w = { 0 };
		char *path = in_tmp(forged_rows[i].name);
		int rc, e;

		shell("%s", forged_rows[i].make);
		errno = 0;
		rc = tar_walk(path, record, &w, 0);
		e = errno;
		if (rc != -1 || e != forged_rows[i].err || w.calls) {
			print_error("%s: rc %d, errno %d, %zu entries (first '%.20s')\n", forged_rows[i].name,
				    rc, e, w.n, w.n ? w.e[0].name : "");
			wrong++;
		}
		free(path);
	}
	assert_int_equal(wrong, 0);
}

/* ---- archives made block by block --------------------------------------- */

#define BLOCK 512

/* Write the checksum of header h: its bytes summed with the field as spaces. */
static void set_checksum(unsigned char *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* Append a ustar header for name, type and size (octal) to ar. */
static unsigned char *add_header(struct strbuf *ar, const char *name, char type, unsigned long long size)
{
	unsigned char h[BLOCK];
	char num[24];

	memset(h, 0, sizeof(h));
	snprintf((char *)h, 100, "%s", name);
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	assert_true(size <= 077777777777ULL); /* 11 octal digits: larger ones are set by hand */
	snprintf(num, sizeof(num), "%011llo", size);
	memcpy(h + 124, num, 12);
	memcpy(h + 136, "00000000000", 12);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	set_checksum(h);
	strbuf_add(ar, h, sizeof(h));
	return (unsigned char *)ar->buf + ar->len - BLOCK;
}

/* Append data padded to a whole block. */
static void add_data(struct strbuf *ar, const char *data, size_t len)
{
	strbuf_add(ar, data, len);
	while (ar->len % BLOCK)
		strbuf_addch(ar, '\0');
}

/* Append the two zero blocks and write ar to name in the scratch folder. */
static void write_archive(const char *name, struct strbuf *ar)
{
	char *path = in_tmp(name);
	FILE *f;

	for (int i = 0; i < 2 * BLOCK; i++)
		strbuf_addch(ar, '\0');
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(ar->buf, 1, ar->len, f), ar->len);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/*
 * What a malformed archive must give: rc, the entries fn saw, the first
 * one's name.  The walk runs in a child, with a callback that asserts
 * nothing and stops at 100 entries, under a 10 s alarm: a crash, a read
 * out of bounds or a walk that never ends is a failure here, not the end
 * of the test program.
 */
struct child_walk {
	size_t n;
	char first[64];
};

static int count_entry(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct child_walk *w = vctx;

	if (data)
		return 0;
	if (!w->n++)
		snprintf(w->first, sizeof(w->first), "%s", e->name);
	return w->n >= 100 ? 1 : 2;
}

/* Set: walk_in_child() reads the archive from a pipe (a FIFO a writer fills), not the file. */
static int use_pipe;

/* A FIFO in the scratch folder that a child fills with file's bytes: its path (free it). */
static char *pipe_of(const char *file)
{
	char *fifo = xasprintf("%s.fifo.%ld", file, (long)getpid());
	pid_t writer;

	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	writer = fork();
	assert_true(writer >= 0);
	if (!writer) {
		char buf[65536];
		int in = open(file, O_RDONLY), out = open(fifo, O_WRONLY);
		ssize_t n;

		signal(SIGPIPE, SIG_DFL);
		while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				break;
		_exit(0);
	}
	return fifo;
}

static int walk_in_child(const char *label, const char *archive, int want_rc, size_t want_n,
			 const char *want_first)
{
	char *path = in_tmp(archive);
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct child_walk w = { 0, "" };
		int rc, e, ok;

		alarm(10);
		if (use_pipe)
			path = pipe_of(path);
		errno = 0;
		rc = tar_walk(path, count_entry, &w, 64);
		e = errno;
		if (use_pipe)
			unlink(path);
		ok = rc == want_rc && (rc == 0 || e == EINVAL) && w.n == want_n &&
		     (!want_first || !strcmp(w.first, want_first));
		if (!ok)
			print_error("%s: rc %d, errno %d, %zu entries (first '%s'); want rc %d%s, %zu entries "
				    "(first '%s')\n", label, rc, e, w.n, w.first, want_rc, want_rc ? " EINVAL" : "",
				    want_n, want_first ? want_first : "");
		_exit(ok ? 0 : 1);
	}
	free(path);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		print_error("%s: the walk died of signal %d (%s)\n", label, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		return 0;
	}
	return WIFEXITED(status) && !WEXITSTATUS(status);
}

/*
 * Regression (fixed): pax_apply (runner/tar.c) trusted each record's length.  Without
 * its newline the value was 1 byte shorter than nothing (strbuf_add of
 * SIZE_MAX: a crash), a length shorter than its own digits made memchr
 * read without bound, and a length past LONG_MAX overflowed a pointer.
 * A pax header whose records are not "LEN key=value\n", each inside its
 * data, makes the archive malformed: -1, EINVAL, the entry not passed on.
 */
struct pax_row {
	const char *records;
	const char *name;  /* the entry's name, NULL: malformed */
};

static const struct pax_row pax_rows[] = {
	{ "14 path=a/b/c\n", "a/b/c" },
	{ "12 path=x/y\n14 path=a/b/c\n", "a/b/c" },              /* the last one wins */
	{ "19 comment=a=b c d\n12 path=x/y\n", "x/y" },          /* '=' in a value */
	{ "17 path=/./etc/x\n", "etc/x" },
	{ "14 path=a/b/cX", NULL },                              /* no newline */
	{ "14 path=a/b/c", NULL },                               /* the data ends first */
	{ "1 path=x\n", NULL },                                  /* shorter than its digits */
	{ "2 path=x\n", NULL },
	{ "4 a\n", NULL },                                       /* no room for "k=\n" */
	{ "0 path=x\n", NULL },
	{ "99 path=x\n", NULL },                                 /* past the data */
	{ "99999999999999999999999 path=x\n", NULL },            /* past any length */
	{ "8 pathx\n", NULL },                                   /* no '=' */
	{ "6 =ab\n", NULL },                                     /* no key */
	{ "9path=ab\n", NULL },                                  /* no space */
	{ " 9 path=a\n", NULL },                                 /* no length */
	{ "12 path=x/y\n5 a=b", NULL },                          /* a bad record after a good one */
};

static void test_pax_malformed_regression(void **state)
{
	int wrong = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(pax_rows) / sizeof(pax_rows[0]); i++) {
		const struct pax_row *r = &pax_rows[i];
		struct strbuf ar = STRBUF_INIT;
		char label[80];

		add_header(&ar, "PaxHeaders/orig.txt", 'x', strlen(r->records));
		add_data(&ar, r->records, strlen(r->records));
		add_header(&ar, "orig.txt", '0', 5);
		add_data(&ar, "hello", 5);
		write_archive("pax.tar", &ar);
		snprintf(label, sizeof(label), "pax row %zu", i);
		wrong += !walk_in_child(label, "pax.tar", r->name ? 0 : -1, r->name ? 1 : 0, r->name);
		strbuf_release(&ar);
	}
	assert_int_equal(wrong, 0);
}

/*
 * Regression (fixed): tar_walk (runner/tar.c) took any size.  A base-256 size that
 * wraps off_t seeked back to the same header, for ever; one past the end of
 * the file seeked beyond it and the walk ended as if the archive had; one
 * wider than 64 bits wrapped to a small number.  Each is malformed.
 */
struct size_row {
	const char *label;
	unsigned char field[12];  /* the size field; all zero: octal 5 */
	int rc;
	size_t entries;
};

static const struct size_row size_rows[] = {
	{ "octal 5", { 0 }, 0, 2 },
	{ "base-256 5", { 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 }, 0, 2 },
	{ "base-256 -512, back to the header",
	  { 0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00 }, -1, 0 },
	{ "base-256 negative", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb }, -1, 0 },
	{ "base-256 past 64 bits", { 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5 }, -1, 0 },
	{ "base-256 flag bits", { 0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 }, -1, 0 },
	{ "octal 8 GiB, past the end", { '7', '7', '7', '7', '7', '7', '7', '7', '7', '7', '7', 0 }, -1, 0 },
	{ "base-256 4 GiB, past the end", { 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 }, -1, 0 },
};

static void test_size_regression(void **state)
{
	int wrong = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(size_rows) / sizeof(size_rows[0]); i++) {
		const struct size_row *r = &size_rows[i];
		struct strbuf ar = STRBUF_INIT;
		unsigned char *h = add_header(&ar, "big.bin", '0', 5);

		if (r->field[0]) {
			memcpy(h + 124, r->field, 12);
			set_checksum(h);
		}
		add_data(&ar, "hello", 5);
		add_header(&ar, "after.txt", '0', 0);
		write_archive("size.tar", &ar);
		wrong += !walk_in_child(r->label, "size.tar", r->rc, r->entries, r->entries ? "big.bin" : NULL);
		strbuf_release(&ar);
	}
	assert_int_equal(wrong, 0);
}

/*
 * Regression (fixed): names lost their leading "./" and then their leading "/", once
 * each: "/./etc/passwd" stayed "./etc/passwd", and a check looking for
 * "etc/passwd" missed it.  Any mix of the two goes.
 */
static const struct { const char *in, *out; } name_rows[] = {
	{ "/./etc/passwd", "etc/passwd" },
	{ ".//etc/passwd", "etc/passwd" },
	{ "/././/./etc/passwd", "etc/passwd" },
	{ "//etc/passwd", "etc/passwd" },
	{ "./", "" },
	{ ".hidden/./x", ".hidden/./x" },   /* only the front */
	{ "../x", "../x" },
};

static void test_name_mixed_prefixes_regression(void **state)
{
	int wrong = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++) {
		struct strbuf ar = STRBUF_INIT;
		struct walk w = { 0 };

		add_header(&ar, name_rows[i].in, '0', 0);
		write_archive("names.tar", &ar);
		walk_archive("names.tar", &w, 0);
		assert_int_equal(w.n, 1);
		if (strcmp(w.e[0].name, name_rows[i].out)) {
			print_error("'%s': '%s', want '%s'\n", name_rows[i].in, w.e[0].name, name_rows[i].out);
			wrong++;
		}
		strbuf_release(&ar);
	}
	assert_int_equal(wrong, 0);
}

/* ---- what libarchive's reader brings ----------------------------------- */

/*
 * Names are bytes: control bytes, bytes that are not UTF-8 and UTF-8 come
 * through as they are, in a ustar name, a GNU long name and a pax path
 * record (which libarchive would convert to the locale, and cannot in C:
 * then it keeps them, and so do we).  GNU tar writes each name that is not
 * ASCII as a pax record, as `docker export` does.
 */
static const char *const byte_names[] = {
	"ctl\001x", "nl\nx", "\033[31mred", "del\177", "bad\377\376", "caf\303\251", "tab\there",
};

static void test_names_are_bytes(void **state)
{
	static const char *const formats[] = { "--format=ustar", "--format=gnu", "--format=pax " NO_TIMES };

	(void)state;
	shell("rm -rf bytes && mkdir bytes");
	for (size_t i = 0; i < sizeof(byte_names) / sizeof(byte_names[0]); i++) {
		char *p = xasprintf("%s/bytes/%s", tmp, byte_names[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "x", 1), 1);
		close(fd);
		free(p);
		/* and a link to it, whose target is those bytes too */
		p = xasprintf("%s/bytes/to-%zu", tmp, i);
		assert_int_equal(symlink(byte_names[i], p), 0);
		free(p);
	}
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		struct walk w = { 0 };
		size_t n = sizeof(byte_names) / sizeof(byte_names[0]);

		shell("tar %s -cf bytes.tar -C bytes .", formats[f]);
		walk_archive("bytes.tar", &w, 0);
		assert_int_equal(w.n, 1 + 2 * n);
		for (size_t i = 0; i < n; i++) {
			const struct seen *link;
			char to[16];

			assert_int_equal(find(&w, byte_names[i])->type, '0');
			snprintf(to, sizeof(to), "to-%zu", i);
			link = find(&w, to);
			assert_non_null(link);
			assert_int_equal(link->type, '2');
			if (strcmp(link->link, byte_names[i]))
				fail_msg("%s: link %zu is '%s'", formats[f], i, link->link);
		}
	}
}

/* Names past what ustar can hold (255 bytes): a GNU 'L' record and a pax path. */
static void test_very_long_names(void **state)
{
	static const char *const formats[] = { "--format=gnu", "--format=pax " NO_TIMES };
	char dir[200], *file;

	(void)state;
	memset(dir, 'q', 199);
	dir[199] = '\0';
	dir[99] = '/';
	file = xasprintf("%s/%s", dir, long_name); /* 350 bytes */
	shell("mkdir -p src/%s && printf vlong > src/%s && ln -sf ../../%s src/%s/vlink", dir, file, file, dir);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		struct walk w = { .want_data = file };
		char *lnk = xasprintf("%s/vlink", dir), *target = xasprintf("../../%s", file);

		shell("tar %s -cf vlong.tar -C src %s %s/vlink", formats[f], file, dir);
		walk_archive("vlong.tar", &w, 64);
		assert_int_equal(w.n, 2);
		assert_int_equal(find(&w, file)->size, 5);
		assert_string_equal(find(&w, file)->data, "vlong");
		assert_int_equal(find(&w, lnk)->type, '2');
		assert_string_equal(find(&w, lnk)->link, target);
		free(lnk);
		free(target);
	}
	free(file);
}

static void add_chars(struct strbuf *sb, char c, size_t n)
{
	while (n--)
		strbuf_addch(sb, c);
}

/* Append the pax record "LEN key=value\n", LEN counting itself. */
static void add_pax_record(struct strbuf *sb, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1;

	while (len != body + (size_t)snprintf(NULL, 0, "%zu", len))
		len = body + (size_t)snprintf(NULL, 0, "%zu", len);
	strbuf_addf(sb, "%zu %s=%s\n", len, key, value);
}

/* A pattern byte for offset i of a big file. */
static char pattern(size_t i)
{
	return (char)('a' + (i * 7 + i / 511) % 26);
}

struct big_walk {
	size_t entries, data_len, data_calls;
	int data_ok;
};

static int on_big(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct big_walk *w = vctx;

	if (!data) {
		w->entries++;
		return !strcmp(e->name, "big.bin") ? 2 : 0;
	}
	w->data_calls++;
	w->data_len = data->len;
	w->data_ok = data->buf[data->len] == '\0';
	for (size_t i = 0; i < data->len && w->data_ok; i++)
		w->data_ok = data->buf[i] == pattern(i);
	return 0;
}

/*
 * An entry larger than max_data (and than libarchive's reads) gives its
 * first max_data bytes, and the walk finds the entry after it.
 */
static void test_data_past_max(void **state)
{
	static const struct { size_t max_data, want; } rows[] = {
		{ 1, 1 }, { 65536, 65536 }, { 100000, 100000 }, { 300000, 300000 }, { 1 << 20, 300000 },
	};
	struct strbuf ar = STRBUF_INIT, big = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < 300000; i++)
		strbuf_addch(&big, pattern(i));
	add_header(&ar, "before.txt", '0', 2);
	add_data(&ar, "hi", 2);
	add_header(&ar, "big.bin", '0', big.len);
	add_data(&ar, big.buf, big.len);
	add_header(&ar, "after.txt", '0', 0);
	write_archive("big.tar", &ar);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct big_walk w = { 0 };
		char *path = in_tmp("big.tar");

		assert_int_equal(tar_walk(path, on_big, &w, rows[i].max_data), 0);
		assert_int_equal(w.entries, 3);
		assert_int_equal(w.data_calls, 1);
		assert_int_equal(w.data_len, rows[i].want);
		assert_true(w.data_ok);
		free(path);
	}
	strbuf_release(&ar);
	strbuf_release(&big);
}

/*
 * A truncated archive is malformed: -1, EINVAL, and the entries before the
 * cut passed to fn.  From a file, an entry whose data is past the end is
 * not passed on; from a pipe, where the end is not known, it is, and
 * reading it finds the end.
 */
struct cut_row {
	const char *label;
	size_t at;             /* bytes kept; see the layout below */
	int rc;
	size_t n_file, n_pipe; /* entries seen */
};

/* a.txt: header 0, data 512; big.bin: header 1024, data 1536..4607 (3000 + padding); c.txt: header 4608 */
static const struct cut_row cut_rows[] = {
	{ "whole", 4608 + 512 + 1024, 0, 3, 3 },
	{ "no zero blocks", 4608 + 512, 0, 3, 3 },
	{ "in the second header", 1024 + 300, -1, 1, 1 },
	{ "in the data", 1536 + 1000, -1, 1, 2 },
	{ "in the padding", 1536 + 3000 + 10, -1, 2, 2 },
	{ "in the last header", 4608 + 100, -1, 2, 2 },
	{ "after the first header", 512, -1, 0, 1 },
};

static void test_truncated(void **state)
{
	struct strbuf ar = STRBUF_INIT, big = STRBUF_INIT;
	int wrong = 0;

	(void)state;
	add_chars(&big, 'z', 3000);
	add_header(&ar, "a.txt", '0', 5);
	add_data(&ar, "hello", 5);
	add_header(&ar, "big.bin", '0', big.len);
	add_data(&ar, big.buf, big.len);
	add_header(&ar, "c.txt", '0', 0);
	write_archive("whole.tar", &ar);
	assert_int_equal(ar.len, 4608 + 512 + 1024);
	for (int p = 0; p < 2; p++) {
		use_pipe = p;
		for (size_t i = 0; i < sizeof(cut_rows) / sizeof(cut_rows[0]); i++) {
			const struct cut_row *r = &cut_rows[i];
			char label[80];
			struct strbuf cut = STRBUF_INIT;
			size_t n = p ? r->n_pipe : r->n_file;

			strbuf_add(&cut, ar.buf, r->at);
			{
				char *path = in_tmp("cut.tar");
				FILE *f = fopen(path, "wb");

				assert_non_null(f);
				assert_int_equal(fwrite(cut.buf, 1, cut.len, f), cut.len);
				assert_int_equal(fclose(f), 0);
				free(path);
			}
			snprintf(label, sizeof(label), "%s, from a %s", r->label, p ? "pipe" : "file");
			wrong += !walk_in_child(label, "cut.tar", r->rc, n, n ? "a.txt" : NULL);
			strbuf_release(&cut);
		}
	}
	use_pipe = 0;
	strbuf_release(&ar);
	strbuf_release(&big);
	assert_int_equal(wrong, 0);
}

/*
 * What is held in memory before an entry is bounded: an extension header
 * ('L', 'K', 'x') of at most 1 MiB, at most 32 of them, and some 3 MiB read
 * for one entry's headers (a GNU sparse map, which libarchive keeps in
 * memory at 12 times its size, is read there: without the bound the 9 MiB
 * map walks, in 115 MB).  An AppleDouble "._" entry is an entry like any
 * other (libarchive, where it merges them into the next, reads them whole).
 */
struct bound_row {
	const char *label;
	int kind;
	int rc;
	size_t entries;
};

enum { LONG_NAME_1M, LONG_NAME_OVER_1M, THREE_1M_HEADERS, MANY_PAX, SPARSE_MAP_9M, APPLE_DOUBLE };

static const struct bound_row bound_rows[] = {
	{ "'L' name of 1 MiB", LONG_NAME_1M, 0, 2 },
	{ "'L' name of 1 MiB + 1", LONG_NAME_OVER_1M, -1, 0 },
	{ "'L', 'K' and 'x' headers of 1 MiB each", THREE_1M_HEADERS, 0, 2 },
	{ "40 pax headers before an entry", MANY_PAX, -1, 0 },
	{ "a GNU sparse 1.0 map of 9 MiB", SPARSE_MAP_9M, -1, 0 },
	{ "a 200 KB \"._\" entry", APPLE_DOUBLE, 0, 2 },
};

static void make_bound_archive(struct strbuf *ar, int kind)
{
	struct strbuf body = STRBUF_INIT;

	switch (kind) {
	case LONG_NAME_1M:
	case LONG_NAME_OVER_1M:
		add_chars(&body, 'n', (1u << 20) - 1 + (kind == LONG_NAME_OVER_1M));
		strbuf_addch(&body, '\0');
		add_header(ar, "././@LongLink", 'L', body.len);
		add_data(ar, body.buf, body.len);
		add_header(ar, "short", '0', 0);
		break;
	case THREE_1M_HEADERS: {
		struct strbuf comment = STRBUF_INIT;

		add_chars(&body, 'n', (1u << 20) - 1);
		strbuf_addch(&body, '\0');
		add_header(ar, "././@LongLink", 'L', body.len);
		add_data(ar, body.buf, body.len);
		add_header(ar, "././@LongLink", 'K', body.len);
		add_data(ar, body.buf, body.len);
		strbuf_reset(&body);
		add_chars(&comment, 'c', 999990);
		add_pax_record(&body, "comment", comment.buf);
		add_pax_record(&body, "mtime", "1");
		add_header(ar, "PaxHeaders/x", 'x', body.len);
		add_data(ar, body.buf, body.len);
		add_header(ar, "lnk", '2', 0);
		strbuf_release(&comment);
		break;
	}
	case MANY_PAX:
		for (int i = 0; i < 40; i++) {
			add_header(ar, "PaxHeaders/x", 'x', 12);
			add_data(ar, "12 path=x/y\n", 12);
		}
		add_header(ar, "x", '0', 0);
		break;
	case SPARSE_MAP_9M: {
		struct strbuf rec = STRBUF_INIT;
		size_t pairs = (9u << 20) / 4;

		add_pax_record(&rec, "GNU.sparse.major", "1");
		add_pax_record(&rec, "GNU.sparse.minor", "0");
		add_pax_record(&rec, "GNU.sparse.name", "sparse");
		add_pax_record(&rec, "GNU.sparse.realsize", "999999");
		strbuf_addf(&body, "%zu\n", pairs);
		for (size_t i = 0; i < pairs; i++)
			strbuf_addstr(&body, "0\n0\n");
		while (body.len % BLOCK) /* the map is padded to a block, in the data */
			strbuf_addch(&body, '\n');
		add_header(ar, "PaxHeaders/sparse", 'x', rec.len);
		add_data(ar, rec.buf, rec.len);
		strbuf_release(&rec);
		add_header(ar, "GNUSparseFile.0/sparse", '0', body.len);
		add_data(ar, body.buf, body.len);
		break;
	}
	case APPLE_DOUBLE:
		add_chars(&body, 'm', 200000);
		add_header(ar, "._tool", '0', body.len);
		add_data(ar, body.buf, body.len);
		break;
	}
	add_header(ar, "after", '0', 0);
	strbuf_release(&body);
}

static void test_memory_bounds(void **state)
{
	int wrong = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bound_rows) / sizeof(bound_rows[0]); i++) {
		struct strbuf ar = STRBUF_INIT;

		make_bound_archive(&ar, bound_rows[i].kind);
		write_archive("bound.tar", &ar);
		wrong += !walk_in_child(bound_rows[i].label, "bound.tar", bound_rows[i].rc, bound_rows[i].entries, NULL);
		strbuf_release(&ar);
	}
	assert_int_equal(wrong, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_name_prefixes),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_pax_records),
		cmocka_unit_test(test_pax_without_path_regression), /* regression, see above */
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_not_tar),
		cmocka_unit_test(test_not_tar_forged), /* regression, see above */
		cmocka_unit_test(test_pax_malformed_regression), /* regression, see above */
		cmocka_unit_test(test_size_regression), /* regression, see above */
		cmocka_unit_test(test_name_mixed_prefixes_regression), /* regression, see above */
		cmocka_unit_test(test_names_are_bytes),
		cmocka_unit_test(test_very_long_names),
		cmocka_unit_test(test_data_past_max),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_memory_bounds),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
