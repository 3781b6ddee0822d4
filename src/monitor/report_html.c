/*
 * The HTML drift report: one file with inline CSS and SVG, readable offline and without script.
 * The charts are drawn by report_svg.c; this file lays out the page.
 */
#include "util/common.h"
#include "monitor/report_html.h"

#include <math.h>

#include "monitor/report_svg.h"
#include "util/fs.h"
#include "util/strbuf.h"

/* Kept short: the page must stay light (no framework, one small stylesheet). */
static const char page_css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
    "background:#fff;max-width:980px;margin:0 auto;padding:16px 24px}\n"
    "h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;"
    "border-bottom:1px solid #ddd}h3{font-size:15px;margin:0 0 4px;overflow-wrap:anywhere}\n"
    "table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;text-align:left;"
    "border-bottom:1px solid #e6e6e6;vertical-align:top}th{background:#f6f6f6}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td a{overflow-wrap:anywhere}\n"
    "dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:0}"
    "dt{color:#666}dd{margin:0;overflow-wrap:anywhere}\n"
    ".verdict{padding:10px 16px;margin:14px 0;border-left:6px solid #888;background:#f3f3f3}"
    ".verdict p{margin:4px 0}.verdict .big{font-size:18px;font-weight:600}\n"
    ".verdict.drift{background:#fdecea;border-color:#c62828}"
    ".verdict.none{background:#e8f5e9;border-color:#2e7d32}\n"
    ".b{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:600;"
    "background:#e0e0e0;color:#333}.b.drift{background:#c62828;color:#fff}"
    ".b.none{background:#2e7d32;color:#fff}.b.insufficient{background:#9e9e9e;color:#fff}\n"
    ".col{margin:18px 0;padding-top:8px;border-top:1px solid #eee}.m{color:#555;margin:2px 0}"
    ".note{color:#8a5a00;margin:2px 0}.foot{color:#777;font-size:12px;margin-top:32px}\n"
    "svg.chart{display:block;max-width:100%;height:auto;margin-top:6px}"
    ".chart text{font-size:11px;fill:#444}.yl,.cl{text-anchor:end}.xl{text-anchor:middle}\n"
    ".r{fill:#4c78a8}.c{fill:#f58518}.g{stroke:#e3e3e3}.ax{stroke:#888}"
    ".mr,.mc{stroke-width:2;stroke-dasharray:5 3}.mr{stroke:#1f4e79}.mc{stroke:#a84f00}\n"
    ".h{fill:transparent}.h:hover{fill:rgba(0,0,0,.06)}@media print{.h{display:none}}\n";

/* Display names of the tests and the comparison that means drift (drift_decide's rule). */
static const struct {
	const char *label, *drift_if;
} test_info[] = {
	[DRIFT_TEST_DEFAULT] = { "\xE2\x80\x94", NULL },
	[DRIFT_TEST_KS] = { "K-S p-value", "p \xE2\x89\xA4 " },
	[DRIFT_TEST_CHISQUARE] = { "chi-square p-value", "p &lt; " },
	[DRIFT_TEST_Z] = { "Z-test p-value", "p &lt; " },
	[DRIFT_TEST_WASSERSTEIN] = { "Wasserstein distance (normed)", "d \xE2\x89\xA5 " },
	[DRIFT_TEST_JENSENSHANNON] = { "Jensen-Shannon distance", "d \xE2\x89\xA5 " },
	[DRIFT_TEST_PSI] = { "PSI", "d \xE2\x89\xA5 " },
	[DRIFT_TEST_KL_DIV] = { "K-L divergence", "d \xE2\x89\xA5 " },
};

static const char *test_label(enum drift_test t)
{
	if ((size_t)t >= sizeof(test_info) / sizeof(test_info[0]))
		return "unknown test";
	return test_info[t].label;
}

