/*
 * Internals of the HTML drift report (report_html.c): escaping and number formatting shared by
 * the page and its charts, and the inline SVG chart of one column. Not for other modules.
 *
 * Everything written is well-formed XML as well as HTML5: text and attribute values are escaped
 * with &amp; &lt; &gt; &quot; &#39; only, invalid UTF-8 and control characters become U+FFFD.
 *
 * Ownership: nothing is kept or allocated beyond what is appended to the caller's strbuf.
 */
#ifndef FERRY_MONITOR_REPORT_SVG_H
#define FERRY_MONITOR_REPORT_SVG_H

#include <stddef.h>

struct drift_column_result;
struct error;
struct strbuf;

/* Appends s escaped for HTML/XML text and quoted attribute values; NULL appends nothing. */
void report_html_escape(struct strbuf *sb, const char *s);

/* The same, cut to at most max_chars code points with "…" appended when cut. */
void report_html_escape_cut(struct strbuf *sb, const char *s, size_t max_chars);

/* v with %.4g; NaN as "n/a", infinities as "+inf" / "-inf", -0 as 0. For text, not SVG. */
void report_html_num(struct strbuf *sb, double v);

/* v (a share in [0, 1]) as a percentage with %.3g, or "n/a" when not finite. */
void report_html_pct(struct strbuf *sb, double v);

/*
 * Appends an <svg> chart of the column's reference and current shares: histogram bars on the
 * bin edges with the means marked (numeric), or horizontal grouped bars per category (at most
 * REPORT_SVG_MAX_CATEGORIES rows, the rest summed into one "other" row). Appends nothing when
 * the column has no bins. ERR_INVALID naming the column when bins come without shares, or
 * without edges and labels; sb may then hold part of the chart (the caller truncates).
 */
#define REPORT_SVG_MAX_CATEGORIES 25
int report_svg_column(struct strbuf *sb, const struct drift_column_result *c, struct error *err);

#endif
