/*
 * Strict decimal parsing that returns exactly what strtod_l would: Clinger's fast path, an
 * x87 extended-precision path with a rounding-boundary check, and strtod_l for the rest.
 */
#include "util/common.h"
#include "table/number.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!c_locale)
		BUG("cannot create the C locale");
}

/* Every power of ten up to 1e22 is exact in a double: the fast path relies on it. */
static const double pow10_exact[] = {
	1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define TWO_POW_53 (UINT64_C(1) << 53)

static int is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* "nan", "inf", "infinity" in any case, after the sign. */
static int nonfinite_word(const char *p, size_t n)
{
	return (n == 3 && (!strncasecmp(p, "nan", 3) || !strncasecmp(p, "inf", 3))) ||
	       (n == 8 && !strncasecmp(p, "infinity", 8));
}

static int slow_path(const char *s, size_t len, double *out)
{
	char local[128];
	char *copy = len < sizeof(local) ? local : xmalloc(len + 1);
	char *end;
	double v;

	memcpy(copy, s, len);
	copy[len] = '\0';
	pthread_once(&c_locale_once, c_locale_init);
	v = strtod_l(copy, &end, c_locale);
	if ((size_t)(end - copy) != len)
		BUG("strtod stopped at %td in '%s', which passed validation", end - copy, copy);
	if (copy != local)
		free(copy);
	if (!isfinite(v))
		return NUM_NONFINITE;
	*out = v;
	return NUM_FINITE;
}

/* Clinger: w and 10^|e| are exact doubles, so one IEEE operation rounds correctly. */
static int fast_path(uint64_t w, int64_t e, int neg, double *out)
{
#if FLT_EVAL_METHOD == 0
	double v;

	if (w > TWO_POW_53)
		return 0;
	/* 1e30 = 1e8 * 1e22 while w * 1e8 is still an exact integer */
	for (; e > 22 && e <= 22 + 15; e--) {
		w *= 10;
		if (w > TWO_POW_53)
			return 0;
	}
	if (e < -22 || e > 22)
		return 0;
	v = (double)w;
	v = e < 0 ? v / pow10_exact[-e] : v * pow10_exact[e];
	*out = neg ? -v : v;
	return 1;
#else
	(void)w, (void)e, (void)neg, (void)out;
	return 0; /* extended-precision intermediates would round twice */
#endif
}

/*
 * Up to 19 digits (w < 2^64) with |e| <= 27: w and 10^|e| are exact in the x87 64-bit
 * mantissa, so one long double operation gives L = x rounded to 64 bits, within half a unit of
 * the 64th bit of the true x. Rounding L to a double is then correct unless L sits within a
 * couple of those units of a halfway point between two doubles (low 11 bits near 0x400): those
 * rare cases go to strtod.
 */
static int wide_path(uint64_t w, int64_t e, int neg, double *out)
{
#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
	static const long double pow10l[] = {
		1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,	 1e7L,	1e8L,  1e9L,
		1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
		1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
	};
	long double l;
	uint64_t mant;
	unsigned low;

	if (e < -27 || e > 27)
		return 0;
	l = (long double)w;
	l = e < 0 ? l / pow10l[-e] : l * pow10l[e];
	memcpy(&mant, &l, sizeof(mant)); /* x87 layout: the explicit 64-bit mantissa first */
	low = (unsigned)(mant & 0x7ff);
	if (low >= 0x400 - 2 && low <= 0x400 + 2)
		return 0;
	*out = neg ? -(double)l : (double)l;
	return 1;
#else
	(void)w, (void)e, (void)neg, (void)out;
	return 0;
#endif
}

/* Leading zeros of a digit run (the integer part, then, if it is all zeros, the fraction). */
static size_t leading_zeros(const char *p, const char *end)
{
	size_t n = 0;

	for (; p < end && (*p == '0' || *p == '.'); p++)
		n += *p == '0';
	return n;
}

/* The exponent after 'e'/'E' at *pp, moving *pp past it: 0, or -1 when no digit follows. */
static int parse_exponent(const char **pp, const char *end, int64_t *out)
{
	const char *p = *pp + 1;
	int64_t ex = 0;
	int neg = 0;

	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p == end || !is_digit(*p))
		return -1;
	for (; p < end && is_digit(*p); p++)
		if (ex < 1000000)
			ex = ex * 10 + (*p - '0');
	*out = neg ? -ex : ex;
	*pp = p;
	return 0;
}