/* "p ≤ 0.05" for a tested column, an em dash otherwise. */
static void drift_if(struct strbuf *sb, const struct drift_column_result *c)
{
	if ((size_t)c->test >= sizeof(test_info) / sizeof(test_info[0]) ||
	    !test_info[c->test].drift_if) {
		strbuf_addstr(sb, "\xE2\x80\x94");
		return;
	}
	strbuf_addstr(sb, test_info[c->test].drift_if);
	report_html_num(sb, c->threshold);
}

/* CSS class and words of a verdict; also the order of the groups in the table. */
static const char *verdict_class(enum drift_verdict v)
{
	switch (v) {
	case DRIFT_VERDICT_DRIFT:
		return "drift";
	case DRIFT_VERDICT_NONE:
		return "none";
	case DRIFT_VERDICT_INSUFFICIENT:
		return "insufficient";
	default:
		return "skipped";
	}
}

static const char *verdict_words(enum drift_verdict v)
{
	switch (v) {
	case DRIFT_VERDICT_DRIFT:
		return "drift";
	case DRIFT_VERDICT_NONE:
		return "no drift";
	case DRIFT_VERDICT_INSUFFICIENT:
		return "insufficient data";
	default:
		return "skipped";
	}
}

static int verdict_rank(enum drift_verdict v)
{
	switch (v) {
	case DRIFT_VERDICT_DRIFT:
		return 0;
	case DRIFT_VERDICT_NONE:
		return 1;
	case DRIFT_VERDICT_INSUFFICIENT:
		return 2;
	default:
		return 3;
	}
}

static bool tested(const struct drift_column_result *c)
{
	return c->verdict == DRIFT_VERDICT_NONE || c->verdict == DRIFT_VERDICT_DRIFT;
}

/* A tested score that came from counts rather than raw values (drift_report.h) gets a "≈". */
static void score(struct strbuf *sb, const struct drift_column_result *c)
{
	if (tested(c) && !c->exact)
		strbuf_addstr(sb, "\xE2\x89\x88");
	report_html_num(sb, c->score);
}

static void badge(struct strbuf *sb, enum drift_verdict v)
{
	strbuf_addf(sb, "<span class=\"b %s\">%s</span>", verdict_class(v), verdict_words(v));
}

/* Columns drifted first, then no drift, insufficient, skipped; report order within a group. */
static size_t *column_order(const struct drift_report *r)
{
	size_t *order = xcalloc(r->n_columns ? r->n_columns : 1, sizeof(*order)), k = 0, i;
	int rank;

	for (rank = 0; rank <= 3; rank++)
		for (i = 0; i < r->n_columns; i++)
			if (verdict_rank(r->columns[i].verdict) == rank)
				order[k++] = i;
	return order;
}

static void page_head(struct strbuf *sb, const char *title)
{
	strbuf_addstr(sb,
		      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
		      "<title>");
	report_html_escape(sb, title);
	strbuf_addstr(sb, "</title>\n<style>\n");
	strbuf_addstr(sb, page_css);
	strbuf_addstr(sb, "</style>\n</head>\n<body>\n<h1>");
	report_html_escape(sb, title);
	strbuf_addstr(sb, "</h1>\n");
}

static void meta_side(struct strbuf *sb, const char *what, const char *name, uint64_t rows)
{
	strbuf_addf(sb, "<dt>%s</dt><dd>", what);
	if (name) {
		report_html_escape(sb, name);
		strbuf_addstr(sb, " \xC2\xB7 ");
	}
	strbuf_addf(sb, "%" PRIu64 " rows</dd>\n", rows);
}

