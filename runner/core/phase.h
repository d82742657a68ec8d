/*
 * phase: one phase of the curriculum, loaded from phases/<id>/phase.json.
 *
 * The loader declares every key once (schema.h) and refuses an unknown key,
 * a wrong type, a value out of bounds, an unknown check kind or a duplicate
 * check id, naming the file and the key: a broken phase file is exit 2.
 */
#ifndef PHASELAB_PHASE_H
#define PHASELAB_PHASE_H

#include <jansson.h>
#include <stddef.h>

#include "lib/strbuf.h"

struct check_kind;

/*
 * The hints for one cause a check's kind reports (its "causes" entry in the
 * phase file): 1 to 3 tiers, a nudge, then the diagnosis, then the fix.
 * Texts may hold {evidence_key} placeholders (report/hint.h, hint_fill).
 */
struct check_cause {
	char *id;            /* declared by the kind (check_kind.causes) */
	char **tiers;
	size_t ntiers;
};

struct check_def {
	char *id;
	char *title;
	const struct check_kind *kind;
	int points;
	int graded;          /* 0: a step's gate, verified by `next`, not an item of the graded checklist */
	long timeout_ms;     /* the item's own time limit */
	json_t *params;      /* owned; validated against kind->params; never NULL */
	char *waits_on;      /* optional: id of a check this one needs (else from the kind) */
	char **hints;        /* tiered hints for learners: a nudge first, the fix last */
	size_t nhints;       /* (the fallback when no cause was identified, or it has no entry) */
	struct check_cause *causes; /* hints per cause, in the file's order */
	size_t ncauses;
};

/* One step of a phase's lesson: its text, and the checks that verify it. */
struct phase_step {
	char *id;
	char *title;
	char *lesson;        /* the Markdown file, relative to the phase's folder; NULL: none */
	size_t *checks;      /* indexes into phase.checks */
	size_t nchecks;
	/*
	 * The service folders the step verifies instead of the phase's own:
	 * names of folders beside service_dir ("api-gateway"); none: its own.
	 */
	char **services;
	size_t nservices;
};

struct phase {
	char *file;          /* the phase.json it came from */
	char *dir;           /* its folder (lesson text lives there) */
	char *id;            /* "03-containerization" */
	int number;          /* 3 */
	char *track;         /* the name of its track ("workshop" unless the file says) */
	char *language;      /* the language its checklist is for: "node" unless the file says (core/language.h) */
	char *title;
	char *service_dir;   /* the service folder in a learner's workspace */
	char **requires;
	size_t nrequires;
	int pass_mark;
	long build_timeout_ms;
	char **base_images;  /* images the lab provides (make images); missing = environment */
	size_t nbase_images;
	/* the container the runtime checks share */
	int port;
	char **env;          /* "NAME=value" */
	size_t nenv;
	long memory_mb, pids;
	double cpus;
	long start_timeout_ms; /* how long the app may take to answer */
	const char *exit_hint; /* why its container usually stops at once (borrowed from root or the key table) */
	struct check_def *checks;
	size_t nchecks;
	char *intro;         /* the phase's introduction (Markdown, relative to dir); NULL: none */
	struct phase_step *steps; /* never empty: without "steps", one step holds every check */
	size_t nsteps;
	json_t *root;        /* the whole document (owned) */
};

/*
 * Load and validate one phase file.  0, or -1 with "FILE: KEY: problem" in err.
 * Its "languages" variants are validated too (an unknown key, a wrong type,
 * a check id the phase lacks, a parameter its kind refuses once merged:
 * "FILE: languages.python.checks.xyz: problem").
 */
int phase_load_file(const char *file, struct phase *ph, struct strbuf *err);

/*
 * The phase for a service in language ("node", "python"): 0 with out a full
 * copy of base for its own language (base->language; NULL means it too),
 * or base with its "languages" variant merged in for another (container key
 * by key, base_images replaced, each named check's title, hints and causes
 * replaced and its params merged key by key); out->language says which, and
 * out has no variants of its own.  1 when the phase has no checklist for
 * that language (out untouched; err: "phase 03-containerization has no
 * checklist for python"); -1 when the variant is invalid (err names the file
 * and the key).  phase_release(out) after 0.
 */
int phase_for_language(const struct phase *base, const char *language, struct phase *out, struct strbuf *err);

/*
 * The phases folder: $PHASELAB_PHASES, else phases/ beside the program's
 * bin/ folder (a source tree), else the installed one, $(datadir)/phaselab/
 * phases (lib/fsutil.h, install_dir).  New string.
 */
