/*
 * Error reporting: every fallible function returns 0 or a negative ERR_* code and fills the
 * caller's struct error with a user-facing message. Never allocates.
 */
#ifndef FERRY_UTIL_ERROR_H
#define FERRY_UTIL_ERROR_H

#include <stddef.h>

enum error_code {
	ERR_OK = 0,
	ERR_INVALID = -1,     /* bad input: a file, a field, an argument */
	ERR_NOTFOUND = -2,    /* a named thing does not exist */
	ERR_EXISTS = -3,      /* a named thing exists already */
	ERR_IO = -4,	      /* the operating system refused: open, read, write, rename */
	ERR_STORE = -5,	      /* the metadata store failed */
	ERR_UNSUPPORTED = -6, /* recognised but not available in this build */
	ERR_USAGE = -7,	      /* the command line is wrong: the CLI exits with 2 */
	ERR_TOOBIG = -8,      /* input exceeds a size cap */
	ERR_CONFLICT = -9,    /* state changed underneath us */
	ERR_INTERNAL = -10,   /* a library we call failed in a way the user cannot fix */
	ERR_AUTH = -11,	      /* missing or wrong credentials (HTTP 401) */
};

#define ERROR_MSG_SIZE 512

struct error {
	int code;
	char msg[ERROR_MSG_SIZE];
};

#define ERROR_INIT                                                                                 \
	{                                                                                          \
		0,                                                                                 \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/*
 * Records code and a printf-style message in err (may be NULL) and returns code, so callers can
 * write `return error_set(err, ERR_IO, "cannot open '%s': %s", path, strerror(errno));`.
 * Messages are lowercase, without a trailing period, and name what failed first.
 */
int error_set(struct error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like error_set, but appends ": <strerror(errnum)>". */
int error_errno(struct error *err, int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Prepends context to an existing message ("loading config: " + old message) and returns
 * err->code. Truncates rather than fails when the result does not fit.
 */
int error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets err to "no error". */
void error_clear(struct error *err);

/* A short name of a code, for logs and --json output: "invalid", "not_found", ... */
const char *error_code_name(int code);

/* Aborts with file:line for program errors, never for bad input. */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void bug_fl(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
