/*
 * fuzz.h: what the libFuzzer harnesses in tests/fuzz/ share.
 *
 * Adding a harness:
 *  1. a file tests/fuzz/fuzz_<target>.c defining LLVMFuzzerTestOneInput for
 *     one reader of untrusted input, called the way the program calls it;
 *  2. after the call, FUZZ_CHECK() what the reader's header promises (every
 *     broken promise aborts, so libFuzzer keeps the input like a crash);
 *  3. seeds in tests/fuzz/corpus/<target>/, from the real fixtures;
 *  4. nothing else: `make fuzz-build` builds every fuzz_*.c (into build-fuzz/)
 *     and tests/fuzz/run runs them.
 *
 * A harness links the library as `make test` does (runner/ and checks/ but
 * main.c).  One that needs a file's static functions includes that file and
 * names it on a line "fuzz-replaces: checks/x.c", so the Makefile leaves that
 * object out of its link.
 * A line "fuzz-options: -max_len=N" passes libFuzzer options when fuzzing.
 */
#ifndef PHASELAB_FUZZ_H
#define PHASELAB_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));
static void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: broken contract: %s\n  ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Abort with the file, the line, the condition and a message when cond is false. */
#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

/*
 * A file holding data[0..size), for readers that take a path: one memfd,
 * rewritten for each input, named "/proc/self/fd/N" (opening that name
 * gives a description of its own, at offset 0).  The name is static.
 */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("phaselab-fuzz", MFD_CLOEXEC);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz_file");
		abort();
	}
	return path;
}

/* A NUL-terminated copy of data[0..size) (NUL bytes inside stay); free() it. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Where s[0..len) breaks the rule for text that reaches a person (escape.h:
 * valid UTF-8; no C0 control but '\n' and '\t', no DEL, no C1 control, no
 * bidirectional embedding, override or isolate); with sgr set, ESC is
 * allowed as the start of a colour ("ESC [ digits ; m").  Returns the offset
 * of the first offence, or (size_t)-1 when there is none.
 */
static inline size_t fuzz_unsafe_text(const char *str, size_t len, int sgr)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k, need;
	uint32_t c, min;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			if (c == 0x1b && sgr && i + 1 < len && s[i + 1] == '[') {
				for (k = i + 2; k < len && ((s[k] >= '0' && s[k] <= '9') || s[k] == ';'); k++)
					;
				if (k < len && s[k] == 'm') {
					i = k + 1;
					continue;
				}
			}
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				return i;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, c &= 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, c &= 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, c &= 0x07, min = 0x10000;
		} else {
			return i;
		}
		if (i + need >= len)
			return i;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return i;
		if ((c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
			return i;
		i += need + 1;
	}
	return (size_t)-1;
}

#endif
