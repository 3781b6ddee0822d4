/*
 * Prometheus metrics registry: families keep their children in a sorted array behind a
 * read-write lock (lookups are rare: callers cache handles); children are updated with relaxed
 * atomics; prom_render() writes the text exposition format 0.0.4.
 */
#include "util/common.h"
#include "http/prom.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

const double prom_latency_buckets[PROM_LATENCY_NBUCKETS] = {
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05,	 0.1,	 0.25,	  0.5,	  1,	 2.5,	 5,	10,
};

/* Children on separate cache lines: threads updating different series do not contend. */
#define CHILD_ALIGN 64

/* Above this many bounds a histogram finds its bucket by binary search (client_golang: 35). */
#define LINEAR_BUCKETS 32

struct prom_child {
	enum prom_type type; /* the family's, checked on the hot path without a pointer chase */
	/*
	 * A counter keeps integral increments apart from fractional ones so that the common
	 * prom_counter_inc() is one atomic add instead of a CAS loop that retries under
	 * contention.
	 */
	atomic_uint_least64_t whole;
	atomic_uint_least64_t bits; /* double: counter fraction, gauge value, histogram sum */
	/*
	 * The family's bounds, copied so that observing does not read the family's cache lines,
	 * which its lock shares and lookups write.
	 */
	const double *bounds;
	size_t nbounds;
	const struct prom_family *family;
	char **values;
	char *labels;		    /* `a="x",b="y"`, escaped; "" without labels */
	struct prom_child *retired; /* next removed child of the family */
	/* histogram: nbounds + 1 counts, the last for +Inf; cumulated when rendered */
	atomic_uint_least64_t buckets[];
};

struct prom_family {
	enum prom_type type;
	char *name;
	char *help; /* escaped */
	char **labels;
	size_t nlabels;
	double *bounds;
	char (*le)[PROM_NUM_SIZE]; /* bounds as rendered */
	size_t nbounds;
	pthread_rwlock_t lock;	      /* children, nchildren, retired */
	struct prom_child **children; /* sorted by values */
	size_t nchildren, alloc;
	/* removed children, freed with the registry because other threads may hold them */
	struct prom_child *retired;
};

struct prom_collector {
	prom_collect_fn fn;
	void *data;
};

struct prom_registry {
	pthread_mutex_t lock;
	struct prom_family **families;
	size_t nfamilies, falloc;
	struct prom_collector *collectors;
	size_t ncollectors, calloc;
	/* every series name a family or collector can render, to refuse collisions */
	char **taken;
	size_t ntaken, talloc;
};

static const char *const type_names[] = {
	[PROM_COUNTER] = "counter",
	[PROM_GAUGE] = "gauge",
	[PROM_HISTOGRAM] = "histogram",
};

