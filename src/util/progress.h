/*
 * Progress bars for long work on a terminal (files hashed, bytes pushed, rows read). Drawn on
 * stderr only when it is a TTY and not quiet; otherwise every call is a cheap no-op.
 */
#ifndef FERRY_UTIL_PROGRESS_H
#define FERRY_UTIL_PROGRESS_H

#include <stdint.h>

struct strbuf;

enum progress_unit {
	PROGRESS_COUNT, /* items: "42/100", "12.5/s" */
	PROGRESS_BYTES, /* bytes: "1.5 MiB/3.0 MiB", "2.0 MiB/s" */
};

struct progress;

/*
 * Starts a bar titled title (copied) counting to total (0 when unknown). Never NULL; the caller
 * ends it with progress_finish. Nothing is drawn for work that ends within half a second, and
 * redraws happen at most 10 times a second.
 */
struct progress *progress_start(const char *title, uint64_t total, enum progress_unit unit,
				int quiet);

/*
 * Sets (update) or advances (add) the amount done. Safe to call from several worker threads
 * at once; the counter is atomic and one thread at a time draws. p may be NULL.
 */
void progress_update(struct progress *p, uint64_t done);
void progress_add(struct progress *p, uint64_t n);

/* Draws the final state and a newline if anything was drawn, then frees p (NULL is fine). */
void progress_finish(struct progress *p);

/*
 * Appends one progress line to out, at most width characters (width <= 0: no limit, no bar):
 *   "TITLE: [=====>    ]  42% (42/100), 12.0/s, ETA 0:05"
 * The bar (up to 30 wide) is shown only when total is known and it fits at least 10 wide. The
 * percentage is rounded down; the rate (done / elapsed_s) is left out when elapsed_s <= 0; the
 * ETA, rounded up to whole seconds as M:SS or H:MM:SS, only while 0 < done < total. With total
 * 0 the line is "TITLE: 42, 12.0/s". Bytes use binary units with one decimal ("1.5 MiB") from
 * 1 KiB up, and "512 B" below.
 */
void progress_format(struct strbuf *out, const char *title, uint64_t done, uint64_t total,
		     double elapsed_s, enum progress_unit unit, int width);

#endif
