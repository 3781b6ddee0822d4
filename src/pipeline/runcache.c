/* The run cache: entries naming a stage's outputs by digest, and restoring them. */
#include "util/common.h"
#include "data/cas.h"
#include "data/manifest.h"
#include "pipeline/runcache.h"
#include "util/fs.h"
#include "util/parse.h"
#include "util/strbuf.h"

#include <dirent.h>

#define ENTRY_MAX_SIZE (1u << 20)

static void add_field(struct sha256_ctx *c, const char *tag, const char *s)
{
	char len[32];

	/* length-prefixed: no two different states hash the same text */
	snprintf(len, sizeof(len), "%s %zu:", tag, strlen(s));
	sha256_update(c, len, strlen(len));
	sha256_update(c, s, strlen(s));
}

void runcache_key(char out[SHA256_HEX_SIZE], const struct stage *st, const struct lock_stage *now)
{
	struct sha256_ctx c;
	unsigned char d[SHA256_DIGEST_SIZE];
	struct lock_stage copy;

	/* sorted, so the order deps are listed in does not matter */
	lock_stage_copy(&copy, now);
	lock_stage_sort(&copy);
	sha256_init(&c);
	add_field(&c, "ferry-runcache", "1");
	add_field(&c, "cmd", now->cmd);
	add_field(&c, "wdir", st->wdir);
	for (size_t i = 0; i < copy.ndeps; i++) {
		add_field(&c, "dep", copy.deps[i].path);
		add_field(&c, "hex", copy.deps[i].hex);
	}
	for (size_t i = 0; i < copy.nparams; i++) {
		add_field(&c, "param", copy.params[i].file);
		add_field(&c, "key", copy.params[i].key);
		add_field(&c, "value", copy.params[i].value);
	}
	for (size_t i = 0; i < st->outs.nr; i++)
		add_field(&c, "out", st->outs.v[i]);
	sha256_final(&c, d);
	sha256_hex(d, out);
	lock_stage_release(&copy);
}

static char *entry_path(struct cas *cas, const char *key)
{
	return xstrfmt("%s/runs/%.2s/%s", cas->dir, key, key + 2);
}

int runcache_put(struct cas *cas, const char *key, const struct lock_entry *outs, size_t nouts,
		 struct error *err)
{
	struct strbuf text = STRBUF_INIT;
	char *path = entry_path(cas, key), *dir = xstrfmt("%s/runs/%.2s", cas->dir, key);
	int rc;

	strbuf_addstr(&text, "ferry-runcache 1\n");
	for (size_t i = 0; i < nouts; i++) {
		strbuf_addf(&text, "%s %" PRIu64 " ", outs[i].hex, outs[i].size);
		if (outs[i].is_dir)
			strbuf_addf(&text, "%" PRIu64, outs[i].nfiles);
		else
			strbuf_addch(&text, '-');
		strbuf_addf(&text, " %s\n", outs[i].path);
	}
	rc = fs_mkdir_p(dir, 0777, err);
	if (!rc)
		rc = fs_write_atomic(path, text.buf, text.len, 0444, err);
	strbuf_release(&text);
	free(path);
	free(dir);
	return rc;
}

static int parse_line(struct lock_entry *e, char *line, struct error *err, const char *name,
		      int lineno)
{
	char *f[4] = { line, NULL, NULL, NULL };

	for (int i = 1; i < 4; i++) {
		char *sp = strchr(f[i - 1], ' ');

		if (!sp)
			return error_set(err, ERR_INVALID, "%s:%d: expected 4 fields", name,
					 lineno);
		*sp = '\0';
		f[i] = sp + 1;
	}
	if (strlen(f[0]) != 64 || parse_uint64(f[1], &e->size) || !*f[3] ||
	    (strcmp(f[2], "-") && parse_uint64(f[2], &e->nfiles)))
		return error_set(err, ERR_INVALID, "%s:%d: malformed entry", name, lineno);
	memcpy(e->hex, f[0], SHA256_HEX_SIZE);
	e->is_dir = strcmp(f[2], "-") != 0;
	e->path = xstrdup(f[3]);
	return 0;
}

static bool is_hex_name(const char *name, size_t n)
{
	return strlen(name) == n && strspn(name, "0123456789abcdef") == n;
}

/*
 * The outputs of the entry at path, each to fn (its first non-zero return is returned). An
 * entry that is gone, too large or malformed sets *bad instead; err is then left alone.
 */
static int entry_outs(const char *path, int (*fn)(const struct lock_entry *out, void *data),
		      void *data, int *bad, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct error e = ERROR_INIT;
	char *line, *save = NULL;
	int rc = fs_read_file(&buf, path, ENTRY_MAX_SIZE, &e), lineno = 1;

	*bad = rc == ERR_TOOBIG;
	if (rc == ERR_NOTFOUND || rc == ERR_TOOBIG) { /* removed since the listing; too large */
		rc = 0;
		goto out;
	}
	if (rc) {
		rc = error_set(err, rc, "%s", e.msg);
		goto out;
	}
	line = buf.buf ? strtok_r(buf.buf, "\n", &save) : NULL;
	*bad = !line || strcmp(line, "ferry-runcache 1");
	while (!rc && !*bad && (line = strtok_r(NULL, "\n", &save))) {
		struct lock_entry o = { 0 };

		if (parse_line(&o, line, &e, path, ++lineno))
			*bad = 1;
		else
			rc = fn(&o, data);
		free(o.path);
	}
out:
	strbuf_release(&buf);
	return rc;
}

