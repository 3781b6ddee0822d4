/*
 * prom: a Prometheus metrics registry for ferry's servers, rendered as the text exposition
 * format 0.0.4 for `GET /metrics`. Counters, gauges and histograms with fixed label names.
 */
#ifndef FERRY_HTTP_PROM_H
#define FERRY_HTTP_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/*
 * Model: a registry holds metric families in registration order; a family has a name, a help
 * text, a type and a fixed list of label names; a child is one labelled series of a family (one
 * tuple of label values), created on first use. Updating a child is lock-free (C11 atomics);
 * finding or creating one takes the family's read-write lock. On the hot path, resolve the
 * child once (at startup, per route, per model load) and keep the handle:
 *
 *	ok = prom_child(requests, (const char *[]){ "POST", "/invocations", "200" });
 *	...
 *	prom_counter_inc(ok);                     // one atomic add
 *	prom_histogram_observe(latency, seconds); // one atomic add + one CAS on the sum
 *
 * The *_labels() forms resolve and update in one call: fine for rare events, a shared lock on
 * the hot path.
 *
 * Naming, as Prometheus' naming practices ask and `promtool check metrics` lints; what is marked
 * "refused" is a program error that registration BUG()s on, the rest is the caller's to follow:
 * - metric names match [a-zA-Z_][a-zA-Z0-9_]* (refused otherwise; the spec's ':' is for
 *   recording rules and refused here too), are snake_case with the "ferry_" prefix, and carry
 *   a base unit in the plural: _seconds, _bytes, _ratio (never _ms, _milliseconds, _kb);
 * - a counter's name ends in "_total" (refused otherwise); a gauge's or histogram's does not end
 *   in "_total", "_count", "_sum" or "_bucket" (refused); an info gauge's ends in "_info";
 * - label names match [a-zA-Z_][a-zA-Z0-9_]*, do not start with "__", are unique within the
 *   family, and a histogram may not use "le" (all refused otherwise); they are snake_case;
 * - label values are any UTF-8 (invalid bytes become U+FFFD); never use unbounded values (user
 *   ids, raw request paths, row ids) as label values: every tuple is a series kept until removed.
 * Registering a name twice, or one colliding with a histogram's generated series (x_bucket,
 * x_sum, x_count) or a collector's names, is refused too; so is an empty help text.
 *
 * Threads: everything here is thread-safe, except prom_registry_free(), which must run after
 * every other user is done. Handles (families, children) stay valid until then, even after a
 * child is removed (see prom_child_remove).
 */

enum prom_type {
	PROM_COUNTER,
	PROM_GAUGE,
	PROM_HISTOGRAM,
};

struct prom_registry;
struct prom_family;
struct prom_child;

/* A new, empty registry; the caller frees it with prom_registry_free(). */
struct prom_registry *prom_registry_new(void);
/* Frees the registry, its families, children and collectors; no-op on NULL. */
void prom_registry_free(struct prom_registry *r);

/*
 * Registration. name and help are copied; help must be non-empty UTF-8 (it is escaped when
 * rendered). labels is a NULL-terminated list of label names, copied, or NULL for none. The
 * registry owns the returned family. A family without labels has its single child from the
 * start, so it renders 0 before its first update; a labelled family renders nothing until its
 * first child exists.
 */
struct prom_family *prom_counter_new(struct prom_registry *r, const char *name, const char *help,
				     const char *const *labels);
struct prom_family *prom_gauge_new(struct prom_registry *r, const char *name, const char *help,
				   const char *const *labels);
/*
 * bounds: nbounds (>= 1) finite upper bounds, strictly increasing, copied; the "+Inf" bucket is
 * implicit. PROM_LATENCY_BUCKETS suits request and inference latencies in seconds.
 */
struct prom_family *prom_histogram_new(struct prom_registry *r, const char *name, const char *help,
				       const char *const *labels, const double *bounds,
				       size_t nbounds);

/* 50 us ... 10 s, in seconds: sub-millisecond inference up to slow requests and timeouts. */
#define PROM_LATENCY_NBUCKETS 17
extern const double prom_latency_buckets[PROM_LATENCY_NBUCKETS];

/*
 * The child of f for values, one per label name of f, in the same order (NULL for a family
 * without labels); created on first use with value 0. values are copied; NULL entries are a
 * BUG(). The handle is owned by the registry. A new child costs one allocation under f's write
 * lock; an existing one a binary search under its read lock.
 */
struct prom_child *prom_child(struct prom_family *f, const char *const *values);

