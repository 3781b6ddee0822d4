/*
 * Fast, exact parsing of CSV numbers: the whole field must be a decimal number, and the result is
 * bit for bit what strtod (C locale) gives for it.
 */
#ifndef FERRY_TABLE_NUMBER_H
#define FERRY_TABLE_NUMBER_H

#include <stddef.h>
#include <stdint.h>

enum num_kind {
	NUM_NONE = 0,	   /* not a number: a string, or empty */
	NUM_FINITE = 1,	   /* a finite double in *out */
	NUM_NONFINITE = 2, /* "nan", "inf", "infinity" (any case, optional sign) or an overflow */
};

/* 10^0 .. 10^19: every power of ten a uint64_t holds. */
#define NUM_POW10_COUNT 20
extern const uint64_t num_pow10[NUM_POW10_COUNT];

/*
 * Parses s[0..len) (need not be NUL-terminated): an optional sign, digits with an optional '.'
 * (at least one digit on either side), an optional exponent ("e-04"). No whitespace, no hex, no
 * thousands separators. Plain decimals with at most 19 significant digits and a value below 2^53
 * scaled by at most 10^22 take a fast path (one correctly rounded multiply or divide, Clinger
 * 1990); everything else goes to strtod_l. Values too small for a double become 0 or a
 * subnormal as strtod gives them. Returns an enum num_kind; *out is set only for NUM_FINITE.
 */
int num_parse(const char *s, size_t len, double *out);

/*
 * num_parse for a CSV field: s[len] must be '\0' and the 8 bytes after it readable (fields of
 * csv_next are). Plain decimals of up to 15 digits are read eight bytes at a time without
 * branching on each digit; the results are num_parse's.
 */
int num_parse_field(const char *s, size_t len, double *out);

#endif
