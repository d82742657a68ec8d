/*
 * layers: what the implementations of image_layers share (engine-impl.h):
 * the layers and their instructions from an image's configuration, the
 * filter of struct layer_walk, the reading of whiteouts in a layer archive,
 * and the two ways to read an image's layers, each bounded in memory:
 *
 *  - in place, where the engine keeps overlay2 storage on this machine: the
 *    image inspect's GraphDriver names the layers' diff folders (LowerDir,
 *    newest first, then UpperDir), and the image's configuration (history
 *    and diff ids) is beside them in the engine's image store; walked
 *    without following a link, only beneath the paths asked for;
 *  - from an archive of the saved image (`docker save`: manifest.json, the
 *    configuration, one tar archive per layer): an index of its entries
 *    first (name, offset, size), then each layer's archive read where it
 *    lies in the file (tar_walk_range), so a layer is never copied out.
 *
 * Either way the configuration must name the layers the inspect object
 * names (RootFS.Layers), in order: what is read is the image asked about.
 */
#include "engine/engine-impl.h"
#include "lib/fsutil.h"
#include "lib/tar.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define CONFIG_MAX (16u << 20)     /* an image configuration: its history grows with its steps */
#define MANIFEST_MAX (4u << 20)
#define INDEX_MAX 200000           /* entries of a saved image's archive (a few per layer) */
#define LAYERS_MAX 1000            /* more than any engine stacks */
#define DEPTH_MAX 128

/* --- the layers, from the configuration ---------------------------------- */

int layers_from_config(json_t *config, json_t *image, struct layer_walk *w, struct strbuf *why)
{
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	json_t *layers = json_object_get(json_object_get(image, "RootFS"), "Layers");
	json_t *history = json_object_get(config, "history"), *row;
	size_t n = json_array_size(layers), i, k = 0, carrying = 0;

	if (!json_is_array(layers) || !n || n > LAYERS_MAX) {
		strbuf_addstr(why, "the image names no layers (RootFS.Layers)");
		return -1;
	}
	if (!json_equal(diff_ids, layers)) {
		strbuf_addf(why, "its configuration names %zu layers that are not the image's %zu",
			    json_array_size(diff_ids), n);
		return -1;
	}
	json_array_foreach(history, i, row)
		carrying += !json_is_true(json_object_get(row, "empty_layer"));
	w->layers = xcalloc(n, sizeof(*w->layers));
	w->nlayers = n;
	for (i = 0; i < n; i++)
		w->layers[i].diff_id = xstrdup(json_string_value(json_array_get(layers, i)) ?: "");
	/* the rows that carry a layer, in order; none named when they do not add up */
	if (carrying == n) {
		json_array_foreach(history, i, row) {
			if (json_is_true(json_object_get(row, "empty_layer")))
				continue;
			w->layers[k++].created_by = xstrdup(json_string_value(json_object_get(row, "created_by")) ?: "");
		}
	}
	for (i = 0; i < n; i++)
		if (!w->layers[i].created_by)
			w->layers[i].created_by = xstrdup("");
	return 0;
}

/* --- the filter ------------------------------------------------------------ */

/* Is name beneath (or at) one of the paths asked for, or a deletion that reaches one? */
static int wanted(const struct layer_walk *w, const char *name, char type)
{
	size_t n = strlen(name);

	if (!w->under)
		return 1;
	for (const char *const *p = w->under; *p; p++) {
		size_t pn = strlen(*p);

		if (!strncmp(name, *p, pn) && (!name[pn] || name[pn] == '/'))
			return 1;
		/* a folder above the path, deleted or made opaque, takes the path along */
		if ((type == LAYER_DELETED || type == LAYER_OPAQUE) && (!n || (n < pn && !strncmp(*p, name, n) &&
									   (*p)[n] == '/')))
			return 1;
	}
	return 0;
}

int layer_pass(struct layer_walk *w, size_t layer, const struct layer_entry *e)
{
	return wanted(w, e->name, e->type) ? w->fn(w->arg, layer, e) : 0;
}

