/* struct error: fixed-size, allocation-free error messages passed up the call chain. */
#include "util/common.h"

static void error_vset(struct error *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int error_set(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int error_errno(struct error *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err)
		return code;
	va_start(ap, fmt);
	error_vset(err, code, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	return code;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
	char old[ERROR_MSG_SIZE];
	va_list ap;
	size_t len;

	if (!err)
		return ERR_INTERNAL;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, "%s", old);
	return err->code;
}

void error_clear(struct error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *error_code_name(int code)
{
	switch (code) {
	case ERR_OK:
		return "ok";
	case ERR_INVALID:
		return "invalid";
	case ERR_NOTFOUND:
		return "not_found";
	case ERR_EXISTS:
		return "exists";
	case ERR_IO:
		return "io";
	case ERR_STORE:
		return "store";
	case ERR_UNSUPPORTED:
		return "unsupported";
	case ERR_USAGE:
		return "usage";
	case ERR_TOOBIG:
		return "too_big";
	case ERR_CONFLICT:
		return "conflict";
	case ERR_INTERNAL:
		return "internal";
	case ERR_AUTH:
		return "unauthorized";
	}
	return "unknown";
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
