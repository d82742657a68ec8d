/*
 * The lesson renderer: mdterm_render() on any bytes (mdterm.h), as `phaselab
 * show` and `phaselab hint` call it with an author's lesson text.
 *
 * The first byte chooses the options (bit 0: colour; the rest: a width,
 * clamped by the renderer); the rest is the Markdown.
 *
 * What is checked: the text appended is valid UTF-8 whose only control
 * character is '\n'; in colour the only escape sequences are SGR and no
 * style is left on at a line break or at the end, in plain there is none;
 * every line ends with '\n', and no blank line leads or trails; what the
 * buffer held before is left alone.
 *
 * fuzz-options: -max_len=8192
 */
#include "fuzz.h"

#include "learn/mdterm.h"
#include "lib/escape.h"
#include "lib/strbuf.h"

#define BEFORE "before\n"

static void check_output(const char *s, size_t len, int color)
{
	struct strbuf valid = STRBUF_INIT;
	size_t i, j;
	int styled = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x1b) {
			FUZZ_CHECK(color, "an escape at offset %zu of plain output", i);
			FUZZ_CHECK(i + 1 < len && s[i + 1] == '[', "the escape at offset %zu is no CSI", i);
			for (j = i + 2; j < len && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';'); j++)
				;
			FUZZ_CHECK(j < len && s[j] == 'm', "the escape at offset %zu is no SGR", i);
			styled = !(j == i + 3 && s[i + 2] == '0');
			i = j;
			continue;
		}
		if (c == '\n') {
			FUZZ_CHECK(!styled, "a style is on at the line break at offset %zu", i);
			continue;
		}
		FUZZ_CHECK(c >= 0x20 && c != 0x7f, "control byte 0x%02x at offset %zu", c, i);
		FUZZ_CHECK(!(c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0),
			   "a C1 control at offset %zu", i);
		FUZZ_CHECK(!(c == 0xe2 && i + 2 < len &&
			     ((s[i + 1] == '\x80' && s[i + 2] >= '\xaa' && s[i + 2] <= '\xae') ||
			      (s[i + 1] == '\x81' && s[i + 2] >= '\xa6' && s[i + 2] <= '\xa9'))),
			   "a bidi control at offset %zu", i);
	}
	FUZZ_CHECK(!styled, "a style is on at the end");
	if (len) {
		FUZZ_CHECK(s[len - 1] == '\n', "the last line has no '\\n'");
		FUZZ_CHECK(s[0] != '\n', "a blank line leads");
		FUZZ_CHECK(!(len >= 2 && s[len - 2] == '\n'), "a blank line trails");
	}
	escape_utf8(&valid, s, len);
	FUZZ_CHECK(valid.len == len && !memcmp(valid.buf, s, len), "the output is not valid UTF-8");
	strbuf_release(&valid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT;
	struct mdterm_opts o;
	size_t before = strlen(BEFORE);

	if (!size)
		return 0;
	o.color = data[0] & 1;
	o.width = data[0] >> 1;
	strbuf_addstr(&out, BEFORE);
	mdterm_render(&out, (const char *)data + 1, size - 1, &o);
	FUZZ_CHECK(out.len >= before && !memcmp(out.buf, BEFORE, before), "the text before was changed");
	check_output(out.buf + before, out.len - before, o.color);
	strbuf_release(&out);
	return 0;
}
