/*
 * Terminal progress bars: workers bump an atomic counter, and whichever thread first notices
 * that 100 ms have passed redraws the line with "\r...\033[K". Formatting is a pure function.
 */
#include "util/common.h"
#include "util/progress.h"
#include "util/strbuf.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <time.h>

#define NS_PER_SEC 1000000000LL
#define REDRAW_NS (NS_PER_SEC / 10)
#define FIRST_DRAW_NS (NS_PER_SEC / 2)
#define BAR_MAX 30
#define BAR_MIN 10

struct progress {
	char *title;
	uint64_t total;
	enum progress_unit unit;
	int enabled;
	int64_t start_ns;
	_Atomic uint64_t done;
	_Atomic int64_t last_draw_ns;
	pthread_mutex_t draw_lock; /* serialises drawing and finishing */
	int drawn;		   /* under draw_lock */
};

static void add_bytes(struct strbuf *out, double bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	size_t i = 0;

	if (bytes < 1024) {
		strbuf_addf(out, "%.0f B", floor(bytes));
		return;
	}
	bytes /= 1024;
	while (bytes >= 1024 && i + 1 < ARRAY_SIZE(units)) {
		bytes /= 1024;
		i++;
	}
	strbuf_addf(out, "%.1f %s", bytes, units[i]);
}

static void add_amount(struct strbuf *out, uint64_t n, enum progress_unit unit)
{
	if (unit == PROGRESS_BYTES)
		add_bytes(out, (double)n);
	else
		strbuf_addf(out, "%" PRIu64, n);
}

static void add_duration(struct strbuf *out, uint64_t secs)
{
	if (secs >= 3600)
		strbuf_addf(out, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, secs / 3600,
			    secs / 60 % 60, secs % 60);
	else
		strbuf_addf(out, "%" PRIu64 ":%02" PRIu64, secs / 60, secs % 60);
}

/* Everything after the bar: percentage, amounts, rate, ETA. */
static void add_stats(struct strbuf *out, uint64_t done, uint64_t total, double elapsed_s,
		      enum progress_unit unit)
{
	double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0;

	if (total) {
		uint64_t shown = done < total ? done : total;

		strbuf_addf(out, "%3u%% (", (unsigned)((double)shown * 100 / (double)total));
		add_amount(out, done, unit);
		strbuf_addch(out, '/');
		add_amount(out, total, unit);
		strbuf_addch(out, ')');
	} else {
		add_amount(out, done, unit);
	}
	if (elapsed_s > 0) {
		strbuf_addstr(out, ", ");
		if (unit == PROGRESS_BYTES)
			add_bytes(out, rate);
		else
			strbuf_addf(out, "%.1f", rate);
		strbuf_addstr(out, "/s");
	}
	if (total && done && done < total && elapsed_s > 0) {
		strbuf_addstr(out, ", ETA ");
		add_duration(out, (uint64_t)ceil((double)(total - done) / rate));
	}
}

static void add_bar(struct strbuf *out, uint64_t done, uint64_t total, size_t bar_w)
{
	size_t filled =
	    done >= total ? bar_w : (size_t)((double)done * (double)bar_w / (double)total);

	strbuf_addch(out, '[');
	strbuf_addchars(out, '=', filled);
	if (filled < bar_w) {
		strbuf_addch(out, '>');
		strbuf_addchars(out, ' ', bar_w - filled - 1);
	}
	strbuf_addstr(out, "] ");
}

void progress_format(struct strbuf *out, const char *title, uint64_t done, uint64_t total,
		     double elapsed_s, enum progress_unit unit, int width)
{
	struct strbuf stats = STRBUF_INIT;
	size_t start = out->len, used;

	add_stats(&stats, done, total, elapsed_s, unit);
	strbuf_addf(out, "%s: ", title);
	used = strlen(title) + 2 + stats.len + 3; /* "[" and "] " around the bar */
	if (total && width > 0 && (size_t)width >= used + BAR_MIN) {
		size_t bar_w = (size_t)width - used;

		add_bar(out, done, total, bar_w < BAR_MAX ? bar_w : BAR_MAX);
	}
	strbuf_addbuf(out, &stats);
	if (width > 0 && out->len - start > (size_t)width)
		strbuf_setlen(out, start + (size_t)width);
	strbuf_release(&stats);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Caller holds draw_lock. One fwrite per redraw keeps the line whole. */
static void draw(struct progress *p, int64_t now, int final)
{
	struct strbuf line = STRBUF_INIT;
	double elapsed = (double)(now - p->start_ns) / NS_PER_SEC;

	strbuf_addch(&line, '\r');
	/* one column spare: writing the last column makes some terminals wrap */
	progress_format(&line, p->title, atomic_load(&p->done), p->total, elapsed, p->unit,
			term_width() - 1);
	strbuf_addstr(&line, "\033[K");
	if (final)
		strbuf_addch(&line, '\n');
	fwrite(line.buf, 1, line.len, stderr);
	fflush(stderr);
	p->drawn = 1;
	strbuf_release(&line);
}

static void maybe_draw(struct progress *p)
{
	int64_t now, last;

	if (!p->enabled)
		return;
	now = now_ns();
	last = atomic_load(&p->last_draw_ns);
	/* the thread that wins the exchange draws; the others carry on working */
	if (now - last < REDRAW_NS || !atomic_compare_exchange_strong(&p->last_draw_ns, &last, now))
		return;
	pthread_mutex_lock(&p->draw_lock);
	draw(p, now, 0);
	pthread_mutex_unlock(&p->draw_lock);
}

struct progress *progress_start(const char *title, uint64_t total, enum progress_unit unit,
				int quiet)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	p->title = xstrdup(title);
	p->total = total;
	p->unit = unit;
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->start_ns = now_ns();
	atomic_init(&p->done, 0);
	/* pretend a draw happened just before the first one is due */
	atomic_init(&p->last_draw_ns, p->start_ns + FIRST_DRAW_NS - REDRAW_NS);
	pthread_mutex_init(&p->draw_lock, NULL);
	return p;
}

void progress_update(struct progress *p, uint64_t done)
{
	if (!p)
		return;
	atomic_store(&p->done, done);
	maybe_draw(p);
}

void progress_add(struct progress *p, uint64_t n)
{
	if (!p)
		return;
	atomic_fetch_add(&p->done, n);
	maybe_draw(p);
}

void progress_finish(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->draw_lock);
	if (p->enabled && p->drawn)
		draw(p, now_ns(), 1);
	pthread_mutex_unlock(&p->draw_lock);
	pthread_mutex_destroy(&p->draw_lock);
	free(p->title);
	free(p);
}