/*
 * Removes the child of f for values from f's output (a later prom_child() for the same values
 * makes a new one, from 0). The removed child's memory is kept until prom_registry_free(), so
 * handles other threads still hold stay safe to update; their updates are no longer rendered.
 * Meant for rare events (a model swapped out), not per-request churn. Returns whether a child
 * was removed. A family without labels keeps its child: BUG().
 */
bool prom_child_remove(struct prom_family *f, const char *const *values);
/* Removes every child of a labelled family, as prom_child_remove() does for each. */
void prom_family_clear(struct prom_family *f);

/*
 * Hot-path updates on a child handle: lock-free, wait-free except the CAS loops on doubles
 * (counter adds of non-integers, gauge adds, histogram sums). Using a child of another type is
 * a BUG().
 */
/* Adds v >= 0 (v < 0 is a BUG: counters only go up); integral v takes the atomic-add path. */
void prom_counter_add(struct prom_child *c, double v);
void prom_counter_inc(struct prom_child *c);
void prom_gauge_set(struct prom_child *c, double v);
/* Adds v, which may be negative. */
void prom_gauge_add(struct prom_child *c, double v);
/*
 * Counts v in the first bucket whose bound is >= v (NaN in +Inf, as client_golang does) and adds
 * it to the sum. _count is rendered as the sum of the bucket counts, so it always equals the
 * +Inf bucket; _sum read during concurrent observations may lag the counts by those in flight.
 */
void prom_histogram_observe(struct prom_child *c, double v);

/* Resolve-and-update in one call (prom_child() + the update above). */
void prom_counter_add_labels(struct prom_family *f, const char *const *values, double v);
void prom_gauge_set_labels(struct prom_family *f, const char *const *values, double v);
void prom_histogram_observe_labels(struct prom_family *f, const char *const *values, double v);

/* Current values: a counter's or gauge's value; a histogram's observation count and sum. */
double prom_value(const struct prom_child *c);
uint64_t prom_histogram_count(const struct prom_child *c);
double prom_histogram_sum(const struct prom_child *c);

/*
 * Info metrics: a gauge family whose single child is 1 and whose labels describe something
 * (`ferry_model_info{name="churn",version="3",digest="sha256:..."} 1`). prom_info_set()
 * replaces the child in one step under the family's write lock, so a scrape sees either the old
 * series or the new one, never both or none.
 */
struct prom_family *prom_info_new(struct prom_registry *r, const char *name, const char *help,
				  const char *const *labels);
void prom_info_set(struct prom_family *f, const char *const *values);

/*
 * Appends the registry's exposition text (Content-Type "text/plain; version=0.0.4") to out:
 * families in registration order, each as "# HELP", "# TYPE" and its samples; children sorted
 * by their label values (byte order, first label first); then each collector's output, in
 * registration order. Takes the registry's lock and each family's read lock in turn (the
 * registry is const to the caller; only its locks change).
 */
void prom_render(const struct prom_registry *r, struct strbuf *out);
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Collectors: fn appends complete families (HELP, TYPE, samples) to out at render time, for
 * values read on demand (process metrics, store sizes). names is the NULL-terminated list of
 * the family names fn renders, checked against the registry's like a registration. fn runs under
 * the registry's lock: it must not call into the registry. data is the caller's and must outlive r.
 */
typedef void (*prom_collect_fn)(struct strbuf *out, void *data);
void prom_collector_add(struct prom_registry *r, const char *const *names, prom_collect_fn fn,
			void *data);

/* For collectors: one family of a single unlabelled sample (name and help as at registration). */
void prom_render_simple(struct strbuf *out, const char *name, enum prom_type type, const char *help,
			double v);

/*
 * A collector of the standard process metrics, as client_golang names them:
 * process_cpu_seconds_total, process_open_fds, process_max_fds, process_virtual_memory_bytes,
 * process_resident_memory_bytes and process_start_time_seconds, read from /proc at render
 * time; one that cannot be read is left out of that scrape.
 */
void prom_process_metrics(struct prom_registry *r);

/*
 * A sample value as the exposition format wants it: integers below 2^63 in plain digits
 * ("3", "-12", "1000000"), other values as the shortest of %.15g, %.16g and %.17g that reads
 * back exactly ("0.1", "5e-05", "1e+300"), "NaN", "+Inf" and "-Inf".
 */
#define PROM_NUM_SIZE 32
void prom_format_value(char out[PROM_NUM_SIZE], double v);

#endif
