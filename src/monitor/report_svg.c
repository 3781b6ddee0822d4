/* Escaping, number formatting and the inline SVG charts of the HTML drift report. */
#include "util/common.h"
#include "monitor/report_svg.h"

#include <math.h>

#include "monitor/drift_report.h"
#include "util/strbuf.h"

/* Chart geometry in SVG user units (the viewBox): one width for every chart. */
#define SVG_W 640.0
#define NUM_H 210.0
#define NUM_ML 56.0 /* room for the y labels */
#define NUM_MR 16.0
#define NUM_MT 30.0  /* room for the legend */
#define NUM_MB 40.0  /* room for the x labels */
#define CAT_ML 176.0 /* room for the category labels */
#define CAT_MR 28.0  /* room for the last percentage label */
#define CAT_MT 30.0
#define CAT_MB 26.0
#define CAT_ROW 20.0
#define CAT_LABEL_CHARS 24
#define MAX_X_LABELS 6

/*
 * Decodes one UTF-8 sequence at s (NUL-terminated). Returns the bytes consumed (at least 1) and
 * the code point, or U+FFFD for an invalid, overlong or surrogate sequence (one byte consumed).
 */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = c;
	return len;
}

/* Code points that must not appear raw in HTML or XML text. */
static bool cp_forbidden(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t' && cp != '\n' && cp != '\r';
	return (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF;
}

static void escape_cp(struct strbuf *sb, const unsigned char *raw, size_t len, uint32_t cp)
{
	switch (cp) {
	case '&':
		strbuf_addstr(sb, "&amp;");
		return;
	case '<':
		strbuf_addstr(sb, "&lt;");
		return;
	case '>':
		strbuf_addstr(sb, "&gt;");
		return;
	case '"':
		strbuf_addstr(sb, "&quot;");
		return;
	case '\'':
		strbuf_addstr(sb, "&#39;");
		return;
	default:
		break;
	}
	if (cp == 0xFFFD || cp_forbidden(cp))
		strbuf_addstr(sb, "\xEF\xBF\xBD");
	else
		strbuf_add(sb, raw, len);
}

void report_html_escape_cut(struct strbuf *sb, const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, len;
	uint32_t cp;

	if (!s)
		return;
	while (*p) {
		if (n == max_chars) {
			strbuf_addstr(sb, "\xE2\x80\xA6"); /* … */
			return;
		}
		len = utf8_next(p, &cp);
		escape_cp(sb, p, len, cp);
		p += len;
		n++;
	}
}

void report_html_escape(struct strbuf *sb, const char *s)
{
	report_html_escape_cut(sb, s, SIZE_MAX);
}

void report_html_num(struct strbuf *sb, double v)
{
	if (isnan(v))
		strbuf_addstr(sb, "n/a");
	else if (isinf(v))
		strbuf_addstr(sb, v > 0 ? "+inf" : "-inf");
	else
		strbuf_addf(sb, "%.4g", v == 0 ? 0.0 : v);
}

void report_html_pct(struct strbuf *sb, double v)
{
	if (!isfinite(v))
		strbuf_addstr(sb, "n/a");
	else
		strbuf_addf(sb, "%.3g%%", v == 0 ? 0.0 : v * 100);
}

/*
 * A coordinate or length: one decimal, ".0" dropped. Anything not finite becomes 0 so that a
 * NaN in the data can never make the SVG invalid (callers keep values finite anyway).
 */
static void coord(struct strbuf *sb, double v)
{
	char buf[32];
	int n;

	if (!isfinite(v) || fabs(v) > 1e6)
		v = 0;
	n = snprintf(buf, sizeof(buf), "%.1f", v);
	if (n >= 2 && buf[n - 2] == '.' && buf[n - 1] == '0')
		buf[n - 2] = '\0';
	if (!strcmp(buf, "-0"))
		buf[0] = '0', buf[1] = '\0';
	strbuf_addstr(sb, buf);
}

/* Appends ` name="v"` with v as a coordinate. */
static void attr(struct strbuf *sb, const char *name, double v)
{
	strbuf_addf(sb, " %s=\"", name);
	coord(sb, v);
	strbuf_addch(sb, '"');
}

static double share_at(const double *s, size_t i)
{
	double v = s[i];

	return isfinite(v) && v > 0 ? v : 0;
}

/* The largest share of both sides, or 1 when everything is zero (an empty axis, not a 0/0). */
static double shares_max(const struct drift_column_result *c)
{
	double m = 0;
	size_t i;

	for (i = 0; i < c->n_bins; i++) {
		m = fmax(m, share_at(c->ref_share, i));
		m = fmax(m, share_at(c->cur_share, i));
	}
	return m > 0 ? m : 1;
}

static void svg_open(struct strbuf *sb, const struct drift_column_result *c, double h,
		     const char *what)
{
	strbuf_addstr(sb, "<svg class=\"chart\" viewBox=\"0 0 640 ");
	coord(sb, h);
	strbuf_addstr(sb, "\" width=\"640\"");
	attr(sb, "height", h);
	strbuf_addstr(sb, " role=\"img\"><title>");
	strbuf_addstr(sb, what);
	strbuf_addstr(sb, " of ");
	report_html_escape(sb, c->name);
	strbuf_addstr(sb, ": reference vs current</title>\n");
}

/* cls NULL: the class comes from an enclosing <g> (text-anchor is inherited): shorter. */
static void text_at(struct strbuf *sb, const char *cls, double x, double y)
{
	strbuf_addstr(sb, "<text");
	if (cls)
		strbuf_addf(sb, " class=\"%s\"", cls);
	attr(sb, "x", x);
	attr(sb, "y", y);
	strbuf_addch(sb, '>');
}

static void line_at(struct strbuf *sb, const char *cls, double x1, double y1, double x2, double y2)
{
	strbuf_addf(sb, "<line class=\"%s\"", cls);
	attr(sb, "x1", x1);
	attr(sb, "y1", y1);
	attr(sb, "x2", x2);
	attr(sb, "y2", y2);
	strbuf_addstr(sb, "/>");
}

static void rect_at(struct strbuf *sb, const char *cls, double x, double y, double w, double h)
{
	strbuf_addf(sb, "<rect class=\"%s\"", cls);
	attr(sb, "x", x);
	attr(sb, "y", y);
	attr(sb, "width", w);
	attr(sb, "height", h);
}

/* A box as a path: shorter than a <rect> with its four attributes. Leaves the tag open. */
static void box_at(struct strbuf *sb, const char *cls, double x, double y, double w, double h)
{
	strbuf_addf(sb, "<path class=\"%s\" d=\"M", cls);
	coord(sb, x);
	strbuf_addch(sb, ' ');
	coord(sb, y);
	strbuf_addch(sb, 'h');
	coord(sb, w);
	strbuf_addch(sb, 'v');
	coord(sb, h);
	strbuf_addch(sb, 'h');
	coord(sb, -w);
	strbuf_addstr(sb, "z\"");
}

/* The legend above a chart: two swatches, with the means when known (numeric). */
static void legend(struct strbuf *sb, double x, const struct drift_column_result *c, bool means)
{
	rect_at(sb, "r", x, 8, 10, 10);
	strbuf_addstr(sb, "/>");
	text_at(sb, NULL, x + 14, 17);
	strbuf_addstr(sb, "reference");
	if (means && isfinite(c->ref_mean)) {
		strbuf_addstr(sb, ", mean ");
		report_html_num(sb, c->ref_mean);
	}
	strbuf_addstr(sb, "</text>");
	rect_at(sb, "c", x + 250, 8, 10, 10);
	strbuf_addstr(sb, "/>");
	text_at(sb, NULL, x + 264, 17);
	strbuf_addstr(sb, "current");
	if (means && isfinite(c->cur_mean)) {
		strbuf_addstr(sb, ", mean ");
		report_html_num(sb, c->cur_mean);
	}
	strbuf_addstr(sb, "</text>\n");
}

/* Edges usable as positions: finite, non-decreasing, and a range wider than zero. */
static bool edges_usable(const double *e, size_t n_bins)
{
	size_t i;

	for (i = 0; i <= n_bins; i++)
		if (!isfinite(e[i]) || (i && e[i] < e[i - 1]))
			return false;
	return e[n_bins] > e[0] && isfinite(e[n_bins] - e[0]);
}

struct num_axis {
	bool by_value; /* positions from edge values; else bins of equal width by index */
	double lo, hi, x0, w;
};

static double axis_x(const struct num_axis *a, const double *edges, size_t i, size_t n_bins)
{
	if (a->by_value)
		return a->x0 + (edges[i] - a->lo) / (a->hi - a->lo) * a->w;
	return a->x0 + (double)i / (double)n_bins * a->w;
}

/* Bars of one side as one path: "M x base v -h h w v h z" per non-empty bin. */
static void num_bars(struct strbuf *sb, const char *cls, const struct drift_column_result *c,
		     const struct num_axis *a, const double *share, double base, double scale,
		     bool left)
{
	size_t i, start = sb->len, n_drawn = 0;

	strbuf_addf(sb, "<path class=\"%s\" d=\"", cls);
	for (i = 0; i < c->n_bins; i++) {
		double x0 = axis_x(a, c->bin_edges, i, c->n_bins);
		double x1 = axis_x(a, c->bin_edges, i + 1, c->n_bins);
		double gap = fmin(1.5, (x1 - x0) * 0.1), half = (x1 - x0) / 2 - gap;
		double h = share_at(share, i) * scale;

		if (h <= 0 || half <= 0)
			continue;
		strbuf_addch(sb, 'M');
		coord(sb, left ? x0 + gap : x0 + (x1 - x0) / 2);
		strbuf_addch(sb, ' ');
		coord(sb, base);
		strbuf_addch(sb, 'v');
		coord(sb, -h);
		strbuf_addch(sb, 'h');
		coord(sb, half);
		strbuf_addch(sb, 'v');
		coord(sb, h);
		strbuf_addch(sb, 'z');
		n_drawn++;
	}
	if (n_drawn)
		strbuf_addstr(sb, "\"/>\n");
	else
		strbuf_setlen(sb, start); /* no empty d="" */
}

/* Invisible full-height rectangles carrying each bin's numbers as a tooltip. */
static void num_tooltips(struct strbuf *sb, const struct drift_column_result *c,
			 const struct num_axis *a, double top, double height)
{
	size_t i;

	for (i = 0; i < c->n_bins; i++) {
		double x0 = axis_x(a, c->bin_edges, i, c->n_bins);
		double x1 = axis_x(a, c->bin_edges, i + 1, c->n_bins);

		box_at(sb, "h", x0, top, x1 - x0, height);
		strbuf_addstr(sb, "><title>[");
		report_html_num(sb, c->bin_edges[i]);
		strbuf_addstr(sb, ", ");
		report_html_num(sb, c->bin_edges[i + 1]);
		strbuf_addstr(sb, i + 1 == c->n_bins ? "]" : ")");
		strbuf_addstr(sb, ": ref ");
		report_html_pct(sb, c->ref_share[i]);
		strbuf_addstr(sb, ", cur ");
		report_html_pct(sb, c->cur_share[i]);
		strbuf_addstr(sb, "</title></path>");
	}
	strbuf_addch(sb, '\n');
}

/* Value-axis gridlines with percentage labels at 0, max/2 and max. */
static void num_grid(struct strbuf *sb, double ymax, double base, double ph)
{
	int t;

	strbuf_addstr(sb, "<g class=\"yl\">");
	for (t = 0; t <= 2; t++) {
		double y = base - ph * t / 2;

		line_at(sb, "g", NUM_ML, y, SVG_W - NUM_MR, y);
		text_at(sb, NULL, NUM_ML - 4, y + 4);
		report_html_pct(sb, ymax * t / 2);
		strbuf_addstr(sb, "</text>");
	}
	strbuf_addstr(sb, "</g>\n");
}

static void num_xlabel(struct strbuf *sb, const struct drift_column_result *c,
		       const struct num_axis *a, size_t i, double base)
{
	double x = axis_x(a, c->bin_edges, i, c->n_bins);

	line_at(sb, "g", x, base, x, base + 4);
	text_at(sb, NULL, x, base + 16);
	report_html_num(sb, c->bin_edges[i]);
	strbuf_addstr(sb, "</text>");
}

/* Edge labels under the axis: at most MAX_X_LABELS, always the first and the last. */
static void num_xlabels(struct strbuf *sb, const struct drift_column_result *c,
			const struct num_axis *a, double base)
{
	size_t n = c->n_bins, step = (n + MAX_X_LABELS - 2) / (MAX_X_LABELS - 1), i;

	if (step == 0)
		step = 1;
	strbuf_addstr(sb, "<g class=\"xl\">");
	if (!a->by_value && c->bin_edges[0] == c->bin_edges[n]) {
		/* a constant column: one value, one label in the middle */
		text_at(sb, NULL, a->x0 + a->w / 2, base + 16);
		report_html_num(sb, c->bin_edges[0]);
		strbuf_addstr(sb, "</text></g>\n");
		return;
	}
	for (i = 0; i < n; i += step) {
		if (i && n - i < (step + 1) / 2)
			break; /* too close to the last label */
		num_xlabel(sb, c, a, i, base);
	}
	num_xlabel(sb, c, a, n, base);
	strbuf_addstr(sb, "</g>\n");
}

static void num_mean(struct strbuf *sb, const char *cls, const struct num_axis *a, double mean,
		     double base)
{
	double x;

	if (!a->by_value || !isfinite(mean))
		return;
	x = a->x0 + (fmin(fmax(mean, a->lo), a->hi) - a->lo) / (a->hi - a->lo) * a->w;
	line_at(sb, cls, x, NUM_MT - 4, x, base);
}

static void svg_numeric(struct strbuf *sb, const struct drift_column_result *c)
{
	double ph = NUM_H - NUM_MT - NUM_MB, base = NUM_MT + ph, ymax = shares_max(c);
	struct num_axis a = { false, 0, 0, NUM_ML, SVG_W - NUM_ML - NUM_MR };

	if (edges_usable(c->bin_edges, c->n_bins)) {
		a.by_value = true;
		a.lo = c->bin_edges[0];
		a.hi = c->bin_edges[c->n_bins];
	}
	svg_open(sb, c, NUM_H, "Histogram");
	legend(sb, NUM_ML, c, true);
	num_grid(sb, ymax, base, ph);
	num_bars(sb, "r", c, &a, c->ref_share, base, ph / ymax, true);
	num_bars(sb, "c", c, &a, c->cur_share, base, ph / ymax, false);
	num_mean(sb, "mr", &a, c->ref_mean, base);
	num_mean(sb, "mc", &a, c->cur_mean, base);
	line_at(sb, "ax", NUM_ML, base, SVG_W - NUM_MR, base);
	num_xlabels(sb, c, &a, base);
	num_tooltips(sb, c, &a, NUM_MT, ph);
	strbuf_addstr(sb, "</svg>\n");
}

struct cat_row {
	double key; /* the larger share of both sides: rows are drawn largest first */
	size_t index;
};

static int cat_row_cmp(const void *pa, const void *pb)
{
	const struct cat_row *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? 1 : -1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static void cat_row(struct strbuf *sb, const char *label, size_t n_other, double ref, double cur,
		    double y, double scale)
{
	strbuf_addstr(sb, "<g><title>");
	if (n_other)
		strbuf_addf(sb, "other (%zu categories)", n_other);
	else
		report_html_escape(sb, label ? (*label ? label : "(empty)") : "(none)");
	strbuf_addstr(sb, ": ref ");
	report_html_pct(sb, ref);
	strbuf_addstr(sb, ", cur ");
	report_html_pct(sb, cur);
	strbuf_addstr(sb, "</title>");
	text_at(sb, NULL, CAT_ML - 6, y + 14);
	if (n_other)
		strbuf_addf(sb, "other (%zu)", n_other);
	else
		report_html_escape_cut(sb, label ? (*label ? label : "(empty)") : "(none)",
				       CAT_LABEL_CHARS);
	strbuf_addstr(sb, "</text>");
	if (ref > 0) {
		box_at(sb, "r", CAT_ML, y + 2, ref * scale, 7);
		strbuf_addstr(sb, "/>");
	}
	if (cur > 0) {
		box_at(sb, "c", CAT_ML, y + 10, cur * scale, 7);
		strbuf_addstr(sb, "/>");
	}
	strbuf_addstr(sb, "</g>\n");
}

static void svg_categorical(struct strbuf *sb, const struct drift_column_result *c)
{
	size_t n = c->n_bins, shown = n, rows, i;
	struct cat_row *order = xcalloc(n, sizeof(*order));
	double other_ref = 0, other_cur = 0, xmax = 0, pw = SVG_W - CAT_ML - CAT_MR, h, y;

	for (i = 0; i < n; i++) {
		order[i].key = fmax(share_at(c->ref_share, i), share_at(c->cur_share, i));
		order[i].index = i;
	}
	qsort(order, n, sizeof(*order), cat_row_cmp);
	if (n > REPORT_SVG_MAX_CATEGORIES)
		shown = REPORT_SVG_MAX_CATEGORIES - 1;
	for (i = shown; i < n; i++) {
		other_ref += share_at(c->ref_share, order[i].index);
		other_cur += share_at(c->cur_share, order[i].index);
	}
	for (i = 0; i < shown; i++)
		xmax = fmax(xmax, order[i].key);
	xmax = fmax(xmax, fmax(other_ref, other_cur));
	if (xmax <= 0)
		xmax = 1;
	rows = shown + (shown < n);
	h = CAT_MT + (double)rows * CAT_ROW + CAT_MB;
	svg_open(sb, c, h, "Category shares");
	legend(sb, CAT_ML, c, false);
	y = CAT_MT + (double)rows * CAT_ROW;
	strbuf_addstr(sb, "<g class=\"xl\">");
	for (i = 0; i <= 2; i++) {
		double x = CAT_ML + pw * (double)i / 2;

		line_at(sb, "g", x, CAT_MT, x, y);
		text_at(sb, NULL, x, y + 16);
		report_html_pct(sb, xmax * (double)i / 2);
		strbuf_addstr(sb, "</text>");
	}
	strbuf_addstr(sb, "</g>\n<g class=\"cl\">\n");
	for (i = 0; i < shown; i++) {
		size_t k = order[i].index;

		cat_row(sb, c->bin_labels[k], 0, share_at(c->ref_share, k),
			share_at(c->cur_share, k), CAT_MT + (double)i * CAT_ROW, pw / xmax);
	}
	if (shown < n)
		cat_row(sb, NULL, n - shown, other_ref, other_cur, CAT_MT + (double)shown * CAT_ROW,
			pw / xmax);
	strbuf_addstr(sb, "</g>\n</svg>\n");
	free(order);
}

int report_svg_column(struct strbuf *sb, const struct drift_column_result *c, struct error *err)
{
	if (!c->n_bins)
		return 0;
	if (!c->ref_share || !c->cur_share)
		return error_set(err, ERR_INVALID, "column '%s': %zu bins without shares",
				 c->name ? c->name : "", c->n_bins);
	if (c->bin_edges)
		svg_numeric(sb, c);
	else if (c->bin_labels)
		svg_categorical(sb, c);
	else
		return error_set(err, ERR_INVALID,
				 "column '%s': %zu bins without edges or category labels",
				 c->name ? c->name : "", c->n_bins);
	return 0;
}