static double u2d(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static uint64_t d2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static void atomic_add_double(atomic_uint_least64_t *bits, double v)
{
	uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(bits, &old, d2u(u2d(old) + v),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* Length of the well-formed UTF-8 sequence at s (as Go's utf8.ValidString accepts), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		/* no overlong forms, no UTF-16 surrogates */
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		hi = s[0] == 0xed ? 0x9f : 0xbf;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);

		if (!n)
			return false;
		p += n;
	}
	return true;
}

/* A copy of s with each byte that is not part of valid UTF-8 replaced by U+FFFD. */
static char *utf8_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf sb = STRBUF_INIT;

	while (*p) {
		size_t n = utf8_seq(p);

		if (n) {
			strbuf_add(&sb, p, n);
			p += n;
		} else {
			strbuf_addstr(&sb, "\xef\xbf\xbd");
			p++;
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* quote: escape '"' too (label values); HELP text escapes only '\\' and newline. */
static void add_escaped(struct strbuf *sb, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			strbuf_addstr(sb, "\\\\");
		else if (*s == '\n')
			strbuf_addstr(sb, "\\n");
		else if (*s == '"' && quote)
			strbuf_addstr(sb, "\\\"");
		else
			strbuf_addch(sb, *s);
	}
}

void prom_format_value(char out[PROM_NUM_SIZE], double v)
{
	if (isnan(v)) {
		snprintf(out, PROM_NUM_SIZE, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, PROM_NUM_SIZE, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		/* -0 too: a sign on zero only confuses readers */
		snprintf(out, PROM_NUM_SIZE, "0");
		return;
	}
	if (fabs(v) < 0x1p63 && v == trunc(v)) {
		snprintf(out, PROM_NUM_SIZE, "%.0f", v);
		return;
	}
	/*
	 * A value with a round-tripping form of at most 15 digits gets that form from %.15g (15
	 * decimal digits are coarser than a double's spacing), so trying 15, 16, 17 gives the
	 * shortest text for most values at a third of a digit-by-digit search's cost.
	 */
	for (int prec = 15; prec < 17; prec++) {
		snprintf(out, PROM_NUM_SIZE, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, PROM_NUM_SIZE, "%.17g", v);
}

/* ASCII only, whatever the locale: [a-zA-Z_][a-zA-Z0-9_]* */
static bool name_char(char ch, bool first)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (!first && ch >= '0' && ch <= '9');
}

static bool valid_name(const char *s)
{
	if (!name_char(*s, true))
		return false;
	for (s++; *s; s++)
		if (!name_char(*s, false))
			return false;
	return true;
}

static void check_metric_name(const char *name, enum prom_type type)
{
	static const char *const reserved[] = { "_total", "_count", "_sum", "_bucket" };

	if (!name || !valid_name(name))
		BUG("prom: invalid metric name '%s'", name ? name : "(null)");
	if (type == PROM_COUNTER) {
		if (!ends_with(name, "_total"))
			BUG("prom: counter '%s' must end in _total", name);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (ends_with(name, reserved[i]))
			BUG("prom: %s '%s' must not end in %s", type_names[type], name,
			    reserved[i]);
}

static size_t check_labels(const char *name, enum prom_type type, const char *const *labels)
{
	size_t n = 0;

	for (; labels && labels[n]; n++) {
		const char *l = labels[n];

		if (!valid_name(l) || !strncmp(l, "__", 2))
			BUG("prom: '%s': invalid label name '%s'", name, l);
		if (type == PROM_HISTOGRAM && !strcmp(l, "le"))
			BUG("prom: histogram '%s' cannot have a label 'le'", name);
		for (size_t j = 0; j < n; j++)
			if (!strcmp(labels[j], l))
				BUG("prom: '%s': label '%s' given twice", name, l);
	}
	return n;
}

static void check_bounds(const char *name, const double *bounds, size_t nbounds)
{
	if (!bounds || !nbounds)
		BUG("prom: histogram '%s' needs at least one bucket bound", name);
	for (size_t i = 0; i < nbounds; i++) {
		if (!isfinite(bounds[i]))
			BUG("prom: histogram '%s': bound %zu is not finite (+Inf is implicit)",
			    name, i);
		if (i && !(bounds[i] > bounds[i - 1]))
			BUG("prom: histogram '%s': bounds must increase strictly", name);
	}
}

/* Reserves the series names `name` may render; the caller holds r->lock. */
static void reserve_names(struct prom_registry *r, const char *name)
{
	static const char *const suffixes[] = { "", "_bucket", "_sum", "_count" };

	/*
	 * Every name reserves the histogram suffixes whatever its type: a counter or gauge cannot
	 * end in them anyway, and collectors do not say which types they render.
	 */
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		char *s = xstrfmt("%s%s", name, suffixes[i]);

		for (size_t j = 0; j < r->ntaken; j++)
			if (!strcmp(r->taken[j], s))
				BUG("prom: metric '%s' collides with one registered before", name);
		ALLOC_GROW(r->taken, r->ntaken + 1, r->talloc);
		r->taken[r->ntaken++] = s;
	}
}

static int cmp_values(const char *const *a, char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int c = strcmp(a[i], b[i]);

		if (c)
			return c;
	}
	return 0;
}

/* Index of the child for values, or where it would go; the caller holds f->lock. */
static size_t child_find(const struct prom_family *f, const char *const *values, bool *found)
{
	size_t lo = 0, hi = f->nchildren;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_values(values, f->children[mid]->values, f->nlabels);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static struct prom_child *child_new(const struct prom_family *f, const char *const *values)
{
	size_t nbuckets = f->type == PROM_HISTOGRAM ? f->nbounds + 1 : 0;
	size_t size = sizeof(struct prom_child) + nbuckets * sizeof(atomic_uint_least64_t);
	struct strbuf labels = STRBUF_INIT;
	struct prom_child *c;

	/* aligned_alloc wants a multiple of the alignment */
	size = (size + CHILD_ALIGN - 1) / CHILD_ALIGN * CHILD_ALIGN;
	c = aligned_alloc(CHILD_ALIGN, size);
	if (!c) {
		fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", size);
		abort();
	}
	memset(c, 0, size);
	c->type = f->type;
	atomic_init(&c->whole, 0);
	atomic_init(&c->bits, d2u(0.0));
	for (size_t i = 0; i < nbuckets; i++)
		atomic_init(&c->buckets[i], 0);
	c->bounds = f->bounds;
	c->nbounds = f->nbounds;
	c->family = f;
	c->values = xcalloc(f->nlabels + 1, sizeof(*c->values));
	for (size_t i = 0; i < f->nlabels; i++) {
		c->values[i] = xstrdup(values[i]);
		if (i)
			strbuf_addch(&labels, ',');
		strbuf_addf(&labels, "%s=\"", f->labels[i]);
		add_escaped(&labels, values[i], true);
		strbuf_addch(&labels, '"');
	}
	c->labels = strbuf_detach(&labels, NULL);
	return c;
}

static void child_free(struct prom_child *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->values[i]; i++)
		free(c->values[i]);
	free(c->values);
	free(c->labels);
	free(c);
}

/* Inserts a new child at index pos; the caller holds f->lock for writing. */
static struct prom_child *child_insert(struct prom_family *f, const char *const *values, size_t pos)
{
	struct prom_child *c = child_new(f, values);

	ALLOC_GROW(f->children, f->nchildren + 1, f->alloc);
	memmove(f->children + pos + 1, f->children + pos,
		(f->nchildren - pos) * sizeof(*f->children));
	f->children[pos] = c;
	f->nchildren++;
	return c;
}

/* Moves the child at pos to the retired list; the caller holds f->lock for writing. */
static void child_retire(struct prom_family *f, size_t pos)
{
	struct prom_child *c = f->children[pos];

	memmove(f->children + pos, f->children + pos + 1,
		(f->nchildren - pos - 1) * sizeof(*f->children));
	f->nchildren--;
	c->retired = f->retired;
	f->retired = c;
}

static struct prom_family *family_add(struct prom_registry *r, enum prom_type type,
				      const char *name, const char *help, const char *const *labels,
				      const double *bounds, size_t nbounds)
{
	struct prom_family *f;
	struct strbuf sb = STRBUF_INIT;
	pthread_rwlockattr_t attr;

	check_metric_name(name, type);
	if (!help)
		help = "";
	if (!*help || !utf8_valid(help))
		BUG("prom: '%s' needs a help text in UTF-8", name);
	f = xcalloc(1, sizeof(*f));
	f->type = type;
	f->name = xstrdup(name);
	add_escaped(&sb, help, false);
	f->help = strbuf_detach(&sb, NULL);
	f->nlabels = check_labels(name, type, labels);
	f->labels = xcalloc(f->nlabels + 1, sizeof(*f->labels));
	for (size_t i = 0; i < f->nlabels; i++)
		f->labels[i] = xstrdup(labels[i]);
	if (type == PROM_HISTOGRAM) {
		check_bounds(name, bounds, nbounds);
		f->nbounds = nbounds;
		f->bounds = xcalloc(nbounds, sizeof(*f->bounds));
		memcpy(f->bounds, bounds, nbounds * sizeof(*bounds));
		f->le = xcalloc(nbounds, sizeof(*f->le));
		for (size_t i = 0; i < nbounds; i++)
			prom_format_value(f->le[i], bounds[i]);
	}
	/*
	 * Writers first: with glibc's default reader preference, a steady stream of
	 * *_labels() lookups could keep a new child from ever being inserted.
	 */
	if (pthread_rwlockattr_init(&attr) ||
	    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) ||
	    pthread_rwlock_init(&f->lock, &attr))
		BUG("prom: cannot initialise the lock of '%s'", name);
	pthread_rwlockattr_destroy(&attr);
	if (!f->nlabels)
		child_insert(f, NULL, 0);

	pthread_mutex_lock(&r->lock);
	reserve_names(r, name);
	ALLOC_GROW(r->families, r->nfamilies + 1, r->falloc);
	r->families[r->nfamilies++] = f;
	pthread_mutex_unlock(&r->lock);
	return f;
}

static void family_free(struct prom_family *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nchildren; i++)
		child_free(f->children[i]);
	while (f->retired) {
		struct prom_child *next = f->retired->retired;

		child_free(f->retired);
		f->retired = next;
	}
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	pthread_rwlock_destroy(&f->lock);
	free(f->labels);
	free(f->children);
	free(f->bounds);
	free(f->le);
	free(f->help);
	free(f->name);
	free(f);
}

