/* Adding entries to .gitignore files, atomically and under a lock. */
#include "util/common.h"
#include "data/gitignore.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <sys/file.h>

#define GITIGNORE_MAX_SIZE (16 * 1024 * 1024)

/* True if text has a line that is exactly entry (ignoring a trailing CR and spaces). */
static int has_line(const char *text, const char *entry)
{
	size_t n = strlen(entry);

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		size_t trimmed = len;

		while (trimmed && (p[trimmed - 1] == '\r' || p[trimmed - 1] == ' '))
			trimmed--;
		if (trimmed == n && !memcmp(p, entry, n))
			return 1;
		p += len + (p[len] == '\n');
	}
	return 0;
}

/* Escapes characters gitignore treats specially, so the entry matches exactly one name. */
static void add_escaped(struct strbuf *sb, const char *name)
{
	if (*name == '#' || *name == '!')
		strbuf_addch(sb, '\\');
	for (; *name; name++) {
		if (strchr("*?[\\", *name))
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *name);
	}
	/* git drops trailing spaces unless the last one is escaped. */
	if (sb->len && sb->buf[sb->len - 1] == ' ') {
		strbuf_setlen(sb, sb->len - 1);
		strbuf_addstr(sb, "\\ ");
	}
}

int gitignore_add(const char *path, const char *lock_path, struct error *err)
{
	const char *slash = strrchr(path, '/');
	struct strbuf file = STRBUF_INIT, entry = STRBUF_INIT, text = STRBUF_INIT;
	int lock = -1, rc;

	if (!slash || !slash[1])
		return error_set(err, ERR_INVALID, "'%s' names no file for .gitignore", path);
	if (strchr(slash + 1, '\n'))
		return error_set(err, ERR_INVALID,
				 "'%s': a name with a newline cannot be listed in .gitignore",
				 path);
	strbuf_add(&file, path, (size_t)(slash - path));
	strbuf_addstr(&file, "/.gitignore");
	strbuf_addch(&entry, '/');
	add_escaped(&entry, slash + 1);

	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0 || flock(lock, LOCK_EX)) {
		rc = error_errno(err, ERR_IO, errno, "cannot lock '%s'", lock_path);
		goto out;
	}
	rc = fs_read_file(&text, file.buf, GITIGNORE_MAX_SIZE, err);
	if (rc == ERR_NOTFOUND)
		rc = 0;
	if (rc || has_line(text.buf, entry.buf))
		goto out;
	if (text.len && text.buf[text.len - 1] != '\n')
		strbuf_addch(&text, '\n');
	strbuf_addbuf(&text, &entry);
	strbuf_addch(&text, '\n');
	rc = fs_write_atomic(file.buf, text.buf, text.len, 0644, err);
out:
	if (lock >= 0)
		close(lock); /* releases the flock */
	strbuf_release(&file);
	strbuf_release(&entry);
	strbuf_release(&text);
	return rc;
}