int runcache_foreach_out(struct cas *cas, int (*fn)(const struct lock_entry *out, void *data),
			 void *data, size_t *skipped, struct error *err)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	size_t base;
	DIR *top;
	int rc = 0;

	*skipped = 0;
	strbuf_addf(&path, "%s/runs", cas->dir);
	top = opendir(path.buf);
	if (!top) {
		rc = errno == ENOENT
			 ? 0
			 : error_errno(err, ERR_IO, errno, "cannot read '%s'", path.buf);
		goto out;
	}
	base = path.len;
	/* runs/<2 hex>/<62 hex>: anything else there is not an entry */
	while (!rc && (de = readdir(top))) {
		DIR *sub;

		if (!is_hex_name(de->d_name, 2))
			continue;
		strbuf_setlen(&path, base);
		strbuf_addf(&path, "/%s", de->d_name);
		if (!(sub = opendir(path.buf)))
			continue;
		for (struct dirent *e; !rc && (e = readdir(sub));) {
			size_t dir_len = path.len;
			int bad;

			if (!is_hex_name(e->d_name, 62))
				continue;
			strbuf_addf(&path, "/%s", e->d_name);
			rc = entry_outs(path.buf, fn, data, &bad, err);
			*skipped += bad;
			strbuf_setlen(&path, dir_len);
		}
		closedir(sub);
	}
	closedir(top);
out:
	strbuf_release(&path);
	return rc;
}

/* Every object out needs is present (a directory's manifest and its files). */
static int complete(struct cas *cas, const struct lock_entry *out, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct manifest m = MANIFEST_INIT;
	int ok;

	if (!cas_has(cas, out->hex))
		return 0;
	if (!out->is_dir)
		return 1;
	ok = !cas_read(cas, out->hex, &buf, MANIFEST_MAX_SIZE, err) &&
	     !manifest_parse(&m, out->path, buf.buf ? buf.buf : "", buf.len, err);
	for (size_t i = 0; ok && i < m.nr; i++)
		ok = cas_has(cas, m.items[i].hex);
	manifest_release(&m);
	strbuf_release(&buf);
	return ok;
}

int runcache_get(struct lock_entry **outs, size_t *nouts, struct cas *cas, const char *key,
		 const struct stage *st, struct error *err)
{
	char *path = entry_path(cas, key), *line, *save = NULL;
	struct strbuf buf = STRBUF_INIT;
	struct lock_entry *v = xcalloc(st->outs.nr + 1, sizeof(*v));
	size_t n = 0;
	int rc = fs_read_file(&buf, path, ENTRY_MAX_SIZE, err), lineno = 1;

	if (rc == ERR_NOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	line = buf.buf ? strtok_r(buf.buf, "\n", &save) : NULL;
	if (!line || strcmp(line, "ferry-runcache 1")) {
		rc = error_set(err, ERR_INVALID, "%s:1: expected 'ferry-runcache 1'", path);
		goto out;
	}
	while (!rc && (line = strtok_r(NULL, "\n", &save))) {
		if (n == st->outs.nr) {
			rc = 0; /* more outputs than the stage has now: not a match */
			goto out;
		}
		rc = parse_line(&v[n], line, err, path, ++lineno);
		if (!rc)
			n++;
	}
	if (rc || n != st->outs.nr)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int found = 0;

		for (size_t j = 0; j < st->outs.nr; j++)
			found |= !strcmp(v[i].path, st->outs.v[j]);
		if (!found || !complete(cas, &v[i], err))
			goto out;
	}
	*outs = v;
	*nouts = n;
	v = NULL;
	rc = 1;
out:
	for (size_t i = 0; v && i < n; i++)
		free(v[i].path);
	free(v);
	strbuf_release(&buf);
	free(path);
	return rc;
}

static int restore_dir(struct cas *cas, const char *dest, const struct lock_entry *out,
		       struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct manifest m = MANIFEST_INIT;
	char *tmp = xstrfmt("%s.ferry-restore-%ld", dest, (long)getpid());
	char *old = xstrfmt("%s.ferry-old-%ld", dest, (long)getpid());
	int rc = cas_read(cas, out->hex, &buf, MANIFEST_MAX_SIZE, err);

	if (!rc)
		rc = manifest_parse(&m, out->path, buf.buf ? buf.buf : "", buf.len, err);
	if (!rc)
		rc = fs_remove_tree(tmp, err);
	if (!rc)
		rc = fs_mkdir_p(tmp, 0777, err);
	for (size_t i = 0; !rc && i < m.nr; i++) {
		char *p = fs_path_join(tmp, m.items[i].path);

		rc = cas_checkout(cas, m.items[i].hex, p, m.items[i].executable, NULL, err);
		free(p);
	}
	/* the old directory goes aside first: rename cannot replace a non-empty directory */
	if (!rc && fs_exists(dest) && rename(dest, old))
		rc = error_errno(err, ERR_IO, errno, "cannot move '%s' aside", dest);
	if (!rc && rename(tmp, dest))
		rc = error_errno(err, ERR_IO, errno, "cannot rename '%s' to '%s'", tmp, dest);
	if (!rc)
		rc = fs_remove_tree(old, err);
	if (rc) {
		struct error ignored = ERROR_INIT;

		fs_remove_tree(tmp, &ignored);
	}
	manifest_release(&m);
	strbuf_release(&buf);
	free(tmp);
	free(old);
	return rc;
}

int runcache_restore(struct cas *cas, const char *root, const struct lock_entry *out,
		     struct error *err)
{
	char *dest = fs_path_join(root, out->path);
	struct stat st;
	int rc = 0;

	if (out->is_dir) {
		rc = restore_dir(cas, dest, out, err);
	} else {
		/* a directory where the file goes would make cas_checkout's rename fail */
		if (!lstat(dest, &st) && S_ISDIR(st.st_mode))
			rc = fs_remove_tree(dest, err);
		if (!rc)
			rc = cas_checkout(cas, out->hex, dest, 0, NULL, err);
	}
	free(dest);
	return rc;
}