char *phases_root(void);

/*
 * Find a phase by id ("03-containerization"), number ("3") or unambiguous id
 * prefix, and load it.  "TRACK/PHASE" ("backend/10", "backend/orch") looks
 * among that track's phases only.  0, -1 with a message (no such phase
 * lists the known ids; an unknown track the known tracks; a broken file
 * names the file and key).  Only the phase's own file is loaded (and the
 * tracks file for a TRACK/ prefix), so a broken neighbour does not stop it.
 */
int phase_find(const char *root, const char *which, struct phase *ph, struct strbuf *err);

/*
 * A track: one path through the curriculum, with its own starting service
 * and lessons, declared as data in the phases folder's tracks.json (its
 * keys: track_keys in phase.c).  Phases name theirs with "track"; their ids and
 * numbers are unique across tracks, and "requires" stays within a track.
 * Without a tracks.json, the folder has one track, the workshop, with the
 * workshop's service and README (track_implicit).
 */
struct track {
	char *name;          /* "backend": what phases and `init --track` name */
	char *title;
	char *summary;       /* NULL: none */
	char *service;       /* its starting service: a folder of the labs ("backend") */
	char *workspace_dir; /* the folder `init` gives that service in a workspace */
	char *readme;        /* the workspace's README.md: a file of the labs, relative to it */
	char *about;         /* what `init` says of the service's folder */
	int is_default;      /* `init` without --track; a progress file that names no track */
};

struct track_set {
	char *file;          /* the tracks.json read, or NULL: the implicit workshop */
	struct track *tracks; /* in the file's order, the order `list` shows them */
	size_t n;
};

#define TRACK_DEFAULT_NAME "workshop" /* the track of a phase file without "track" */

/*
 * Read root/tracks.json; without one, the single implicit track.  0, or -1
 * with "FILE: KEY: problem" in err.
 */
int tracks_load(const char *root, struct track_set *ts, struct strbuf *err);
const struct track *track_find(const struct track_set *ts, const char *name);
const struct track *track_default(const struct track_set *ts);
/* "workshop, backend" into sb: the known names, for messages. */
void track_names(const struct track_set *ts, struct strbuf *sb);
void track_set_release(struct track_set *ts);


/* The check with this id, or NULL. */
const struct check_def *phase_check(const struct phase *ph, const char *id);

/* def's hints for the cause id (NULL: none), or NULL. */
const struct check_cause *check_def_cause(const struct check_def *def, const char *id);

void phase_release(struct phase *ph);

/* The index of the step with this id, or -1. */
int phase_step_index(const struct phase *ph, const char *id);

/*
 * Every phase in a phases folder, in the order a learner meets them: by
 * number, with the tracks.  Loading refuses what would break a walk through
 * them: a broken phase or tracks file, a phase of no known track, a phase
 * whose service folder is not its track's, two phases with one number, a
 * "requires" naming no phase or a phase of another track, and cycles (a
 * phase that needs itself, directly or not).
 *
 * phases[0..n) are the phases in view: all of them, or one track's after
 * phase_set_select_track; the others stay loaded in phases[n..nall), so
 * that a search can say which track a phase out of view belongs to.
 */
struct phase_set {
	char *root;
	struct phase *phases;
	size_t n;
	size_t nall;
	struct track_set tracks;
	const struct track *selected; /* the track in view, or NULL: every one */
};

int phase_set_load(const char *root, struct phase_set *set, struct strbuf *err);
/*
 * Keep only track name's phases in view (their order kept).  0, or -1 with
 * "no track 'x' (known: ...)" in err, the view unchanged.
 */
int phase_set_select_track(struct phase_set *set, const char *name, struct strbuf *err);
/*
 * By id, number or unambiguous prefix, as phase_find, among the phases in
 * view; "TRACK/PHASE" among that track's.  NULL with a message in err (for a
 * phase of a track out of view, it says which track holds it).
 */
struct phase *phase_set_find(struct phase_set *set, const char *which, struct strbuf *err);
/* The phases of track t (in view or not) in number order, into out (borrowed; at most set->nall). */
size_t phase_set_of_track(const struct phase_set *set, const struct track *t, const struct phase **out);
void phase_set_release(struct phase_set *set);

/*
 * The phase file's key tables (top level, steps, container, checks), then
 * the tracks file's (top level, a track), NULL-terminated: for tests.
 */
struct key_spec;
extern const struct key_spec *const phase_key_tables[];

#endif