int layer_pass_tar(struct layer_walk *w, size_t layer, const struct tar_entry *te)
{
	struct layer_entry e = { .type = te->type, .size = te->type == '0' ? te->size : 0 };
	char *name = xstrdup(te->name), *base;
	size_t n = strlen(name);
	int rc = 0;

	while (n && name[n - 1] == '/')
		name[--n] = '\0';
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	e.name = name;
	if (!strcmp(base, ".wh..wh..opq")) {
		/* the folder it is in hides what the layers below have there */
		base[base == name ? 0 : -1] = '\0';
		e.type = LAYER_OPAQUE;
		e.size = 0;
	} else if (!strncmp(base, ".wh..wh.", 8)) {
		goto out; /* the union filesystem's own bookkeeping (aufs), not a path of the image */
	} else if (!strncmp(base, ".wh.", 4)) {
		memmove(base, base + 4, strlen(base + 4) + 1);
		e.type = LAYER_DELETED;
		e.size = 0;
	}
	rc = layer_pass(w, layer, &e);
out:
	free(name);
	return rc;
}

/* --- in place: overlay2 ---------------------------------------------------- */

/* The folder's overlay opaque mark (trusted.*, or user.* for a rootless engine). */
static int opaque(int fd)
{
	static const char *const attrs[] = { "trusted.overlay.opaque", "user.overlay.opaque" };
	char v[4];

	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		ssize_t n = fgetxattr(fd, attrs[i], v, sizeof(v));
		if (n == 1 && v[0] == 'y')
			return 1;
	}
	return 0;
}

static char type_of(const struct stat *st)
{
	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
		return LAYER_DELETED; /* overlay2's whiteout */
	if (S_ISREG(st->st_mode))
		return '0';
	if (S_ISLNK(st->st_mode))
		return '2';
	if (S_ISCHR(st->st_mode))
		return '3';
	if (S_ISBLK(st->st_mode))
		return '4';
	if (S_ISDIR(st->st_mode))
		return '5';
	return '6';
}

struct place {
	struct layer_walk *w;
	size_t layer;
	struct strbuf path;
	int stop;        /* fn said stop */
	int failed;      /* a folder could not be read: errno */
};

/* Pass the entry at p->path (status st; fd: the folder's, when it is one). */
static void pass_here(struct place *p, const struct stat *st, int fd)
{
	struct layer_entry e = { .name = p->path.buf, .type = type_of(st) };

	if (e.type == '0')
		e.size = (unsigned long long)st->st_size;
	if (layer_pass(p->w, p->layer, &e) == 1)
		p->stop = 1;
	if (!p->stop && fd >= 0 && opaque(fd)) {
		e.type = LAYER_OPAQUE;
		if (layer_pass(p->w, p->layer, &e) == 1)
			p->stop = 1;
	}
}

/* Everything beneath the folder open as dirfd (taken over), whose path is p->path. */
static void walk_tree(struct place *p, int dirfd, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		p->failed = errno;
		close(dirfd);
		return;
	}
	while (!p->stop && (de = readdir(d))) {
		size_t keep = p->path.len;
		struct stat st;
		int sub = -1;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (p->path.len)
			strbuf_addch(&p->path, '/');
		strbuf_addstr(&p->path, de->d_name);
		if (S_ISDIR(st.st_mode) && depth < DEPTH_MAX)
			sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		pass_here(p, &st, sub);
		if (sub >= 0) {
			if (!p->stop)
				walk_tree(p, sub, depth + 1);
			else
				close(sub);
		}
		strbuf_setlen(&p->path, keep);
	}
	closedir(d);
}

/*
 * The layer's changes beneath `under` (one path, "" for all): down its
 * folders one at a time, each looked at without following a link (a
 * deleted or opaque one passes, and a deleted one ends the descent), then
 * everything beneath it.
 */
