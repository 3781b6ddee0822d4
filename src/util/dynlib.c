#include "util/common.h"
#include "util/dynlib.h"

#include <dlfcn.h>

#include "util/error.h"

/*
 * pthread_once takes no argument, so the library being loaded is handed over through a
 * thread-local: each call of dynlib_load sets it right before pthread_once on the same thread.
 */
static _Thread_local struct dynlib *loading;

static void load_once(void)
{
	struct dynlib *lib = loading;
	const char *why;

	/* RTLD_LOCAL: these libraries' symbols are reached only through dynlib_sym. */
	lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib->handle) {
		why = dlerror();
		snprintf(lib->fail, sizeof(lib->fail), "%s", why ? why : "unknown error");
	}
}

int dynlib_load(struct dynlib *lib, struct error *err)
{
	loading = lib;
	pthread_once(&lib->once, load_once);
	loading = NULL;
	if (lib->handle)
		return 0;
	return error_set(err, ERR_UNSUPPORTED, "cannot load %s (Debian package %s): %s",
			 lib->soname, lib->package, lib->fail);
}

void *dynlib_sym(struct dynlib *lib, const char *name, struct error *err)
{
	void *sym;

	if (dynlib_load(lib, err))
		return NULL;
	sym = dlsym(lib->handle, name);
	if (!sym)
		error_set(err, ERR_UNSUPPORTED, "%s has no symbol %s (Debian package %s)",
			  lib->soname, name, lib->package);
	return sym;
}

const char *dynlib_failure(const struct dynlib *lib)
{
	return lib->fail;
}
