/*
 * Running a program to completion with its stdout and stderr captured (git, tar, a trainer
 * script): no shell, stdin fed from memory, output capped.
 */
#ifndef FERRY_UTIL_SUBPROCESS_H
#define FERRY_UTIL_SUBPROCESS_H

#include <stddef.h>

#include "util/strbuf.h"

/* Filled by subprocess_run; the strbufs are the caller's, freed by subprocess_result_release. */
struct subprocess_result {
	int exit_code; /* the exit status, or -1 if killed by a signal */
	int signal;    /* the signal that killed it, or 0 */
	struct strbuf out, err;
};

#define SUBPROCESS_RESULT_INIT                                                                     \
	{                                                                                          \
		0, 0, STRBUF_INIT, STRBUF_INIT                                                     \
	}

/*
 * Runs argv[0] (looked up in $PATH unless it contains a '/') with arguments argv (NULL-
 * terminated) in directory cwd (NULL: ours), writing stdin_data to its stdin (NULL: /dev/null)
 * and collecting stdout and stderr, read concurrently so the child never blocks on a full pipe.
 * A child that exits non-zero or dies of a signal is a success for this function: look at
 * exit_code and signal. Errors: ERR_NOTFOUND if the program or cwd does not exist, ERR_TOOBIG
 * (after killing the child) if stdout or stderr exceeds max_output bytes, ERR_IO otherwise.
 * On success *out is overwritten (release a reused result first); on failure it is untouched.
 */
int subprocess_run(struct subprocess_result *out, const char *const argv[], const char *cwd,
		   const char *stdin_data, size_t max_output, struct error *err);

/* Frees the captured output and reinitialises r. */
void subprocess_result_release(struct subprocess_result *r);

#endif