struct prom_registry *prom_registry_new(void)
{
	struct prom_registry *r = xcalloc(1, sizeof(*r));

	if (pthread_mutex_init(&r->lock, NULL))
		BUG("prom: cannot initialise the registry lock");
	return r;
}

void prom_registry_free(struct prom_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfamilies; i++)
		family_free(r->families[i]);
	for (size_t i = 0; i < r->ntaken; i++)
		free(r->taken[i]);
	pthread_mutex_destroy(&r->lock);
	free(r->families);
	free(r->collectors);
	free(r->taken);
	free(r);
}

struct prom_family *prom_counter_new(struct prom_registry *r, const char *name, const char *help,
				     const char *const *labels)
{
	return family_add(r, PROM_COUNTER, name, help, labels, NULL, 0);
}

struct prom_family *prom_gauge_new(struct prom_registry *r, const char *name, const char *help,
				   const char *const *labels)
{
	return family_add(r, PROM_GAUGE, name, help, labels, NULL, 0);
}

struct prom_family *prom_histogram_new(struct prom_registry *r, const char *name, const char *help,
				       const char *const *labels, const double *bounds,
				       size_t nbounds)
{
	return family_add(r, PROM_HISTOGRAM, name, help, labels, bounds, nbounds);
}

struct prom_family *prom_info_new(struct prom_registry *r, const char *name, const char *help,
				  const char *const *labels)
{
	if (!labels || !labels[0])
		BUG("prom: info metric '%s' needs labels", name);
	return family_add(r, PROM_GAUGE, name, help, labels, NULL, 0);
}

