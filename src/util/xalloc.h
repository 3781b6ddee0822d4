/*
 * Allocation that never returns NULL: out of memory prints a message and aborts (git's
 * wrapper.c). The caller owns what these return and releases it with free().
 */
#ifndef FERRY_UTIL_XALLOC_H
#define FERRY_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* nmemb * size with an overflow check, for growing arrays. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A new string formatted as printf would. */
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows (array, alloc) so that at least nr elements fit; amortised doubling. */
#define ALLOC_GROW(array, nr, alloc)                                                               \
	do {                                                                                       \
		if ((size_t)(nr) > (size_t)(alloc)) {                                              \
			size_t grow_ = (size_t)(alloc) < 8 ? 16 : (size_t)(alloc)*2;               \
			if (grow_ < (size_t)(nr))                                                  \
				grow_ = (size_t)(nr);                                              \
			(array) = xreallocarray((array), grow_, sizeof(*(array)));                 \
			(alloc) = grow_;                                                           \
		}                                                                                  \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
