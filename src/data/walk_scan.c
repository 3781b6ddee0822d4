/*
 * The compact, pre-sorted listing behind data status and data add: one level of directories at
 * a time in parallel, each directory sorted on its own thread, the paths joined depth first.
 */
#include "util/common.h"
#include "data/walk.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#include <dirent.h>
#include <fcntl.h>

void walk_stat_from(struct walk_stat *out, const struct stat *st)
{
	out->size = (uint64_t)st->st_size;
	out->ino = (uint64_t)st->st_ino;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	out->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

/* One entry of a directory; name is "name/" for a directory, which makes strcmp sort as git. */
struct dent {
	const char *name; /* in the directory's names, once it is complete */
	size_t off;	  /* name's offset in names while the directory is read */
	size_t child;	  /* directories: the index of their sdir in the next level */
	struct walk_stat st;
	int executable, is_dir;
};

struct sdir {
	char *rel; /* relative to the top, "" for the top itself; owned */
	struct dent *ents;
	size_t n, alloc, nfiles;
	struct strbuf names;
};

struct slevel {
	struct sdir *dirs;
	size_t n;
};

struct sjob {
	int topfd;
	const char *top;
	struct sdir *dirs;
};

static int cmp_dent(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

static struct dent *push_dent(struct sdir *d, const char *name, int is_dir)
{
	struct dent *e;

	ALLOC_GROW(d->ents, d->n + 1, d->alloc);
	e = &d->ents[d->n++];
	memset(e, 0, sizeof(*e));
	e->off = d->names.len;
	e->is_dir = is_dir;
	strbuf_addstr(&d->names, name);
	if (is_dir)
		strbuf_addch(&d->names, '/');
	strbuf_add(&d->names, "", 1); /* the terminating NUL, kept in the buffer */
	return e;
}

/* Lists and sorts one directory. Directories known from d_type need no stat. */
static int read_sdir(size_t i, void *data, struct error *err)
{
	struct sjob *job = data;
	struct sdir *d = &job->dirs[i];
	struct dirent *de;
	DIR *dir = NULL;
	int fd, rc = 0;

	fd = *d->rel ? openat(job->topfd, d->rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
		     : dup(job->topfd);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		rc = error_errno(err, ERR_IO, errno, "cannot open directory '%s/%s'", job->top,
				 d->rel);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (!rc && (errno = 0, de = readdir(dir))) {
		const char *nm = de->d_name;
		struct stat st;

		if (nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2])))
			continue;
		if (de->d_type == DT_DIR) {
			push_dent(d, nm, 1);
		} else if (fstatat(fd, nm, &st, AT_SYMLINK_NOFOLLOW)) {
			rc = error_errno(err, ERR_IO, errno, "cannot stat '%s/%s%s%s'", job->top,
					 d->rel, *d->rel ? "/" : "", nm);
		} else if (S_ISREG(st.st_mode)) {
			struct dent *e = push_dent(d, nm, 0);

			walk_stat_from(&e->st, &st);
			e->executable = (st.st_mode & S_IXUSR) != 0;
			d->nfiles++;
		} else if (S_ISDIR(st.st_mode)) {
			push_dent(d, nm, 1);
		} else {
			rc = error_set(
			    err, ERR_INVALID,
			    "'%s/%s%s%s' is %s; only regular files and directories can be "
			    "versioned",
			    job->top, d->rel, *d->rel ? "/" : "", nm, walk_kind_name(st.st_mode));
		}
	}
	if (!rc && errno)
		rc = error_errno(err, ERR_IO, errno, "cannot read directory '%s/%s'", job->top,
				 d->rel);
	closedir(dir);
	if (rc)
		return rc;
	for (size_t k = 0; k < d->n; k++)
		d->ents[k].name = d->names.buf + d->ents[k].off;
	if (d->n > 1)
		qsort(d->ents, d->n, sizeof(*d->ents), cmp_dent);
	return 0;
}

static void release_level(struct slevel *lv)
{
	for (size_t i = 0; i < lv->n; i++) {
		free(lv->dirs[i].rel);
		free(lv->dirs[i].ents);
		strbuf_release(&lv->dirs[i].names);
	}
	free(lv->dirs);
}

/* The next level: every subdirectory of lv, each told its index there. */
static struct slevel next_level(struct slevel *lv)
{
	struct slevel next = { NULL, 0 };
	size_t alloc = 0;