/*
 * values as stored: NULL when they are valid UTF-8 already (the common case, no copy), else a
 * sanitized copy the caller frees with free_values().
 */
static char **clean_values(const struct prom_family *f, const char *const *values)
{
	char **clean = NULL;

	if (!values)
		BUG("prom: '%s' needs %zu label values", f->name, f->nlabels);
	for (size_t i = 0; i < f->nlabels; i++) {
		if (!values[i])
			BUG("prom: '%s': label value %zu is NULL", f->name, i);
		if (!clean && !utf8_valid(values[i]))
			clean = xcalloc(f->nlabels + 1, sizeof(*clean));
	}
	for (size_t i = 0; clean && i < f->nlabels; i++)
		clean[i] = utf8_sanitize(values[i]);
	return clean;
}

static void free_values(char **values)
{
	for (size_t i = 0; values && values[i]; i++)
		free(values[i]);
	free(values);
}

struct prom_child *prom_child(struct prom_family *f, const char *const *values)
{
	char **clean = NULL;
	const char *const *key = values;
	struct prom_child *c = NULL;
	bool found;
	size_t pos;

	/* the sole child of an unlabelled family is never removed: no lock needed */
	if (!f->nlabels)
		return f->children[0];
	clean = clean_values(f, values);
	if (clean)
		key = (const char *const *)clean;

	pthread_rwlock_rdlock(&f->lock);
	pos = child_find(f, key, &found);
	if (found)
		c = f->children[pos];
	pthread_rwlock_unlock(&f->lock);
	if (c)
		goto out;

