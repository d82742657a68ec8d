/*
 * Byte-for-byte comparison of a test's output with a golden file under
 * tests/golden/ (found under $PHASELAB_ROOT or the current directory, the
 * repository root under make).  PHASELAB_UPDATE_GOLDEN=1 rewrites the files:
 * read the diff (git diff tests/golden) before committing.
 *
 * Included after cmocka.h (fail_msg) and strbuf.h / xalloc.h; everything is
 * static.
 */
#ifndef PHASELAB_TEST_GOLDEN_H
#define PHASELAB_TEST_GOLDEN_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&sb, chunk, n);
	fclose(f);
	return strbuf_detach(&sb, len);
}

/* Print up to 160 bytes of a line with control bytes made visible. */
static void show_line(const char *label, const char *s, size_t len, size_t at)
{
	size_t start = at, end = at, i;

	while (start && s[start - 1] != '\n')
		start--;
	while (end < len && s[end] != '\n' && end - start < 160)
		end++;
	fprintf(stderr, "  %s: ", label);
	for (i = start; i < end; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputc('\n', stderr);
}

static void check_golden(const char *name, const char *got, size_t got_len)
{
	const char *root = getenv("PHASELAB_ROOT");
	const char *update = getenv("PHASELAB_UPDATE_GOLDEN");
	char *path = xasprintf("%s/tests/golden/%s", root && *root ? root : ".", name);
	size_t want_len, i, line = 1;
	char *want;

	if (update && !strcmp(update, "1")) {
		FILE *f = fopen(path, "wb");

		if (!f || fwrite(got, 1, got_len, f) != got_len || fclose(f))
			fail_msg("cannot write '%s': %s", path, strerror(errno));
		fprintf(stderr, "updated %s\n", path);
		free(path);
		return;
	}
	want = slurp(path, &want_len);
	if (!want)
		fail_msg("cannot read '%s': %s (PHASELAB_UPDATE_GOLDEN=1 creates it)", path,
			 strerror(errno));
	for (i = 0; i < want_len && i < got_len && want[i] == got[i]; i++)
		if (got[i] == '\n')
			line++;
	if (i < want_len || i < got_len) {
		fprintf(stderr, "%s differs at line %zu (byte %zu):\n", path, line, i);
		show_line("expected", want, want_len, i);
		show_line("got     ", got, got_len, i);
		free(want);
		free(path);
		fail_msg("output differs from the golden file; if intended, rerun with "
			 "PHASELAB_UPDATE_GOLDEN=1 and read the diff");
	}
	free(want);
	free(path);
}

#endif
