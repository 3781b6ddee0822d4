/*
 * Locks between concurrent `ferry repro` processes (and threads): one lock file per output path
 * under .ferry/tmp/locks/, taken exclusively by the stage that writes the output and shared by the
 * stages that read it, always in path order so two processes cannot deadlock; and one lock
 * around updating ferry.lock. flock(2) locks die with the process, so a crash never leaves a
 * stale lock behind. A busy lock is waited for (the caller is told once, to say so), never an
 * error.
 */
#ifndef FERRY_PIPELINE_FLOCK_H
#define FERRY_PIPELINE_FLOCK_H

#include <stddef.h>

struct error;

struct pipe_locks {
	int *fds;
	size_t n;
};
#define PIPE_LOCKS_INIT                                                                            \
	{                                                                                          \
		NULL, 0                                                                            \
	}

/*
 * Takes the locks of root-relative paths: exclusive for the nw paths in writes, shared for the
 * nr paths in reads. waiting(path, data) is called before blocking on a busy lock (may be
 * NULL). ERR_IO if a lock file cannot be opened.
 */
int pipe_locks_take(struct pipe_locks *out, const char *ferry_dir, char *const *writes, size_t nw,
		    char *const *reads, size_t nr, void (*waiting)(const char *path, void *data),
		    void *data, struct error *err);

/* Releases every lock (closing the files); safe on PIPE_LOCKS_INIT. */
void pipe_locks_release(struct pipe_locks *l);

#endif