	pthread_rwlock_wrlock(&f->lock);
	/* another thread may have made it between the two locks */
	pos = child_find(f, key, &found);
	c = found ? f->children[pos] : child_insert(f, key, pos);
	pthread_rwlock_unlock(&f->lock);
out:
	free_values(clean);
	return c;
}

bool prom_child_remove(struct prom_family *f, const char *const *values)
{
	char **clean = NULL;
	bool found;
	size_t pos;

	if (!f->nlabels)
		BUG("prom: '%s' has no labels: its only child cannot be removed", f->name);
	clean = clean_values(f, values);
	pthread_rwlock_wrlock(&f->lock);
	pos = child_find(f, clean ? (const char *const *)clean : values, &found);
	if (found)
		child_retire(f, pos);
	pthread_rwlock_unlock(&f->lock);
	free_values(clean);
	return found;
}

void prom_family_clear(struct prom_family *f)
{
	if (!f->nlabels)
		BUG("prom: '%s' has no labels: its only child cannot be removed", f->name);
	pthread_rwlock_wrlock(&f->lock);
	while (f->nchildren)
		child_retire(f, f->nchildren - 1);
	pthread_rwlock_unlock(&f->lock);
}

void prom_info_set(struct prom_family *f, const char *const *values)
{
	char **clean = NULL;
	struct prom_child *c;

	if (f->type != PROM_GAUGE || !f->nlabels)
		BUG("prom: '%s' is not an info metric", f->name);
	clean = clean_values(f, values);
	pthread_rwlock_wrlock(&f->lock);
	while (f->nchildren)
		child_retire(f, f->nchildren - 1);
	c = child_insert(f, clean ? (const char *const *)clean : values, 0);
	atomic_store_explicit(&c->bits, d2u(1.0), memory_order_relaxed);
	pthread_rwlock_unlock(&f->lock);
	free_values(clean);
}

static void check_type(const struct prom_child *c, enum prom_type type)
{
	if (c->type != type)
		BUG("prom: '%s' is a %s, not a %s", c->family->name, type_names[c->type],
		    type_names[type]);
}

void prom_counter_add(struct prom_child *c, double v)
{
	check_type(c, PROM_COUNTER);
	if (v < 0)
		BUG("prom: counter '%s' cannot decrease (%g)", c->family->name, v);
	/* below 2^53 the conversion is exact, and so is the test (NaN fails it) */
	if (v < 0x1p53 && v == (double)(uint64_t)v)
		atomic_fetch_add_explicit(&c->whole, (uint64_t)v, memory_order_relaxed);
	else
		atomic_add_double(&c->bits, v);
}

void prom_counter_inc(struct prom_child *c)
{
	check_type(c, PROM_COUNTER);
	atomic_fetch_add_explicit(&c->whole, 1, memory_order_relaxed);
}

void prom_gauge_set(struct prom_child *c, double v)
{
	check_type(c, PROM_GAUGE);
	atomic_store_explicit(&c->bits, d2u(v), memory_order_relaxed);
}

void prom_gauge_add(struct prom_child *c, double v)
{
	check_type(c, PROM_GAUGE);
	atomic_add_double(&c->bits, v);
}

