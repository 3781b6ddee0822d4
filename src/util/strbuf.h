/*
 * strbuf: a growable, always NUL-terminated byte buffer (git's strbuf.h).
 *
 * Ownership: a strbuf owns buf. STRBUF_INIT needs no release until something is added;
 * strbuf_release() frees and reinitialises; strbuf_detach() hands buf to the caller, who frees it.
 * buf is never NULL: an empty strbuf points at a shared "" that must not be written.
 */
#ifndef FERRY_UTIL_STRBUF_H
#define FERRY_UTIL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

extern char strbuf_slopbuf[];

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		0, 0, strbuf_slopbuf                                                               \
	}

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Returns the buffer (caller frees) and leaves sb empty; *len may be NULL. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Ensures room for extra more bytes plus the NUL. */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Appends n copies of c. */
void strbuf_addchars(struct strbuf *sb, int c, size_t n);

/* Removes trailing whitespace (rtrim), leading (ltrim), or both (trim). */
void strbuf_rtrim(struct strbuf *sb);
void strbuf_ltrim(struct strbuf *sb);
void strbuf_trim(struct strbuf *sb);

int strbuf_starts_with(const struct strbuf *sb, const char *prefix);

/* True if s starts with prefix; *rest (may be NULL) then points just past it. */
int skip_prefix(const char *s, const char *prefix, const char **rest);
int ends_with(const char *s, const char *suffix);

#endif
