/*
 * Listing the regular files under a directory for versioning, with ferry's policy on everything
 * else: symbolic links, sockets, FIFOs and devices are refused with an error naming them (data
 * is versioned by content; a link's target may live outside the project and change behind our
 * back). Empty directories are not recorded.
 */
#ifndef FERRY_DATA_WALK_H
#define FERRY_DATA_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct error;

struct walk_entry {
	char *relpath; /* owned; relative to the walked directory, '/'-separated */
	struct stat st;
};

struct walk_list {
	struct walk_entry *items;
	size_t nr, alloc;
};
#define WALK_LIST_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/*
 * Appends every regular file under dir to out, sorted by relpath bytes. ERR_INVALID for a
 * symlink or special file (naming it), ERR_IO for unreadable directories.
 */
int walk_files(struct walk_list *out, const char *dir, struct error *err);
void walk_list_release(struct walk_list *list);

/* What the stat cache compares, and the one mode bit a manifest records. */
struct walk_stat {
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
};
void walk_stat_from(struct walk_stat *out, const struct stat *st);

struct walk_file {
	const char *path; /* prefix "/" relpath; borrowed from the listing's arena */
	struct walk_stat st;
	int executable; /* owner execute bit */
};

/*
 * The compact listing that scanning many files (data status, data add) needs: 48 bytes a file
 * instead of a struct stat, every path in one arena, already in path byte order (each directory
 * sorted on its own, as git sorts tree entries, a directory as "name/"), so no global sort.
 */
struct walk_scan {
	struct walk_file *items;
	size_t nr;
	char *arena; /* owned: the paths */
};
#define WALK_SCAN_INIT                                                                             \
	{                                                                                          \
		NULL, 0, NULL                                                                      \
	}

/*
 * Fills out (WALK_SCAN_INIT) with every regular file under dir, each path prefix "/" relpath
 * (relpath alone when prefix is ""),
 * sorted by path bytes; the same policy and errors as walk_files. On failure *out is untouched.
 */
int walk_scan_dir(struct walk_scan *out, const char *dir, const char *prefix, struct error *err);
void walk_scan_release(struct walk_scan *s);

/* "a symbolic link", "a socket", "a FIFO", "a device", "a directory", "a regular file". */
const char *walk_kind_name(mode_t mode);

#endif