	for (size_t i = 0; i < lv->n; i++) {
		struct sdir *d = &lv->dirs[i];

		for (size_t k = 0; k < d->n; k++) {
			struct dent *e = &d->ents[k];
			struct strbuf rel = STRBUF_INIT;

			if (!e->is_dir)
				continue;
			ALLOC_GROW(next.dirs, next.n + 1, alloc);
			if (*d->rel) {
				strbuf_addstr(&rel, d->rel);
				strbuf_addch(&rel, '/');
			}
			strbuf_add(&rel, e->name, strlen(e->name) - 1); /* without its '/' */
			e->child = next.n;
			memset(&next.dirs[next.n], 0, sizeof(next.dirs[next.n]));
			next.dirs[next.n].names = (struct strbuf)STRBUF_INIT;
			next.dirs[next.n++].rel = strbuf_detach(&rel, NULL);
		}
	}
	return next;
}

struct emit {
	struct slevel *levels;
	struct walk_file *items;
	size_t nr;
	struct strbuf path;  /* the current directory, "prefix/sub/" */
	struct strbuf arena; /* every path, NUL-terminated */
	size_t *offs;	     /* items[i].path's offset in arena until it stops growing */
};

/* Depth first in each directory's sorted order: the paths come out in byte order. */
static void emit_dir(struct emit *em, size_t level, size_t i)
{
	const struct sdir *d = &em->levels[level].dirs[i];
	size_t len = em->path.len;

	for (size_t k = 0; k < d->n; k++) {
		const struct dent *e = &d->ents[k];

		if (e->is_dir) {
			strbuf_addstr(&em->path, e->name);
			emit_dir(em, level + 1, e->child);
			strbuf_setlen(&em->path, len);
			continue;
		}
		em->offs[em->nr] = em->arena.len;
		strbuf_add(&em->arena, em->path.buf, em->path.len);
		strbuf_addstr(&em->arena, e->name);
		strbuf_add(&em->arena, "", 1);
		em->items[em->nr].st = e->st;
		em->items[em->nr++].executable = e->executable;
	}
}

static int scan_levels(struct slevel **levels, size_t *nlevels, int topfd, const char *top,
		       struct error *err)
{
	struct slevel cur = { xcalloc(1, sizeof(struct sdir)), 1 };
	size_t alloc = 0;
	int rc = 0;

	cur.dirs[0].rel = xstrdup("");
	cur.dirs[0].names = (struct strbuf)STRBUF_INIT;
	for (;;) {
		struct sjob job = { topfd, top, cur.dirs };

		ALLOC_GROW(*levels, *nlevels + 1, alloc);
		(*levels)[(*nlevels)++] = cur;
		if (!cur.n)
			break;
		rc = workpool_run(cur.n, 0, 1, read_sdir, &job, err);
		if (rc)
			break;
		cur = next_level(&(*levels)[*nlevels - 1]);
	}
	return rc;
}

int walk_scan_dir(struct walk_scan *out, const char *dir, const char *prefix, struct error *err)
{
	struct slevel *levels = NULL;
	struct emit em = { NULL, NULL, 0, STRBUF_INIT, STRBUF_INIT, NULL };
	size_t nlevels = 0, nfiles = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot open directory '%s'", dir);
	rc = scan_levels(&levels, &nlevels, fd, dir, err);
	close(fd);
	if (rc)
		goto out;
	for (size_t l = 0; l < nlevels; l++)
		for (size_t i = 0; i < levels[l].n; i++)
			nfiles += levels[l].dirs[i].nfiles;
	em.levels = levels;
	em.items = xcalloc(nfiles ? nfiles : 1, sizeof(*em.items));
	em.offs = xcalloc(nfiles ? nfiles : 1, sizeof(*em.offs));
	if (*prefix) {
		strbuf_addstr(&em.path, prefix);
		strbuf_addch(&em.path, '/');
	}
	emit_dir(&em, 0, 0);
	if (em.nr != nfiles)
		BUG("walk_scan_dir: listed %zu files, emitted %zu", nfiles, em.nr);
	out->arena = strbuf_detach(&em.arena, NULL);
	for (size_t i = 0; i < em.nr; i++)
		em.items[i].path = out->arena + em.offs[i];
	out->items = em.items;
	out->nr = em.nr;
out:
	for (size_t l = 0; l < nlevels; l++)
		release_level(&levels[l]);
	free(levels);
	free(em.offs);
	strbuf_release(&em.path);
	return rc;
}

void walk_scan_release(struct walk_scan *s)
{
	free(s->items);
	free(s->arena);
	memset(s, 0, sizeof(*s));
}
