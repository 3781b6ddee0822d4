/*
 * Identifiers and clocks: 32-lowercase-hex random ids (MLflow run ids have this shape) and UTC
 * millisecond timestamps (MLflow's time unit).
 */
#ifndef FERRY_UTIL_ID_H
#define FERRY_UTIL_ID_H

#include <stdint.h>

#define ID_HEX_LEN 32

/*
 * Fills out with 32 lowercase hex digits and a NUL from the OS's random source (getrandom(2),
 * read 4 KiB at a time into a buffer per thread; a forked child refills its own). Thread-safe.
 */
int id_new(char out[ID_HEX_LEN + 1], struct error *err);

/* True if s is exactly 32 lowercase hex digits. */
int id_is_valid(const char *s);

/* Milliseconds since the Unix epoch, UTC. */
int64_t time_now_ms(void);

/* Formats ms as "2026-11-24T03:18:12.345Z" into out (at least 25 bytes). */
void time_format_iso8601(int64_t ms, char *out, size_t size);

#endif