/* The first bucket whose bound is >= v; nbounds (+Inf) when none is, or for NaN. */
static size_t bucket_index(const double *bounds, size_t nbounds, double v)
{
	size_t lo = 0, hi = nbounds;

	if (nbounds <= LINEAR_BUCKETS) {
		while (lo < nbounds && !(v <= bounds[lo]))
			lo++;
		return lo;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v <= bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void prom_histogram_observe(struct prom_child *c, double v)
{
	check_type(c, PROM_HISTOGRAM);
	atomic_fetch_add_explicit(&c->buckets[bucket_index(c->bounds, c->nbounds, v)], 1,
				  memory_order_relaxed);
	atomic_add_double(&c->bits, v);
}

void prom_counter_add_labels(struct prom_family *f, const char *const *values, double v)
{
	prom_counter_add(prom_child(f, values), v);
}

void prom_gauge_set_labels(struct prom_family *f, const char *const *values, double v)
{
	prom_gauge_set(prom_child(f, values), v);
}

void prom_histogram_observe_labels(struct prom_family *f, const char *const *values, double v)
{
	prom_histogram_observe(prom_child(f, values), v);
}

double prom_value(const struct prom_child *c)
{
	double v = u2d(atomic_load_explicit(&c->bits, memory_order_relaxed));

	if (c->type == PROM_HISTOGRAM)
		BUG("prom: '%s' is a histogram: use prom_histogram_count/_sum", c->family->name);
	if (c->type == PROM_COUNTER)
		v += (double)atomic_load_explicit(&c->whole, memory_order_relaxed);
	return v;
}

uint64_t prom_histogram_count(const struct prom_child *c)
{
	uint64_t n = 0;

	check_type(c, PROM_HISTOGRAM);
	for (size_t i = 0; i <= c->nbounds; i++)
		n += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
	return n;
}

double prom_histogram_sum(const struct prom_child *c)
{
	check_type(c, PROM_HISTOGRAM);
	return u2d(atomic_load_explicit(&c->bits, memory_order_relaxed));
}

/* name[suffix]{labels[,extra]} value */
static void render_sample(struct strbuf *out, const char *name, const char *suffix,
			  const char *labels, const char *extra, const char *value)
{
	strbuf_addstr(out, name);
	strbuf_addstr(out, suffix);
	if (*labels || extra) {
		strbuf_addch(out, '{');
		strbuf_addstr(out, labels);
		if (*labels && extra)
			strbuf_addch(out, ',');
		if (extra)
			strbuf_addstr(out, extra);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ' ');
	strbuf_addstr(out, value);
	strbuf_addch(out, '\n');
}

static void render_histogram(const struct prom_family *f, const struct prom_child *c,
			     struct strbuf *out)
{
	char num[PROM_NUM_SIZE], le[PROM_NUM_SIZE + 8];
	uint64_t cum = 0;

	for (size_t i = 0; i <= f->nbounds; i++) {
		/* _count is the +Inf bucket by construction, as the format requires */
		cum += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
		snprintf(num, sizeof(num), "%" PRIu64, cum);
		snprintf(le, sizeof(le), "le=\"%s\"", i < f->nbounds ? f->le[i] : "+Inf");
		render_sample(out, f->name, "_bucket", c->labels, le, num);
	}
	prom_format_value(num, prom_histogram_sum(c));
	render_sample(out, f->name, "_sum", c->labels, NULL, num);
	snprintf(num, sizeof(num), "%" PRIu64, cum);
	render_sample(out, f->name, "_count", c->labels, NULL, num);
}

static void render_family(struct prom_family *f, struct strbuf *out)
{
	char num[PROM_NUM_SIZE];

	pthread_rwlock_rdlock(&f->lock);
	/* a labelled family without children has no samples: client_golang leaves it out too */
	if (!f->nchildren)
		goto out;
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
		    type_names[f->type]);
	for (size_t i = 0; i < f->nchildren; i++) {
		const struct prom_child *c = f->children[i];

		if (f->type == PROM_HISTOGRAM) {
			render_histogram(f, c, out);
			continue;
		}
		prom_format_value(num, prom_value(c));
		render_sample(out, f->name, "", c->labels, NULL, num);
	}
out:
	pthread_rwlock_unlock(&f->lock);
}

void prom_render(const struct prom_registry *cr, struct strbuf *out)
{
	/* rendering changes only the locks, which the caller cannot see */
	struct prom_registry *r = (struct prom_registry *)cr;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->nfamilies; i++)
		render_family(r->families[i], out);
	for (size_t i = 0; i < r->ncollectors; i++)
		r->collectors[i].fn(out, r->collectors[i].data);
	pthread_mutex_unlock(&r->lock);
}

void prom_collector_add(struct prom_registry *r, const char *const *names, prom_collect_fn fn,
			void *data)
{
	if (!fn)
		BUG("prom: collector without a function");
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; names && names[i]; i++) {
		if (!valid_name(names[i]))
			BUG("prom: invalid metric name '%s'", names[i]);
		reserve_names(r, names[i]);
	}
	ALLOC_GROW(r->collectors, r->ncollectors + 1, r->calloc);
	r->collectors[r->ncollectors].fn = fn;
	r->collectors[r->ncollectors].data = data;
	r->ncollectors++;
	pthread_mutex_unlock(&r->lock);
}

