#include "core/language.h"
#include "lib/xalloc.h"

#include <stdlib.h>
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
