/*
 * The drift report as one self-contained HTML5 file: inline CSS and inline SVG charts (reference
 * vs current shares per column), the drift table and the verdict. No script, no external asset,
 * no raw rows: it opens offline in any browser and stays small (tens of KB for dozens of columns).
 *
 * Everything taken from the data (column names, category labels, notes, names in meta) is
 * HTML-escaped; numbers are printed with %.4g, and NaN or infinities are printed as words in
 * text and never reach an SVG coordinate.
 *
 * Ownership: nothing is kept; the caller owns r, meta and out.
 */
#ifndef FERRY_MONITOR_REPORT_HTML_H
#define FERRY_MONITOR_REPORT_HTML_H

#include <jansson.h>

#include "monitor/drift_report.h"

struct error;
struct strbuf;

/*
 * Everything on the page that is not in the drift report. Every field may be NULL (or zero):
 * its line or section is then left out.
 */
struct report_html_meta {
	const char *title; /* NULL: "Data drift report" */
	const char
	    *reference_name; /* where the reference came from: a path, "model v3 training data" */
	const char *current_name; /* the current data: a path, a time window */
	const char *model_name;
	const char *model_version;
	const char *model_digest;
	const char *generated_at;  /* shown as given, e.g. "2026-11-24T12:00:00Z" */
	const char *ferry_version; /* NULL: this build's version */
	/* the model's prediction (output) column compared like a feature: its own section */
	const struct drift_column_result *prediction;
	/* objects of metric name -> number for each side (non-numbers are shown as "n/a") */
	const json_t *quality_ref;
	const json_t *quality_cur;
	/* one line on what the command's exit code means, e.g. "exit code 3: dataset drift" */
	const char *exit_meaning;
};

#define REPORT_HTML_META_INIT                                                                      \
	{                                                                                          \
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL             \
	}

/*
 * Appends the whole HTML document for r to out (meta may be NULL). Columns are listed drifted
 * first, then no drift, insufficient data and skipped, each group in report order.
 * ERR_INVALID when a column's chart data is inconsistent (bins without shares or edges), naming
 * the column; on failure out is as it was.
 */
int monitor_report_html(struct strbuf *out, const struct drift_report *r,
			const struct report_html_meta *meta, struct error *err);

/*
 * Renders the document and replaces path with it atomically (fs_write_atomic, mode 0644): the
 * file is the old one or the complete new one, never a torn one. ERR_INVALID as above, ERR_IO
 * naming the path.
 */
int monitor_report_html_write(const char *path, const struct drift_report *r,
			      const struct report_html_meta *meta, struct error *err);

#endif
