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

/* "a symbolic link", "a socket", "a FIFO", "a device", "a directory", "a regular file". */
const char *walk_kind_name(mode_t mode);

#endif
