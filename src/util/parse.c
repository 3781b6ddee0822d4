/* Whole-string number and boolean parsing on top of strtoll/strtoull/strtod. */
#include "util/common.h"
#include "util/parse.h"

#include <ctype.h>
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

/* strto* skip leading whitespace and accept an empty digit string: refuse both up front. */
static int starts_like_number(const char *s)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return 0;
	if (*s == '+' || *s == '-')
		s++;
	return isdigit((unsigned char)*s) || *s == '.';
}

int parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!starts_like_number(s))
		return ERR_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return ERR_INVALID;
	*out = (int64_t)v;
	return 0;
}

int parse_uint64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* strtoull would turn "-1" into UINT64_MAX */
	if (!starts_like_number(s) || *s == '-')
		return ERR_INVALID;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return ERR_INVALID;
	*out = (uint64_t)v;
	return 0;
}

int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!starts_like_number(s))
		return ERR_INVALID;
	/* strtod also reads hex floats, "inf" and "nan": allow decimal syntax only */
	if (s[strspn(s, "0123456789+-.eE")])
		return ERR_INVALID;
	pthread_once(&c_locale_once, c_locale_init);
	v = strtod_l(s, &end, c_locale);
	/* overflow gives HUGE_VAL; underflow (ERANGE with a tiny result) is accepted */
	if (end == s || *end || !isfinite(v))
		return ERR_INVALID;
	*out = v;
	return 0;
}

int parse_bool(const char *s, int *out)
{
	static const char *const truthy[] = { "true", "yes", "on", "1" };
	static const char *const falsy[] = { "false", "no", "off", "0" };

	if (!s)
		return ERR_INVALID;
	for (size_t i = 0; i < ARRAY_SIZE(truthy); i++) {
		if (!strcasecmp(s, truthy[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, falsy[i])) {
			*out = 0;
			return 0;
		}
	}
	return ERR_INVALID;
}

void format_double(char out[FORMAT_DOUBLE_SIZE], double x)
{
	if (isnan(x)) {
		snprintf(out, FORMAT_DOUBLE_SIZE, "nan");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, FORMAT_DOUBLE_SIZE, "%.*g", prec, x);
		if (strtod(out, NULL) == x)
			return;
	}
}
