/*
 * ignore: the build context's .dockerignore, read the way Docker reads it.
 *
 * Docker (the CLI, buildx and BuildKit alike) reads the file with
 * moby/patternmatcher's ignorefile.ReadAll and decides with
 * PatternMatcher.MatchesOrParentMatches; this file follows both, quirks
 * included, so that what a check reports is what the engine does:
 *
 *  - a line whose first byte is '#' is a comment (" #x" is a pattern);
 *    lines are trimmed of Unicode white space, blank lines are skipped, a
 *    UTF-8 BOM before the first line is dropped;
 *  - a leading '!' makes an exception; the rest is cleaned like Go's
 *    filepath.Clean ("./a//b/../c/" is "a/c") and one leading '/' removed;
 *  - '*' and '?' never match '/', '[...]' is a character class ('^'
 *    negates, and, as in Docker, a negated class does match '/'), '\' quotes
 *    the next character, '**' matches any number of directories;
 *  - a path is excluded when the last pattern that matches it, or one of its
 *    parent directories, is not an exception;
 *  - the pattern "." matches nothing.
 *
 * Docker turns a pattern into a Go regular expression without quoting '^'
 * or what follows a '\', so a few spellings mean regular-expression syntax
 * there.  ignore_parse() models the common ones (\d \s \w and their
 * negations, \t \n \r \f \v \a, \A, \z, a '^' outside a class) and refuses
 * the rest with a message saying so, rather than guessing: POSIX classes
 * ("[[:alpha:]]"), '*' or '?' inside a class, and the escapes \b \B \p \P
 * \Q \x and octal.  Patterns Docker's matcher rejects only when it first
 * uses them (a reversed range "[z-a]", an escape such as "\e") are refused
 * here when the file is parsed.
 *
 * Excluded means "not sent in the build context".  Docker still sends the
 * Dockerfile and .dockerignore when they are excluded (COPY cannot see them);
 * ignore_excluded() reports the patterns' verdict and leaves that to callers.
 *
 * Error messages are one line, lowercase, appended to a caller's strbuf.
 */
#ifndef PHASELAB_IGNORE_H
#define PHASELAB_IGNORE_H

#include <stddef.h>

#include "lib/strbuf.h"

/* The file is read up to this size; a larger one is an error. */
#define IGNORE_MAX_FILE (1024 * 1024)

/* Docker's line reader (Go's bufio.Scanner) fails on longer lines. */
#define IGNORE_MAX_LINE 65535

struct ignore_rules;

/*
 * Which matcher the engine in use reads the file with.  They differ in one
 * place (tests/integration/ignorefiles builds it on each engine): a pattern
 * that starts with "**" not followed by '/'.  moby/patternmatcher (the
 * Docker CLI from 23) matches "**.js" as "ends in .js" at any depth; the
 * older copy of Docker's fileutils that the Docker CLI 20.10 (both builders)
 * and podman 4.3 (buildah 1.28) use reads it as "**\/.js", a file named
 * ".js", so it leaves out nothing.
 */
enum ignore_flavour {
	IGNORE_PATTERNMATCHER,  /* moby/patternmatcher: Docker CLI 23 and later */
	IGNORE_FILEUTILS,       /* the older fileutils: Docker CLI 20.10, buildah (podman 4.3) */
};

/*
 * Parse the text of a .dockerignore (text[0..len), need not be
 * NUL-terminated; may be NULL when len is 0).  Returns a new rule set that
 * the caller frees with ignore_free(), possibly holding no pattern.  Returns
 * NULL when a pattern is one Docker rejects (or one this file does not model,
 * see above), after appending "line N: ..." to err (err may be NULL).
 */
struct ignore_rules *ignore_parse(const char *text, size_t len, struct strbuf *err);

/* ignore_parse() for the engine's matcher fl. */
struct ignore_rules *ignore_parse_as(const char *text, size_t len, enum ignore_flavour fl, struct strbuf *err);

/*
 * ignore_load_dir() for the file DIR/NAME (".containerignore" on podman)
 * read with the matcher fl; messages name NAME.
 */
int ignore_load_file(const char *dir, const char *name, enum ignore_flavour fl, struct ignore_rules **out,
		     struct strbuf *err);

/*
 * The ignore file an engine reads in dir (static): podman (kind "podman")
 * reads .containerignore when it exists (whatever it is), else
 * .dockerignore; docker (any other kind, or NULL) only .dockerignore.
 */
const char *ignore_engine_file(const char *dir, const char *kind);

/*
 * The matcher of an engine: IGNORE_FILEUTILS for podman and for a docker
 * client (client_version, as the CLI reports it; NULL: unknown) before 23,
 * which reads the file under both builders; else IGNORE_PATTERNMATCHER.
 */
enum ignore_flavour ignore_engine_flavour(const char *kind, const char *client_version);

/*
 * Load DIR/.dockerignore (IGNORE_PATTERNMATCHER).  The file is opened without following a symbolic
 * link (Docker's builder would not follow it either) and read up to
 * IGNORE_MAX_FILE bytes.  Returns 1 and sets *out (the caller's, free with
 * ignore_free()) when the file exists and parsed; 0 with *out = NULL when
 * there is none; -1 with *out = NULL and a message appended to err (may be
 * NULL) when it cannot be opened or read, is a symbolic link (its target is
 * never printed), is not a regular file, is too large, or does not parse.
 */
int ignore_load_dir(const char *dir, struct ignore_rules **out, struct strbuf *err);

/*
 * 1 if the context-relative, slash-separated path ("src/app.js") is excluded
 * from the build context, else 0.  The path is cleaned first; "", "." and a
 * NULL rule set (no .dockerignore) exclude nothing.
 */
int ignore_excluded(const struct ignore_rules *r, const char *path);

/*
 * 1 if the folder dir is excluded and the engine's walk skips it whole, so
 * that nothing under it reaches the context; else 0.  The engine looks
 * inside an excluded folder only for an exception whose text starts with
 * the folder's path and a '/' ("!dir/keep", "!dir/sub/keep"); one that starts
 * with a wildcard ("!**\/keep") does not reach inside, whatever it matches.
 */
int ignore_excludes_all_under(const struct ignore_rules *r, const char *dir);

/*
 * 1 if the engine sends path: no folder above it is skipped by the engine's
 * walk (ignore_excludes_all_under) and it is not excluded itself.  This is
 * what reaches the context; ignore_excluded() is the patterns' verdict on
 * the path alone, which a walk that skipped its folder never asks.
 */
int ignore_reaches(const struct ignore_rules *r, const char *path);

/*
 * The pattern that decided ignore_excluded() for path: its line as written
 * (trimmed of white space, '!' included), borrowed from r and valid until
 * ignore_free(r), with its line number in *line (line may be NULL).  NULL and
 * *line = 0 when no pattern matches the path or a parent of it.
 */
const char *ignore_deciding_pattern(const struct ignore_rules *r, const char *path, int *line);

/* Number of patterns (lines that are neither blank nor comments); 0 for NULL. */
size_t ignore_count(const struct ignore_rules *r);

/* Free the rule set; NULL is fine. */
void ignore_free(struct ignore_rules *r);

#endif
