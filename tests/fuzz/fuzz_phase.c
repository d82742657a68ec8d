/*
 * The phase-file loader: phase_load_file() on any bytes (phase.h).
 *
 * A file it refuses gets a message that names the file; a file it accepts
 * holds what the schema bounds: 1 to 64 checks with unique ids, each of a
 * known kind with an object of parameters, a pass mark the points can reach,
 * a port and limits in range, environment entries "NAME=value"; and each
 * language's variant makes such a phase (phase_for_language).
 *
 * The seeds are whole documents of about 1 KiB: mutate them at full length.
 * fuzz-options: -len_control=0
 */
#include "fuzz.h"

#include "core/check.h"
#include "core/phase.h"
#include "lib/strbuf.h"

static int is_id(const char *s)
{
	if (!*s)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s);
}

static void check_loaded(const struct phase *ph, const char *file)
{
	int points = 0;
	size_t i, j;

	FUZZ_CHECK(!strcmp(ph->file, file), "file '%s'", ph->file);
	FUZZ_CHECK(ph->id && is_id(ph->id), "id '%s'", ph->id ? ph->id : "(null)");
	FUZZ_CHECK(ph->number >= 1 && ph->number <= 99, "number %d", ph->number);
	FUZZ_CHECK(ph->title && ph->service_dir && ph->dir, "a string is missing");
	FUZZ_CHECK(ph->nchecks >= 1 && ph->nchecks <= 64, "%zu checks", ph->nchecks);
	FUZZ_CHECK(ph->port >= 1 && ph->port <= 65535, "port %d", ph->port);
	FUZZ_CHECK(ph->build_timeout_ms > 0 && ph->start_timeout_ms > 0, "timeouts %ld %ld",
		   ph->build_timeout_ms, ph->start_timeout_ms);
	FUZZ_CHECK(ph->memory_mb > 0 && ph->pids > 0 && ph->cpus > 0, "limits %ld %ld %g",
		   ph->memory_mb, ph->pids, ph->cpus);
	for (i = 0; i < ph->nrequires; i++)
		FUZZ_CHECK(ph->requires[i], "requires[%zu] is NULL", i);
	for (i = 0; i < ph->nbase_images; i++)
		FUZZ_CHECK(ph->base_images[i], "base_images[%zu] is NULL", i);
	for (i = 0; i < ph->nenv; i++)
		FUZZ_CHECK(ph->env[i] && ph->env[i][0] != '=' && strchr(ph->env[i], '='),
			   "env[%zu] '%s'", i, ph->env[i] ? ph->env[i] : "(null)");
	for (i = 0; i < ph->nchecks; i++) {
		const struct check_def *d = &ph->checks[i];

		FUZZ_CHECK(d->id && is_id(d->id), "checks[%zu].id", i);
		FUZZ_CHECK(d->title && d->kind && d->kind->run, "checks[%zu]: no title or kind", i);
		FUZZ_CHECK(json_is_object(d->params), "checks[%zu].params is not an object", i);
		FUZZ_CHECK(d->points >= 0 && d->timeout_ms > 0, "checks[%zu]: points %d, timeout %ld", i,
			   d->points, d->timeout_ms);
		FUZZ_CHECK(phase_check(ph, d->id) == d, "phase_check('%s') finds another check", d->id);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(ph->checks[j].id, d->id), "checks[%zu] and [%zu] share id '%s'", j, i,
				   d->id);
		points += d->points;
	}
	FUZZ_CHECK(ph->pass_mark >= 0 && ph->pass_mark <= points, "pass mark %d of %d points",
		   ph->pass_mark, points);
	FUZZ_CHECK(phase_check(ph, "no such id, never an id") == NULL, "phase_check found a non-id");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	const char *file = fuzz_file(data, size);
	int rc = phase_load_file(file, &ph, &err);

	if (rc == 0) {
		const char *lang;
		json_t *v;

		check_loaded(&ph, file);
		FUZZ_CHECK(ph.language && is_id(ph.language), "language '%s'", ph.language ? ph.language : "(null)");
		/* each variant the loader accepted makes a phase that holds what the schema bounds */
		json_object_foreach(json_object_get(ph.root, "languages"), lang, v) {
			struct phase var;
			int vrc;

			strbuf_reset(&err);
			vrc = phase_for_language(&ph, lang, &var, &err);
			FUZZ_CHECK(vrc == 0, "variant %s refused after the load accepted it: %s", lang, err.buf);
			if (vrc == 0) {
				check_loaded(&var, file);
				FUZZ_CHECK(!strcmp(var.language, lang), "variant %s has the language %s", lang, var.language);
				FUZZ_CHECK(var.nchecks == ph.nchecks && var.nsteps == ph.nsteps, "variant %s: %zu checks, "
					   "%zu steps", lang, var.nchecks, var.nsteps);
				phase_release(&var);
			}
		}
	} else {
		FUZZ_CHECK(rc == -1, "returned %d", rc);
		FUZZ_CHECK(err.len > strlen(file) && !strncmp(err.buf, file, strlen(file)),
			   "the refusal does not name the file: '%s'", err.buf);
	}
	phase_release(&ph);
	strbuf_release(&err);
	return 0;
}