static void page_meta(struct strbuf *sb, const struct drift_report *r,
		      const struct report_html_meta *m)
{
	strbuf_addstr(sb, "<dl class=\"meta\">\n");
	meta_side(sb, "Reference", m->reference_name, r->ref_rows);
	meta_side(sb, "Current", m->current_name, r->cur_rows);
	if (m->model_name || m->model_version || m->model_digest) {
		strbuf_addstr(sb, "<dt>Model</dt><dd>");
		report_html_escape(sb, m->model_name);
		if (m->model_version) {
			strbuf_addstr(sb, m->model_name ? " version " : "version ");
			report_html_escape(sb, m->model_version);
		}
		if (m->model_digest) {
			strbuf_addstr(sb, " <code>");
			report_html_escape(sb, m->model_digest);
			strbuf_addstr(sb, "</code>");
		}
		strbuf_addstr(sb, "</dd>\n");
	}
	if (m->generated_at) {
		strbuf_addstr(sb, "<dt>Generated</dt><dd>");
		report_html_escape(sb, m->generated_at);
		strbuf_addstr(sb, "</dd>\n");
	}
	strbuf_addstr(sb, "</dl>\n");
}

static void page_verdict(struct strbuf *sb, const struct drift_report *r,
			 const struct report_html_meta *m)
{
	size_t n_insufficient = 0, n_skipped = 0, i;
	const char *cls;

	for (i = 0; i < r->n_columns; i++) {
		n_insufficient += r->columns[i].verdict == DRIFT_VERDICT_INSUFFICIENT;
		n_skipped += r->columns[i].verdict == DRIFT_VERDICT_SKIPPED;
	}
	if (!r->n_tested || r->verdict == DRIFT_VERDICT_INSUFFICIENT)
		cls = "insufficient";
	else
		cls = r->dataset_drift ? "drift" : "none";
	strbuf_addf(sb, "<div class=\"verdict %s\">\n<p class=\"big\">", cls);
	if (!strcmp(cls, "insufficient")) {
		strbuf_addstr(sb, "Not enough data: no column could be tested</p>\n");
	} else {
		strbuf_addstr(sb, r->dataset_drift ? "Dataset drift detected" : "No dataset drift");
		strbuf_addf(sb, "</p>\n<p>%zu of %zu tested columns drifted: share ", r->n_drifted,
			    r->n_tested);
		report_html_pct(sb, r->share);
		strbuf_addstr(sb, r->dataset_drift ? " \xE2\x89\xA5 " : " &lt; ");
		report_html_pct(sb, r->drift_share);
		strbuf_addstr(sb,
			      " (the dataset drifts when the share reaches the threshold)</p>\n");
	}
	strbuf_addf(sb,
		    "<p>%zu columns: %zu tested, %zu drifted, %zu with insufficient data, %zu "
		    "skipped</p>\n",
		    r->n_columns, r->n_tested, r->n_drifted, n_insufficient, n_skipped);
	if (r->n_tested && !r->exact)
		strbuf_addstr(sb,
			      "<p>Scores marked \xE2\x89\x88 are approximate: the current data was "
			      "too large to keep every value and was counted per reference value "
			      "instead.</p>\n");
	if (m->exit_meaning) {
		strbuf_addstr(sb, "<p>");
		report_html_escape(sb, m->exit_meaning);
		strbuf_addstr(sb, "</p>\n");
	}
	strbuf_addstr(sb, "</div>\n");
}

static void cell_u64(struct strbuf *sb, uint64_t v)
{
	strbuf_addf(sb, "<td class=\"n\">%" PRIu64 "</td>", v);
}

static void table_row(struct strbuf *sb, const struct drift_column_result *c, const char *id)
{
	strbuf_addf(sb, "<tr><td><a href=\"#%s\">", id);
	report_html_escape(sb, c->name);
	strbuf_addf(sb, "</a></td><td>%s</td><td>%s</td><td class=\"n\">",
		    c->numeric ? "numerical" : "categorical", test_label(c->test));
	score(sb, c);
	strbuf_addstr(sb, "</td><td class=\"n\">");
	drift_if(sb, c);
	strbuf_addstr(sb, "</td><td>");
	badge(sb, c->verdict);
	strbuf_addstr(sb, "</td>");
	cell_u64(sb, c->ref_count);
	cell_u64(sb, c->cur_count);
	cell_u64(sb, c->ref_missing);
	cell_u64(sb, c->cur_missing);
	strbuf_addstr(sb, "</tr>\n");
}