int num_parse(const char *s, size_t len, double *out)
{
	const char *p = s, *end = s + len, *digits;
	uint64_t w = 0;
	int64_t e = 0;
	size_t nint, nfrac = 0;
	int neg = 0;

	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p < end && !is_digit(*p) && *p != '.')
		return nonfinite_word(p, (size_t)(end - p)) ? NUM_NONFINITE : NUM_NONE;
	/* w wraps past 19 significant digits; such numbers go to strtod below */
	for (digits = p; p < end && is_digit(*p); p++)
		w = w * 10 + (uint64_t)(*p - '0');
	nint = (size_t)(p - digits);
	if (p < end && *p == '.') {
		const char *frac = ++p;

		for (; p < end && is_digit(*p); p++)
			w = w * 10 + (uint64_t)(*p - '0');
		nfrac = (size_t)(p - frac);
	}
	if (!nint && !nfrac)
		return NUM_NONE;
	if (p < end && (*p == 'e' || *p == 'E') && parse_exponent(&p, end, &e))
		return NUM_NONE;
	if (p != end)
		return NUM_NONE;
	if (nint + nfrac > 19 && nint + nfrac - leading_zeros(digits, end) > 19)
		return slow_path(s, len, out);
	if (w == 0) {
		*out = neg ? -0.0 : 0.0;
		return NUM_FINITE;
	}
	e -= (int64_t)nfrac;
	if (fast_path(w, e, neg, out) || wide_path(w, e, neg, out))
		return NUM_FINITE;
	return slow_path(s, len, out);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && FLT_EVAL_METHOD == 0
/*
 * SWAR digit runs, eight bytes at a time with the first character in the low byte. A byte is a
 * digit when both it - '0' and it - '0' + 6 have a clear high nibble; borrows and carries only
 * move towards later bytes, so the first non-digit found is exact.
 */
static inline unsigned digit_run(uint64_t v)
{
	uint64_t t = v - UINT64_C(0x3030303030303030);
	uint64_t m = (t | (t + UINT64_C(0x0606060606060606))) & UINT64_C(0xF0F0F0F0F0F0F0F0);

	return m ? (unsigned)__builtin_ctzll(m) / 8 : 8;
}

const uint64_t num_pow10[NUM_POW10_COUNT] = {
	UINT64_C(1),
	UINT64_C(10),
	UINT64_C(100),
	UINT64_C(1000),
	UINT64_C(10000),
	UINT64_C(100000),
	UINT64_C(1000000),
	UINT64_C(10000000),
	UINT64_C(100000000),
	UINT64_C(1000000000),
	UINT64_C(10000000000),
	UINT64_C(100000000000),
	UINT64_C(1000000000000),
	UINT64_C(10000000000000),
	UINT64_C(100000000000000),
	UINT64_C(1000000000000000),
	UINT64_C(10000000000000000),
	UINT64_C(100000000000000000),
	UINT64_C(1000000000000000000),
	UINT64_C(10000000000000000000),
};

/* The 8 digits of v: pairs, then quads, then the whole (fast_float's parse_eight_digits). */
static inline uint64_t eight_digits(uint64_t v)
{
	v -= UINT64_C(0x3030303030303030);
	v = v * 10 + (v >> 8);
	return ((v & UINT64_C(0x000000FF000000FF)) * (100 + (UINT64_C(1000000) << 32)) +
		((v >> 16) & UINT64_C(0x000000FF000000FF)) * (1 + (UINT64_C(10000) << 32))) >>
	       32;
}

