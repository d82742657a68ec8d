/*
 * language: which language a service folder is written in, decided from its
 * manifests, so that a phase can give each language its own checklist
 * (phase.h, phase_for_language).
 */
#ifndef PHASELAB_LANGUAGE_H
#define PHASELAB_LANGUAGE_H

#define LANGUAGE_NODE "node"
#define LANGUAGE_PYTHON "python"

/*
 * "node" when dir holds a package.json; else "python" when it holds a
 * requirements.txt, pyproject.toml, setup.py, Pipfile or main.py; else NULL.
 * Only regular files count, and links are not followed (a learner's link
 * to a manifest elsewhere says nothing of this folder).  Static strings.
 */
const char *service_language(const char *dir);

#endif