static void page_table(struct strbuf *sb, const struct drift_report *r, const size_t *order)
{
	size_t i;

	strbuf_addstr(sb, "<h2>Columns</h2>\n");
	if (!r->n_columns) {
		strbuf_addstr(sb, "<p>The reference has no columns.</p>\n");
		return;
	}
	strbuf_addstr(sb, "<table>\n<thead><tr><th>Column</th><th>Kind</th><th>Test</th>"
			  "<th>Score</th><th>Drift if</th><th>Verdict</th><th>Reference values</th>"
			  "<th>Current values</th><th>Reference missing</th>"
			  "<th>Current missing</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < r->n_columns; i++) {
		char id[32];

		snprintf(id, sizeof(id), "c%zu", order[i]);
		table_row(sb, &r->columns[order[i]], id);
	}
	strbuf_addstr(sb, "</tbody>\n</table>\n");
}

/* One column's section: name, verdict, the test's numbers, the note and the chart. */
static int column_card(struct strbuf *sb, const struct drift_column_result *c, const char *id,
		       struct error *err)
{
	int ret;

	strbuf_addf(sb, "<section class=\"col\" id=\"%s\">\n<h3>", id);
	report_html_escape(sb, c->name);
	strbuf_addch(sb, ' ');
	badge(sb, c->verdict);
	strbuf_addf(sb, "</h3>\n<p class=\"m\">%s \xC2\xB7 %s ",
		    c->numeric ? "numerical" : "categorical", test_label(c->test));
	score(sb, c);
	if (tested(c) && !c->exact) {
		if (isfinite(c->score_error) && c->score_error > 0) {
			strbuf_addstr(sb, " \xC2\xB1 ");
			report_html_num(sb, c->score_error);
		}
		strbuf_addstr(sb, " (approximate)");
	}
	if (!isnan(c->statistic)) {
		strbuf_addstr(sb, " (statistic ");
		report_html_num(sb, c->statistic);
		strbuf_addch(sb, ')');
	}
	strbuf_addstr(sb, " \xC2\xB7 drift if ");
	drift_if(sb, c);
	strbuf_addf(sb,
		    "</p>\n<p class=\"m\">reference %" PRIu64 " values (%" PRIu64
		    " missing) \xC2\xB7 current %" PRIu64 " values (%" PRIu64
		    " missing) \xC2\xB7 %" PRIu64 " distinct</p>\n",
		    c->ref_count, c->ref_missing, c->cur_count, c->cur_missing, c->n_unique);
	if (c->note) {
		strbuf_addstr(sb, "<p class=\"note\">");
		report_html_escape(sb, c->note);
		strbuf_addstr(sb, "</p>\n");
	}
	ret = report_svg_column(sb, c, err);
	if (ret < 0)
		return ret;
	strbuf_addstr(sb, "</section>\n");
	return 0;
}

static void quality_value(struct strbuf *sb, const json_t *v)
{
	strbuf_addstr(sb, "<td class=\"n\">");
	if (json_is_number(v))
		report_html_num(sb, json_number_value(v));
	else
		strbuf_addstr(sb, "n/a");
	strbuf_addstr(sb, "</td>");
}

static void quality_row(struct strbuf *sb, const char *name, const json_t *a, const json_t *b)
{
	strbuf_addstr(sb, "<tr><td>");
	report_html_escape(sb, name);
	strbuf_addstr(sb, "</td>");
	quality_value(sb, a);
	quality_value(sb, b);
	strbuf_addstr(sb, "<td class=\"n\">");
	if (json_is_number(a) && json_is_number(b)) {
		double d = json_number_value(b) - json_number_value(a);

		if (d > 0)
			strbuf_addch(sb, '+');
		report_html_num(sb, d);
	} else {
		strbuf_addstr(sb, "n/a");
	}
	strbuf_addstr(sb, "</td></tr>\n");
}

