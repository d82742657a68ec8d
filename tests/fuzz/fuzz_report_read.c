/*
 * The JSON reader of reports: json_loadb() and report_from_json() on any
 * bytes, as `phaselab report --from FILE` reads a file (report.h), then every
 * writer on what was read.
 *
 * What is checked: a refusal has a message and leaves the report empty;
 * every writer succeeds; what a writer prints is safe text (escape.h: valid
 * UTF-8, no control but newline and tab, no C1 or bidi control; colours only
 * as SGR in the text writer with colour); Markdown stays within GitHub's
 * 65536 characters; and the round trip the header promises: the report
 * written as JSON reads back, writes the same JSON again, and every writer
 * prints the same from the copy as from the report.
 *
 * A saved suite (schema phaselab.suite/v1) goes through suite_from_json()
 * and the suite writers instead, with the same checks.
 *
 * Each input costs twenty renderings, so mutations stay small; the seeds
 * with strings past the JSON report's 64 KiB bound are replayed whole.
 * fuzz-options: -max_len=16384 -len_control=0
 */
#include "fuzz.h"

#include "report/report.h"
#include "lib/strbuf.h"

#define MARKDOWN_MAX_CHARS 65536

struct output {
	char *buf;
	size_t len;
};

/* What writer format (color) prints for r; aborts if it fails. */
static struct output render(const struct report *r, const char *format, int color)
{
	struct output o = { NULL, 0 };
	FILE *f = open_memstream(&o.buf, &o.len);
	int rc;

	if (!f)
		abort();
	rc = report_format_find(format)->write(r, f, color);
	FUZZ_CHECK(fclose(f) == 0 && rc == 0, "the %s writer failed (%d)", format, rc);
	return o;
}

static size_t code_points(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static void check_read(struct report *r)
{
	struct strbuf err = STRBUF_INIT;
	struct report back;
	json_t *j1, *j2;
	size_t bad;

	/* each writer, and safe output */
	for (size_t i = 0; report_format_at(i); i++) {
		const char *const *fmt = &report_format_at(i)->name;

		for (int color = 0; color <= !strcmp(*fmt, "text"); color++) {
			struct output o = render(r, *fmt, color);

			bad = fuzz_unsafe_text(o.buf, o.len, color);
			FUZZ_CHECK(bad == (size_t)-1, "%s%s output: unsafe byte 0x%02x at offset %zu: '%.40s'",
				   *fmt, color ? " (colour)" : "", bad < o.len ? (unsigned char)o.buf[bad] : 0, bad,
				   bad < o.len ? o.buf + bad : "");
			if (!strcmp(*fmt, "markdown"))
				FUZZ_CHECK(code_points(o.buf, o.len) <= MARKDOWN_MAX_CHARS,
					   "Markdown of %zu characters", code_points(o.buf, o.len));
			free(o.buf);
		}
	}

	/* the round trip */
	j1 = report_to_json(r);
	FUZZ_CHECK(j1, "report_to_json() failed");
	FUZZ_CHECK(report_from_json(j1, &back, &err) == 0, "the report as written does not read back: %s", err.buf);
	j2 = report_to_json(&back);
	FUZZ_CHECK(j2 && json_equal(j1, j2), "read back, the report writes different JSON");
	for (size_t i = 0; report_format_at(i); i++) {
		const char *const *fmt = &report_format_at(i)->name;
		struct output a = render(r, *fmt, 0), b = render(&back, *fmt, 0);

		FUZZ_CHECK(a.len == b.len && !memcmp(a.buf, b.buf, a.len),
			   "the %s writer prints %zu bytes from the report, %zu from its JSON read back", *fmt,
			   a.len, b.len);
		free(a.buf);
		free(b.buf);
	}
	json_decref(j1);
	json_decref(j2);
	report_release(&back);
	strbuf_release(&err);
}

static struct output render_suite(const struct suite *s, const char *format, int color)
{
	struct output o = { NULL, 0 };
	FILE *f = open_memstream(&o.buf, &o.len);
	int rc;

	if (!f)
		abort();
	rc = suite_writer_find(format)(s, f, color);
	FUZZ_CHECK(fclose(f) == 0 && rc == 0, "the %s suite writer failed (%d)", format, rc);
	return o;
}

static void check_suite(struct suite *s)
{
	struct strbuf err = STRBUF_INIT;
	struct suite back;
	json_t *j1, *j2;
	size_t bad;

	for (size_t i = 0; report_format_at(i); i++) {
		const char *fmt = report_format_at(i)->name;

		for (int color = 0; color <= !strcmp(fmt, "text"); color++) {
			struct output o = render_suite(s, fmt, color);

			bad = fuzz_unsafe_text(o.buf, o.len, color);
			FUZZ_CHECK(bad == (size_t)-1, "suite %s%s output: unsafe byte 0x%02x at offset %zu", fmt,
				   color ? " (colour)" : "", bad < o.len ? (unsigned char)o.buf[bad] : 0, bad);
			if (!strcmp(fmt, "markdown"))
				FUZZ_CHECK(code_points(o.buf, o.len) <= MARKDOWN_MAX_CHARS,
					   "suite Markdown of %zu characters", code_points(o.buf, o.len));
			free(o.buf);
		}
	}
	j1 = suite_to_json(s);
	FUZZ_CHECK(j1, "suite_to_json() failed");
	FUZZ_CHECK(suite_from_json(j1, &back, &err) == 0, "the suite as written does not read back: %s", err.buf);
	j2 = suite_to_json(&back);
	FUZZ_CHECK(j2 && json_equal(j1, j2), "read back, the suite writes different JSON");
	for (size_t i = 0; report_format_at(i); i++) {
		const char *fmt = report_format_at(i)->name;
		struct output a = render_suite(s, fmt, 0), b = render_suite(&back, fmt, 0);

		FUZZ_CHECK(a.len == b.len && !memcmp(a.buf, b.buf, a.len),
			   "the %s suite writer prints %zu bytes from the suite, %zu from its JSON read back", fmt,
			   a.len, b.len);
		free(a.buf);
		free(b.buf);
	}
	json_decref(j1);
	json_decref(j2);
	suite_release(&back);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	json_error_t jerr;
	struct report r;
	json_t *root;

	/* the flags of cmd-report.c */
	root = json_loadb((const char *)data, size, 0, &jerr);
	if (!root)
		return 0;
	/* the schema decides the reader, as `phaselab report` does */
	if (report_json_schema(root) && !strcmp(report_json_schema(root), "phaselab.suite/v1")) {
		struct suite s;

		memset(&s, 0x5a, sizeof(s)); /* overwritten, never released */
		if (suite_from_json(root, &s, &err) == 0) {
			check_suite(&s);
		} else {
			FUZZ_CHECK(err.len > 0, "a suite refused without a message");
			FUZZ_CHECK(!s.services && !s.nservices && !s.phase_id && !s.dir, "a refused suite is not empty");
		}
		suite_release(&s);
		json_decref(root);
		strbuf_release(&err);
		return 0;
	}
	memset(&r, 0x5a, sizeof(r)); /* overwritten, never released */
	if (report_from_json(root, &r, &err) == 0) {
		check_read(&r);
	} else {
		FUZZ_CHECK(err.len > 0, "refused without a message");
		FUZZ_CHECK(!r.checks && !r.nchecks && !r.phase_id && !r.dir, "a refused report is not empty");
	}
	report_release(&r);
	json_decref(root);
	strbuf_release(&err);
	return 0;
}