static void walk_under(struct place *p, int rootfd, const char *under)
{
	char *copy = xstrdup(under), *comp, *save = NULL;
	int cur = dup(rootfd);

	strbuf_reset(&p->path);
	if (cur < 0) {
		p->failed = errno;
		free(copy);
		return;
	}
	if (!under[strspn(under, "/")]) {
		walk_tree(p, cur, 0); /* the whole layer */
		free(copy);
		return;
	}
	for (comp = strtok_r(copy, "/", &save); comp && !p->stop; comp = strtok_r(NULL, "/", &save)) {
		int last = !save || !save[strspn(save, "/")], next = -1;
		struct stat st;

		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
			break; /* the layer has nothing there */
		if (p->path.len)
			strbuf_addch(&p->path, '/');
		strbuf_addstr(&p->path, comp);
		if (S_ISDIR(st.st_mode)) {
			next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0) {
				p->failed = errno;
				break;
			}
		}
		/* the folders above the path pass only when deleted or opaque (the filter decides) */
		pass_here(p, &st, next);
		close(cur);
		cur = next;
		if (cur < 0)
			break;
		if (last) {
			if (!p->stop) {
				walk_tree(p, cur, 0);
				cur = -1;
			}
			break;
		}
	}
	if (cur >= 0)
		close(cur);
	free(copy);
}

/* s without its last n components ("/a/b/c", 2: "/a"), new string; NULL when it has fewer. */
static char *strip_components(const char *s, int n)
{
	char *d = xstrdup(s), *slash;

	while (n-- > 0) {
		if (!(slash = strrchr(d, '/')) || slash == d) {
			free(d);
			return NULL;
		}
		*slash = '\0';
	}
	return d;
}

/*
 * The image's configuration in the engine's image store, beside the layers:
 * <root>/image/overlay2/imagedb/content/sha256/<id>, where the diff folders
 * are <root>/overlay2/<id>/diff.  A new reference, or NULL.
 */
static json_t *stored_config(const char *upper, const char *image_id)
{
	char *root = strip_components(upper, 3), *path;
	struct strbuf sb = STRBUF_INIT;
	json_t *config = NULL;
	const char *hex = image_id && !strncmp(image_id, "sha256:", 7) ? image_id + 7 : NULL;

	if (!root || !hex || strspn(hex, "0123456789abcdef") != 64 || hex[64]) {
		free(root);
		return NULL;
	}
	path = xasprintf("%s/image/overlay2/imagedb/content/sha256/%s", root, hex);
	if (read_file_nofollow(path, CONFIG_MAX, &sb) == 0)
		config = json_loadb(sb.buf, sb.len, 0, NULL);
	strbuf_release(&sb);
	free(path);
	free(root);
	return config;
}

