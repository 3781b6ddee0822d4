/*
 * Libraries loaded on first use (dlopen) instead of at process start.
 *
 * Why: libxgboost (with libstdc++, libgomp, libdmlc), OpenBLAS/LAPACKE (with libgfortran) and
 * libarchive (with libxml2 and ICU) cost every ferry process about 10 ms of CPU in the dynamic
 * loader, and OpenBLAS starts a thread pool that spins in sched_yield() at load; most commands
 * (data status, log-metric, serve of a linear model) never call them. Measured on `ferry help`:
 * 22 ms CPU and 38 ms wall with them linked (bench/README.md, "startup").
 *
 * A struct dynlib names one library by its soname (the Debian runtime package's file, e.g.
 * "libxgboost.so.0"); dynlib_load opens it once per process (thread-safe), and dynlib_sym
 * resolves symbols from it. The library stays loaded until exit. Static storage only: nothing
 * to free.
 */
#ifndef FERRY_UTIL_DYNLIB_H
#define FERRY_UTIL_DYNLIB_H

#include <pthread.h>

struct error;

struct dynlib {
	const char *soname;  /* e.g. "libopenblas.so.0" */
	const char *package; /* the Debian package that provides it, for the message */
	pthread_once_t once;
	void *handle;	/* NULL until loaded (or when loading failed) */
	char fail[256]; /* dlerror() of a failed load */
};

#define DYNLIB_INIT(soname, package)                                                               \
	{                                                                                          \
		(soname), (package), PTHREAD_ONCE_INIT, NULL,                                      \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/*
 * Loads lib (once; later calls return the first result): 0, or ERR_UNSUPPORTED "cannot load
 * libxgboost.so.0 (Debian package libxgboost0): <dlerror>".
 */
int dynlib_load(struct dynlib *lib, struct error *err);

/*
 * The address of symbol name in lib, loading lib first: non-NULL, or NULL with err filled
 * (ERR_UNSUPPORTED naming the library and the symbol).
 */
void *dynlib_sym(struct dynlib *lib, const char *name, struct error *err);

/* The message of a failed load ("" when loading succeeded or was not tried). */
const char *dynlib_failure(const struct dynlib *lib);

#endif
