/*
 * Keeping versioned data out of git: `ferry data add dir/x` adds "/x" to dir/.gitignore, under a
 * lock so that concurrent adds in the same directory lose no entry.
 */
#ifndef FERRY_DATA_GITIGNORE_H
#define FERRY_DATA_GITIGNORE_H

struct error;

/*
 * Ensures the .gitignore in path's directory has an entry "/<basename>" (path is absolute).
 * lock_path: a file to flock while editing (created if needed). Written atomically.
 */
int gitignore_add(const char *path, const char *lock_path, struct error *err);

#endif
