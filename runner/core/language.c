#include "core/language.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What marks a Python service: its manifests, or the entry point the material uses. */
static const char *const python_files[] = {
	"requirements.txt", "pyproject.toml", "setup.py", "Pipfile", "main.py", NULL,
};

static int has_file(const char *dir, const char *name)
{
	struct stat sb;
	char *path = xasprintf("%s/%s", dir, name);
	int ok = lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);

	free(path);
	return ok;
}

const char *service_language(const char *dir)
{
	if (!dir || !*dir)
		return NULL;
	/* package.json first: a Node service that also ships a main.py is still run by node */
	if (has_file(dir, "package.json"))
		return LANGUAGE_NODE;
	for (const char *const *f = python_files; *f; f++)
		if (has_file(dir, *f))
			return LANGUAGE_PYTHON;
	return NULL;
}

int phase_is_python(const struct phase *ph)
{
	return ph->language && !strcmp(ph->language, LANGUAGE_PYTHON);
}

int phase_for_dir(const struct phase *ph, const char *dir, struct phase *variant, const struct phase **use,
		  struct strbuf *err)
{
	const char *lang = service_language(dir);
	int rc;

	*use = ph;
	if (!lang || !strcmp(lang, ph->language))
		return 0;
	rc = phase_for_language(ph, lang, variant, err);
	if (rc == 0)
		*use = variant;
	else if (rc > 0)
		strbuf_addf(err, " (the folder '%s' holds a %s service)", dir, lang);
	return rc;
}
