/*
 * Strict parsing of numbers and booleans from text (command-line values, config scalars): the
 * whole string must be consumed, so "12abc", " 7" and "" are errors, unlike atoi.
 */
#ifndef FERRY_UTIL_PARSE_H
#define FERRY_UTIL_PARSE_H

#include <stdint.h>

/*
 * Each returns 0 and stores the value in *out, or ERR_INVALID (leaving *out untouched) when s is
 * NULL or empty, has leading or trailing junk (whitespace included), or is out of range. They
 * fill no struct error: the caller knows which option or field it was and says so.
 */

/* Decimal integer with an optional sign, within INT64_MIN..INT64_MAX. */
int parse_int64(const char *s, int64_t *out);

/* Decimal integer with an optional '+', within 0..UINT64_MAX; any '-' is rejected. */
int parse_uint64(const char *s, uint64_t *out);

/*
 * Decimal floating point ("1", "-2.5", ".5", "1e-3"), always with '.' as the decimal point
 * whatever the locale. Hexadecimal forms, "inf", "nan" and values that overflow a double are
 * rejected; values too small to represent become 0 or a subnormal, as strtod gives them.
 */
int parse_double(const char *s, double *out);

/* true/false, yes/no, on/off, 1/0, in any case; *out becomes 1 or 0. */
int parse_bool(const char *s, int *out);

/*
 * The shortest "%.Ng" text of x (N = 1..17) that reads back as x, like Python's repr of a float
 * but in %g's notation ("1e-05", "0.1", "3"); "nan", "inf", "-inf" for non-finite values.
 */
#define FORMAT_DOUBLE_SIZE 32
void format_double(char out[FORMAT_DOUBLE_SIZE], double x);

#endif