int layers_in_place(struct engine *e, json_t *image, struct layer_walk *w)
{
	json_t *gd = json_object_get(image, "GraphDriver"), *data = json_object_get(gd, "Data"), *config;
	const char *driver = json_string_value(json_object_get(gd, "Name"));
	const char *upper = json_string_value(json_object_get(data, "UpperDir"));
	const char *lower = json_string_value(json_object_get(data, "LowerDir"));
	size_t want = json_array_size(json_object_get(json_object_get(image, "RootFS"), "Layers"));
	struct strbuf why = STRBUF_INIT;
	struct place p = { .w = w, .path = STRBUF_INIT };
	int *fds = NULL, rc = 1;
	size_t n = 0;

	if (!driver || strcmp(driver, "overlay2") || !upper || upper[0] != '/' || !want || want > LAYERS_MAX)
		return 1;
	/* the diff folders, oldest first: LowerDir lists them newest first, UpperDir is the newest */
	fds = xcalloc(want, sizeof(*fds));
	for (size_t i = 0; i < want; i++)
		fds[i] = -1;
	{
		char *copy = xstrdup(lower ? lower : ""), *dir, *save = NULL, **dirs = NULL;
		size_t ndirs = 0;

		for (dir = strtok_r(copy, ":", &save); dir && ndirs < want; dir = strtok_r(NULL, ":", &save)) {
			dirs = xrealloc(dirs, (ndirs + 1) * sizeof(*dirs));
			dirs[ndirs++] = dir;
		}
		if (!dir && ndirs + 1 == want) {
			for (size_t i = 0; i < want; i++) {
				const char *d = i + 1 < want ? dirs[ndirs - 1 - i] : upper;

				if (d[0] != '/' ||
				    (fds[i] = open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
					break;
				n++;
			}
		}
		free(dirs);
		free(copy);
	}
	if (n != want)
		goto out; /* not all here, or not ours to read: the archive instead */
	config = stored_config(upper, json_string_value(json_object_get(image, "Id")));
	if (!config || layers_from_config(config, image, w, &why) < 0) {
		json_decref(config);
		engine_layers_release(w);
		goto out;
	}
	json_decref(config);
	w->how = "in place";
	rc = 0;
	for (size_t i = 0; i < n && !p.stop && !p.failed; i++) {
		p.layer = i;
		if (!w->under)
			walk_under(&p, fds[i], "");
		for (const char *const *u = w->under; u && *u && !p.stop && !p.failed; u++)
			walk_under(&p, fds[i], *u);
	}
	if (p.failed)
		rc = engine_fail(e, "reading the image's layers in place: %s", strerror(p.failed));
out:
	for (size_t i = 0; i < want; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	strbuf_release(&p.path);
	strbuf_release(&why);
	return rc;
}

/* --- from a saved image's archive ----------------------------------------- */

struct indexed {
	char *name;      /* without a leading "./" or a trailing '/' */
	char *linkname;
	char type;
	unsigned long long offset, size;
};

struct archive_index {
	struct indexed *v;
	size_t n;
	int too_many;
};

static int index_entry(void *arg, const struct tar_entry *te, const struct strbuf *data)
{
	struct archive_index *ix = arg;
	struct indexed *x;
	size_t len = strlen(te->name);

	(void)data;
	if (ix->n == INDEX_MAX) {
		ix->too_many = 1;
		return 1;
	}
	ix->v = xrealloc(ix->v, (ix->n + 1) * sizeof(*ix->v));
	x = &ix->v[ix->n++];
	while (len && te->name[len - 1] == '/')
		len--;
	x->name = xstrndup(te->name, len);
	x->linkname = xstrdup(te->linkname);
	x->type = te->type;
	x->offset = te->offset;
	x->size = te->size;
	return 0;
}

static void index_release(struct archive_index *ix)
{
	for (size_t i = 0; i < ix->n; i++) {
		free(ix->v[i].name);
		free(ix->v[i].linkname);
	}
	free(ix->v);
}

/*
 * The regular file called name in the archive, following symbolic links
 * between its entries (`docker save` links a layer it holds twice), each
 * relative to its own folder.  NULL when there is none.
 */
static const struct indexed *find_file(const struct archive_index *ix, const char *name)
{
	char *want = xstrdup(name);
	const struct indexed *hit = NULL;

	for (int hops = 0; hops < 8 && want; hops++) {
		const struct indexed *x = NULL;
		char *next = NULL;

		for (size_t i = 0; i < ix->n && !x; i++)
			if (!strcmp(ix->v[i].name, want))
				x = &ix->v[i];
		if (x && x->type == '0') {
			hit = x;
			break;
		}
		if (x && x->type == '2' && x->linkname[0] != '/') {
			/* "../<id>/layer.tar" from "<id2>/layer.tar" */
			char *dir = xstrdup(want), *slash = strrchr(dir, '/');
			struct strbuf sb = STRBUF_INIT;
			const char *l = x->linkname;

			if (slash)
				*slash = '\0';
			else
				dir[0] = '\0';
			strbuf_addstr(&sb, dir);
			while (!strncmp(l, "../", 3) || !strncmp(l, "./", 2)) {
				if (l[1] == '/') {
					l += 2;
					continue;
				}
				slash = strrchr(sb.buf, '/');
				strbuf_setlen(&sb, slash ? (size_t)(slash - sb.buf) : 0);
				l += 3;
			}
			if (sb.len)
				strbuf_addch(&sb, '/');
			strbuf_addstr(&sb, l);
			next = strbuf_detach(&sb, NULL);
			free(dir);
		}
		free(want);
		want = next;
	}
	free(want);
	return hit;
}

/* A small file of the archive as JSON (new reference), or NULL. */
static json_t *read_json(const char *path, const struct indexed *x, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j = NULL;
	int fd;

	if (!x || x->size > max || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	strbuf_grow(&sb, (size_t)x->size);
	if (pread(fd, sb.buf, (size_t)x->size, (off_t)x->offset) == (ssize_t)x->size)
		j = json_loadb(sb.buf, (size_t)x->size, 0, NULL);
	close(fd);
	strbuf_release(&sb);
	return j;
}

/* Is the file nothing but a tar archive's end (zero blocks): a layer of no entries? */
static int zero_blocks(const char *path, const struct indexed *x)
{
	char buf[10240];
	int fd, zero = 0;

	if (x->size > sizeof(buf) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (pread(fd, buf, (size_t)x->size, (off_t)x->offset) == (ssize_t)x->size) {
		zero = 1;
		for (size_t i = 0; i < x->size; i++)
			zero &= !buf[i];
	}
	close(fd);
	return zero;
}

struct layer_tar {
	struct layer_walk *w;
	size_t layer;
	int stop;
};

static int pass_tar_entry(void *arg, const struct tar_entry *te, const struct strbuf *data)
{
	struct layer_tar *lt = arg;

	(void)data;
	if (layer_pass_tar(lt->w, lt->layer, te) == 1) {
		lt->stop = 1;
		return 1;
	}
	return 0;
}

int layers_from_archive(struct engine *e, const char *path, json_t *image, struct layer_walk *w)
{
	struct archive_index ix = { NULL, 0, 0 };
	struct strbuf why = STRBUF_INIT;
	json_t *manifest = NULL, *config = NULL, *paths;
	int rc = -1;

	if (tar_walk(path, index_entry, &ix, 0) < 0 || ix.too_many) {
		engine_fail(e, "reading the saved image: %s", ix.too_many ? "its archive holds too many entries"
								  : "it is not a tar archive");
		goto out;
	}
	manifest = read_json(path, find_file(&ix, "manifest.json"), MANIFEST_MAX);
	paths = json_object_get(json_array_get(manifest, 0), "Layers");
	config = read_json(path, find_file(&ix, json_string_value(json_object_get(json_array_get(manifest, 0), "Config"))
				       ?: ""), CONFIG_MAX);
	if (!json_is_array(paths) || !config) {
		engine_fail(e, "reading the saved image: no manifest.json naming its layers and configuration");
		goto out;
	}
	if (layers_from_config(config, image, w, &why) < 0 || json_array_size(paths) != w->nlayers) {
		engine_fail(e, "reading the saved image: %s", why.len ? why.buf : "its manifest names other layers");
		engine_layers_release(w);
		goto out;
	}
	w->how = "docker save";
	rc = 0;
	for (size_t i = 0; i < w->nlayers; i++) {
		const char *name = json_string_value(json_array_get(paths, i));
		const struct indexed *x = name ? find_file(&ix, name) : NULL;
		struct layer_tar lt = { w, i, 0 };

		if (!x) {
			rc = engine_fail(e, "reading the saved image: layer %zu (%s) is not in the archive", i + 1,
					 name ? name : "unnamed");
			break;
		}
		if (tar_walk_range(path, x->offset, x->size, pass_tar_entry, &lt, 0) < 0 && !lt.stop &&
		    !zero_blocks(path, x)) {
			rc = engine_fail(e, "reading the saved image: layer %zu is not a tar archive", i + 1);
			break;
		}
		if (lt.stop)
			break;
	}
out:
	json_decref(manifest);
	json_decref(config);
	index_release(&ix);
	strbuf_release(&why);
	return rc;
}
