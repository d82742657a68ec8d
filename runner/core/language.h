/*
 * language: which language a service folder is written in, decided from its
 * manifests, so that a phase can give each language its own checklist
 * (phase.h, phase_for_language).
 */
#ifndef PHASELAB_LANGUAGE_H
#define PHASELAB_LANGUAGE_H

#include "core/phase.h"
#include "lib/strbuf.h"

#define LANGUAGE_NODE "node"
#define LANGUAGE_PYTHON "python"

/*
 * "node" when dir holds a package.json; else "python" when it holds a
 * requirements.txt, pyproject.toml, setup.py, Pipfile or main.py; else NULL.
 * Only regular files count, and links are not followed (a learner's link
 * to a manifest elsewhere says nothing of this folder).  Static strings.
 */
const char *service_language(const char *dir);

/* Is ph's checklist the one for a Python service (its "language", or its variant's)? */
int phase_is_python(const struct phase *ph);

/*
 * The checklist for the service in dir: *use is ph itself when the folder's
 * language is the phase's own or undecided, else ph's variant for it, loaded
 * into *variant (phase_release it when *use == variant).  0, or as
 * phase_for_language: 1, the phase has none for that language, -1 a broken
 * variant, with the reason in err (and, for 1, which folder holds what).
 * The one place check, next and hint decide a single folder's checklist.
 */
int phase_for_dir(const struct phase *ph, const char *dir, struct phase *variant, const struct phase **use,
		  struct strbuf *err);

#endif