/* Reference vs current metrics: the reference's metrics in its order, then current-only ones. */
static void page_quality(struct strbuf *sb, const json_t *ref, const json_t *cur)
{
	const char *key;
	void *it;

	if (!json_is_object(ref) && !json_is_object(cur))
		return;
	strbuf_addstr(sb, "<h2>Model quality</h2>\n<table>\n<thead><tr><th>Metric</th>"
			  "<th>Reference</th><th>Current</th><th>Change</th></tr></thead>\n"
			  "<tbody>\n");
	/* jansson's iterators take a non-const object; nothing is modified */
	for (it = json_object_iter((json_t *)ref); it;
	     it = json_object_iter_next((json_t *)ref, it)) {
		key = json_object_iter_key(it);
		quality_row(sb, key, json_object_iter_value(it), json_object_get(cur, key));
	}
	for (it = json_object_iter((json_t *)cur); it;
	     it = json_object_iter_next((json_t *)cur, it)) {
		key = json_object_iter_key(it);
		if (!json_object_get(ref, key))
			quality_row(sb, key, NULL, json_object_iter_value(it));
	}
	strbuf_addstr(sb, "</tbody>\n</table>\n");
}

static void page_foot(struct strbuf *sb, const struct report_html_meta *m)
{
	strbuf_addstr(sb, "<p class=\"foot\">Written by ferry ");
	report_html_escape(sb, m->ferry_version ? m->ferry_version : FERRY_VERSION);
	if (m->generated_at) {
		strbuf_addstr(sb, " at ");
		report_html_escape(sb, m->generated_at);
	}
	strbuf_addstr(sb,
		      ". This file is self-contained: no script, no external resource, no "
		      "data rows (only the binned shares drawn above).</p>\n</body>\n</html>\n");
}

static int page_body(struct strbuf *sb, const struct drift_report *r,
		     const struct report_html_meta *m, const size_t *order, struct error *err)
{
	size_t i;
	int ret;

	page_meta(sb, r, m);
	page_verdict(sb, r, m);
	page_table(sb, r, order);
	if (m->prediction) {
		strbuf_addstr(sb, "<h2>Prediction drift</h2>\n");
		if ((ret = column_card(sb, m->prediction, "pred", err)) < 0)
			return ret;
	}
	page_quality(sb, m->quality_ref, m->quality_cur);
	if (r->n_columns)
		strbuf_addstr(sb, "<h2>Distributions</h2>\n");
	for (i = 0; i < r->n_columns; i++) {
		char id[32];

		snprintf(id, sizeof(id), "c%zu", order[i]);
		if ((ret = column_card(sb, &r->columns[order[i]], id, err)) < 0)
			return ret;
	}
	page_foot(sb, m);
	return 0;
}

int monitor_report_html(struct strbuf *out, const struct drift_report *r,
			const struct report_html_meta *meta, struct error *err)
{
	static const struct report_html_meta no_meta = REPORT_HTML_META_INIT;
	size_t start = out->len, *order = NULL;
	int ret;

	if (!r)
		BUG("monitor_report_html without a report");
	if (!meta)
		meta = &no_meta;
	order = column_order(r);
	page_head(out, meta->title ? meta->title : "Data drift report");
	ret = page_body(out, r, meta, order, err);
	if (ret < 0)
		strbuf_setlen(out, start);
	free(order);
	return ret;
}

int monitor_report_html_write(const char *path, const struct drift_report *r,
			      const struct report_html_meta *meta, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	ret = monitor_report_html(&sb, r, meta, err);
	if (ret < 0)
		goto out;
	ret = fs_write_atomic(path, sb.buf, sb.len, 0644, err);
out:
	strbuf_release(&sb);
	return ret;
}