/* The value of the first k (0 to 7) digits of v: right-aligned and padded with '0' first. */
static inline uint64_t some_digits(uint64_t v, unsigned k)
{
	if (!k)
		return 0;
	return eight_digits((v << (8 * (8 - k))) | (UINT64_C(0x3030303030303030) >> (8 * k)));
}

static uint64_t load8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A digit run at p: its length, and its value in *w if it has at most 19 digits (else 0). */
static size_t long_run(const char *p, uint64_t *w)
{
	uint64_t v = load8(p);
	unsigned k = digit_run(v), k2;

	if (k < 8) {
		*w = some_digits(v, k);
		return k;
	}
	/* eight digits are inside the field, so the next eight bytes are still readable */
	k2 = digit_run(load8(p + 8));
	if (k2 < 8) {
		*w = eight_digits(v) * num_pow10[k2] + some_digits(load8(p + 8), k2);
		return 8 + k2;
	}
	/* sixteen digits are inside the field: eight more bytes are readable */
	k2 = digit_run(load8(p + 16));
	if (k2 <= 3) {
		*w = (eight_digits(v) * num_pow10[8] + eight_digits(load8(p + 8))) * num_pow10[k2] +
		     some_digits(load8(p + 16), k2);
		return 16 + k2;
	}
	*w = 0;
	return 16 + k2 + (k2 == 8 ? strspn(p + 24, "0123456789") : 0);
}

/*
 * What the short path leaves: runs longer than 7 digits and exponents. Up to 19 significant
 * digits and a plain exponent here (leading zeros count: rare enough); the rest to num_parse.
 */
static int long_field(const char *s, const char *p, size_t len, int neg, double *out)
{
	const char *end = s + len;
	uint64_t w, f = 0;
	size_t ni = long_run(p, &w), nf = 0;
	int64_t e = 0;

	p += ni;
	if (*p == '.') {
		nf = long_run(++p, &f);
		p += nf;
	}
	if ((*p == 'e' || *p == 'E') && parse_exponent(&p, end, &e))
		return NUM_NONE;
	if (p != end || ni + nf > 19 || ni + nf == 0)
		return num_parse(s, len, out);
	w = w * num_pow10[nf] + f; /* at most 19 digits: no overflow */
	e -= (int64_t)nf;
	if (w && (fast_path(w, e, neg, out) || wide_path(w, e, neg, out)))
		return NUM_FINITE;
	return num_parse(s, len, out);
}

int num_parse_field(const char *s, size_t len, double *out)
{
	const char *p = s;
	uint64_t v, w;
	unsigned ni, nf = 0;
	double d;
	int neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	v = load8(p);
	ni = digit_run(v);
	if (ni == 8)
		return long_field(s, p, len, neg, out);
	w = some_digits(v, ni);
	p += ni;
	/* s[len] is '\0', so reading *p is safe even at the end */
	if (*p == '.') {
		v = load8(p + 1);
		nf = digit_run(v);
		if (nf == 8)
			return long_field(s, s + neg + (*s == '+'), len, neg, out);
		w = w * num_pow10[nf] + some_digits(v, nf);
		p += 1 + nf;
	}
	if (*p == 'e' || *p == 'E')
		return long_field(s, s + neg + (*s == '+'), len, neg, out);
	/* junk, or no digit at all: the careful path decides */
	if (p != s + len || ni + nf == 0)
		return num_parse(s, len, out);
	/* w < 10^14 and 10^nf are exact doubles: one division rounds correctly (Clinger) */
	d = nf ? (double)w / pow10_exact[nf] : (double)w;
	*out = neg ? -d : d;
	return NUM_FINITE;
}
#else
int num_parse_field(const char *s, size_t len, double *out)
{
	return num_parse(s, len, out);
}
#endif