void prom_render_simple(struct strbuf *out, const char *name, enum prom_type type, const char *help,
			double v)
{
	char num[PROM_NUM_SIZE];

	if (type == PROM_HISTOGRAM)
		BUG("prom: '%s': a histogram is not a single sample", name);
	strbuf_addf(out, "# HELP %s ", name);
	add_escaped(out, help, false);
	strbuf_addf(out, "\n# TYPE %s %s\n", name, type_names[type]);
	prom_format_value(num, v);
	render_sample(out, name, "", "", NULL, num);
}

/* utime + stime and start time (clock ticks since boot) from /proc/self/stat. */
static int read_proc_stat(unsigned long long *cpu, unsigned long long *start)
{
	char buf[1024];
	unsigned long long utime, stime;
	const char *p;
	FILE *f = fopen("/proc/self/stat", "r");
	int ret = -1;

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		goto out;
	/* the command name in parentheses may hold spaces and parentheses itself */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
			 "%*d %*d %llu",
			 &utime, &stime, start) != 3)
		goto out;
	*cpu = utime + stime;
	ret = 0;
out:
	fclose(f);
	return ret;
}

/* Boot time in seconds since the epoch, from /proc/stat's btime line. */
static int read_boot_time(unsigned long long *btime)
{
	char *line = NULL;
	size_t alloc = 0;
	FILE *f = fopen("/proc/stat", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (getline(&line, &alloc, f) > 0)
		if (sscanf(line, "btime %llu", btime) == 1) {
			ret = 0;
			break;
		}
	free(line);
	fclose(f);
	return ret;
}

static int count_open_fds(unsigned long *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	/* the directory stream's own descriptor was among them */
	*out = n ? n - 1 : 0;
	return 0;
}

static void collect_process(struct strbuf *out, void *data)
{
	long page = sysconf(_SC_PAGESIZE), ticks = sysconf(_SC_CLK_TCK);
	unsigned long long cpu, start, btime, size, resident;
	unsigned long fds;
	struct rlimit rl;
	bool have_stat = ticks > 0 && !read_proc_stat(&cpu, &start);
	FILE *f;

	(void)data;
	if (have_stat)
		prom_render_simple(out, "process_cpu_seconds_total", PROM_COUNTER,
				   "Total user and system CPU time spent in seconds.",
				   (double)cpu / (double)ticks);
	if (!count_open_fds(&fds))
		prom_render_simple(out, "process_open_fds", PROM_GAUGE,
				   "Number of open file descriptors.", (double)fds);
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
		prom_render_simple(out, "process_max_fds", PROM_GAUGE,
				   "Maximum number of open file descriptors.", (double)rl.rlim_cur);
	f = fopen("/proc/self/statm", "r");
	if (f) {
		if (page > 0 && fscanf(f, "%llu %llu", &size, &resident) == 2) {
			prom_render_simple(out, "process_virtual_memory_bytes", PROM_GAUGE,
					   "Virtual memory size in bytes.",
					   (double)size * (double)page);
			prom_render_simple(out, "process_resident_memory_bytes", PROM_GAUGE,
					   "Resident memory size in bytes.",
					   (double)resident * (double)page);
		}
		fclose(f);
	}
	if (have_stat && !read_boot_time(&btime))
		prom_render_simple(out, "process_start_time_seconds", PROM_GAUGE,
				   "Start time of the process since unix epoch in seconds.",
				   (double)btime + (double)start / (double)ticks);
}

void prom_process_metrics(struct prom_registry *r)
{
	static const char *const names[] = {
		"process_cpu_seconds_total",
		"process_open_fds",
		"process_max_fds",
		"process_virtual_memory_bytes",
		"process_resident_memory_bytes",
		"process_start_time_seconds",
		NULL,
	};

	prom_collector_add(r, names, collect_process, NULL);
}
