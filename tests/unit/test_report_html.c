/*
 * Unit tests for monitor/report_html: the page is well-formed (checked by a small XML checker
 * here), self-contained, escapes hostile names, keeps NaN and infinities out of SVG geometry,
 * lists every column drifted first, and stays small. Reports are built by hand, not by the
 * drift engine; chart geometry is compared with coordinates computed by hand.
 */
#include "util/common.h"
#include "helpers.h"
#include "monitor/report_html.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <math.h>

/* ---- building reports by hand --------------------------------------------------------------- */

static char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static double *doubles(size_t n, const double *v)
{
	double *d = xcalloc(n ? n : 1, sizeof(*d));

	if (n)
		memcpy(d, v, n * sizeof(*d));
	return d;
}

static void set_tested(struct drift_column_result *c, enum drift_test t, double score, double thr,
		       enum drift_verdict v)
{
	c->test = t;
	c->score = score;
	c->statistic = NAN;
	c->threshold = thr;
	c->verdict = v;
	c->exact = true;
	c->score_error = 0;
	c->ref_count = 100;
	c->cur_count = 90;
	c->ref_missing = 1;
	c->cur_missing = 2;
	c->n_unique = 50;
}

static void numeric_col(struct drift_column_result *c, const char *name, size_t n,
			const double *edges, const double *ref, const double *cur, double ref_mean,
			double cur_mean)
{
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->numeric = true;
	c->n_bins = n;
	c->bin_edges = doubles(n + 1, edges);
	c->ref_share = doubles(n, ref);
	c->cur_share = doubles(n, cur);
	c->ref_mean = ref_mean;
	c->cur_mean = cur_mean;
	set_tested(c, DRIFT_TEST_KS, 0.5, 0.05, DRIFT_VERDICT_NONE);
}

static void categorical_col(struct drift_column_result *c, const char *name, size_t n,
			    const char *const *labels, const double *ref, const double *cur)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->n_bins = n;
	c->bin_labels = xcalloc(n ? n : 1, sizeof(char *));
	for (i = 0; i < n; i++)
		c->bin_labels[i] = xstrdup_or_null(labels[i]);
	c->ref_share = doubles(n, ref);
	c->cur_share = doubles(n, cur);
	c->ref_mean = c->cur_mean = NAN;
	set_tested(c, DRIFT_TEST_CHISQUARE, 0.5, 0.05, DRIFT_VERDICT_NONE);
}

static void skipped_col(struct drift_column_result *c, const char *name, const char *note)
{
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->test = DRIFT_TEST_DEFAULT;
	c->score = c->statistic = c->threshold = NAN;
	c->ref_mean = c->cur_mean = NAN;
	c->verdict = DRIFT_VERDICT_SKIPPED;
	c->note = xstrdup_or_null(note);
}

static void col_release(struct drift_column_result *c)
{
	size_t i;

	if (c->bin_labels)
		for (i = 0; i < c->n_bins; i++)
			free(c->bin_labels[i]);
	free(c->bin_labels);
	free(c->bin_edges);
	free(c->ref_share);
	free(c->cur_share);
	free(c->name);
	free(c->note);
}

static struct drift_report *report_new(size_t n)
{
	struct drift_report *r = xcalloc(1, sizeof(*r));

	r->n_columns = n;
	r->columns = xcalloc(n ? n : 1, sizeof(*r->columns));
	r->ref_rows = 1000;
	r->cur_rows = 900;
	r->drift_share = 0.5;
	r->share = NAN;
	r->verdict = DRIFT_VERDICT_INSUFFICIENT;
	return r;
}

/* Fills the dataset fields from the columns, as the engine's contract says. */
static void report_finish(struct drift_report *r)
{
	size_t i;

	r->n_tested = r->n_drifted = 0;
	for (i = 0; i < r->n_columns; i++) {
		r->n_tested += r->columns[i].verdict == DRIFT_VERDICT_NONE ||
			       r->columns[i].verdict == DRIFT_VERDICT_DRIFT;
		r->n_drifted += r->columns[i].verdict == DRIFT_VERDICT_DRIFT;
	}
	r->exact = true;
	for (i = 0; i < r->n_columns; i++)
		if (r->columns[i].verdict == DRIFT_VERDICT_NONE ||
		    r->columns[i].verdict == DRIFT_VERDICT_DRIFT)
			r->exact = r->exact && r->columns[i].exact;
	r->share = r->n_tested ? (double)r->n_drifted / (double)r->n_tested : NAN;
	r->dataset_drift = r->n_tested && r->share >= r->drift_share;
	r->verdict = !r->n_tested	? DRIFT_VERDICT_INSUFFICIENT
		     : r->dataset_drift ? DRIFT_VERDICT_DRIFT
					: DRIFT_VERDICT_NONE;
}

static void report_release(struct drift_report *r)
{
	size_t i;

	for (i = 0; i < r->n_columns; i++)
		col_release(&r->columns[i]);
	free(r->columns);
	free(r);
}

static char *render(const struct drift_report *r, const struct report_html_meta *m)
{
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;

	if (monitor_report_html(&sb, r, m, &err))
		fail_msg("monitor_report_html: %s", err.msg);
	return strbuf_detach(&sb, NULL);
}

/* ---- checking the output -------------------------------------------------------------------- */

/* Valid UTF-8 with no overlong forms, surrogates or code points past U+10FFFF. */
static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		uint32_t c = *s, min;
		size_t len, i;

		if (c < 0x80) {
			s++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			len = 2, c &= 0x1F, min = 0x80;
		else if ((c & 0xF0) == 0xE0)
			len = 3, c &= 0x0F, min = 0x800;
		else if ((c & 0xF8) == 0xF0)
			len = 4, c &= 0x07, min = 0x10000;
		else
			return false;
		for (i = 1; i < len; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			c = (c << 6) | (s[i] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return false;
		s += len;
	}
	return true;
}

/* An entity at p ('&'): the five XML ones or a decimal character reference. */
static size_t entity_len(const char *p)
{
	static const char *const names[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(p, names[i], strlen(names[i])))
			return strlen(names[i]);
	return 0;
}

/*
 * Characters data outside tags: '&' only as an entity, no raw '<' or '>' (the writer escapes
 * both) and no control characters but tab, newline and carriage return.
 */
static void check_chars(const char *p, const char *end, const char *what)
{
	for (; p < end; p++) {
		if (*p == '&') {
			size_t n = entity_len(p);

			if (!n)
				fail_msg("bare '&' in %s: %.40s", what, p);
			p += n - 1;
		} else if (*p == '<' || *p == '>') {
			fail_msg("raw '%c' in %s: %.40s", *p, what, p);
		} else if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') {
			fail_msg("control character 0x%02x in %s", (unsigned)*p, what);
		}
	}
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == ':' || c == '_';
}

/* Parses the attributes of a tag from p to the '>' or "/>"; returns the position after the tag. */
static const char *check_attrs(const char *p, bool *self_closing)
{
	for (;;) {
		const char *name, *q;

		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == '>') {
			*self_closing = false;
			return p + 1;
		}
		if (p[0] == '/' && p[1] == '>') {
			*self_closing = true;
			return p + 2;
		}
		name = p;
		while (name_char(*p))
			p++;
		if (p == name || p[0] != '=' || p[1] != '"')
			fail_msg("bad attribute syntax at: %.60s", name);
		q = strchr(p + 2, '"');
		assert_non_null(q);
		check_chars(p + 2, q, "an attribute value");
		p = q + 1;
	}
}

/*
 * Checks that html is well-formed XML after "<!DOCTYPE html>" (which the writer promises):
 * every element closed in order, attributes quoted, text and values escaped, valid UTF-8.
 */
static void check_wellformed(const char *html)
{
	const char *stack[64];
	size_t depth = 0;
	const char *p = html;

	assert_true(utf8_valid((const unsigned char *)html));
	assert_true(skip_prefix(p, "<!DOCTYPE html>\n", &p));
	while (*p) {
		const char *lt = strchr(p, '<'), *name;
		size_t len;

		if (!lt) {
			check_chars(p, p + strlen(p), "text");
			break;
		}
		check_chars(p, lt, "text");
		if (lt[1] == '/') {
			name = lt + 2;
			for (len = 0; name_char(name[len]); len++)
				;
			assert_true(depth > 0);
			depth--;
			if (strncmp(stack[depth], name, len) || name_char(stack[depth][len]) ||
			    name[len] != '>')
				fail_msg("</%.*s> closes <%.20s", (int)len, name, stack[depth]);
			p = name + len + 1;
		} else {
			bool self_closing;

			name = lt + 1;
			for (len = 0; name_char(name[len]); len++)
				;
			if (!len)
				fail_msg("bad tag at: %.40s", lt);
			p = check_attrs(name + len, &self_closing);
			if (!self_closing) {
				assert_true(depth < sizeof(stack) / sizeof(stack[0]));
				stack[depth++] = name;
			}
		}
	}
	if (depth)
		fail_msg("unclosed <%.20s", stack[depth - 1]);
}

static void check_no_external(const char *html)
{
	static const char *const bad[] = { "http://", "https://", "src=",  "@import",
					   "<script", "url(",	  "<link", "<img",
					   "<iframe", "href=\"/", "//" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(html, bad[i]))
			fail_msg("external reference '%s' in the page", bad[i]);
}

/*
 * In every <svg>, geometry attributes hold only numbers and path commands: never "nan", "inf"
 * or an empty value.
 */
static void check_svg_geometry(const char *html)
{
	static const char *const attrs[] = { " x=\"",	    " y=\"",  " width=\"", " height=\"",
					     " x1=\"",	    " y1=\"", " x2=\"",	   " y2=\"",
					     " viewBox=\"", " d=\"" };
	const char *svg = html;
	size_t n_svg = 0;

	while ((svg = strstr(svg, "<svg"))) {
		const char *end = strstr(svg, "</svg>");
		size_t i;

		assert_non_null(end);
		n_svg++;
		for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
			const char *a = svg;

			while ((a = strstr(a, attrs[i])) && a < end) {
				const char *v = a + strlen(attrs[i]), *q = strchr(v, '"');

				assert_true(q > v);
				for (; v < q; v++)
					if (!strchr("0123456789.- MvhVHz", *v))
						fail_msg("bad SVG geometry %.30s", a);
				a = q;
			}
		}
		svg = end;
	}
	(void)n_svg;
}

static void check_page(const char *html)
{
	check_wellformed(html);
	check_no_external(html);
	check_svg_geometry(html);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static const char *find(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);

	if (!p)
		fail_msg("'%s' not in the page", needle);
	return p;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static const double E3[] = { 0, 1, 2, 3 };
static const double R3[] = { 0.5, 0.3, 0.2 };
static const double C3[] = { 0.2, 0.3, 0.5 };
static const char *const L3[] = { "red", "green", "blue" };

/* Three columns in report order: no drift, drift, skipped; the table lists the drifted one first. */
static void test_basic_page(void **state)
{
	struct drift_report *r = report_new(3);
	struct report_html_meta m = REPORT_HTML_META_INIT;
	char *html;

	(void)state;
	categorical_col(&r->columns[0], "plan", 3, L3, R3, R3);
	numeric_col(&r->columns[1], "income", 3, E3, R3, C3, 1.2, 1.8);
	set_tested(&r->columns[1], DRIFT_TEST_KS, 0.000123456, 0.05, DRIFT_VERDICT_DRIFT);
	r->columns[1].statistic = 0.41;
	skipped_col(&r->columns[2], "id", "skipped by configuration");
	report_finish(r);
	m.reference_name = "data/reference.csv";
	m.current_name = "data/batch_02.csv";
	m.model_name = "churn";
	m.model_version = "3";
	m.model_digest = "sha256:abc";
	m.generated_at = "2026-11-24T12:00:00Z";
	m.exit_meaning = "exit code 3: dataset drift";
	html = render(r, &m);
	check_page(html);
	/* dataset verdict: 1 of 2 tested columns, 50% >= 50% */
	find(html, "<div class=\"verdict drift\">");
	find(html, "Dataset drift detected");
	find(html, "1 of 2 tested columns drifted: share 50% \xE2\x89\xA5 50%");
	find(html, "3 columns: 2 tested, 1 drifted, 0 with insufficient data, 1 skipped");
	find(html, "exit code 3: dataset drift");
	find(html, "1000 rows");
	find(html, "900 rows");
	find(html, "churn version 3 <code>sha256:abc</code>");
	/* the table: drifted first, then no drift, then skipped (links name the report index) */
	assert_true(find(html, "<a href=\"#c1\">income</a>") <
		    find(html, "<a href=\"#c0\">plan</a>"));
	assert_true(find(html, "<a href=\"#c0\">plan</a>") < find(html, "<a href=\"#c2\">id</a>"));
	/* %.4g numbers, the comparison of each test */
	find(html, "<td class=\"n\">0.0001235</td><td class=\"n\">p \xE2\x89\xA4 0.05</td>");
	find(html, "(statistic 0.41)");
	find(html, "<td class=\"n\">p &lt; 0.05</td>");
	find(html, "skipped by configuration");
	/* charts: a histogram and category bars, none for the skipped column */
	assert_int_equal(count(html, "<svg"), 2);
	find(html, "reference, mean 1.2");
	find(html, "current, mean 1.8");
	find(html, "<title>blue: ref 20%, cur 20%</title>");
	assert_int_equal(count(html, "<section class=\"col\""), 3);
	free(html);
	report_release(r);
}

/*
 * Geometry computed by hand: plot x from 56 to 624 (width 568), baseline y 170, height 140.
 * Edges [0, 1, 2]: bin 0 spans 56..340, bin 1 340..624; gap 1.5; half width 142 - 1.5 = 140.5.
 */
static void test_histogram_geometry(void **state)
{
	static const double e[] = { 0, 1, 2 }, ref[] = { 1, 0 }, cur[] = { 0.25, 0.5 };
	struct drift_report *r = report_new(1);
	char *html;

	(void)state;
	numeric_col(&r->columns[0], "x", 2, e, ref, cur, 0.5, 1.5);
	report_finish(r);
	html = render(r, NULL);
	check_page(html);
	/* reference: share 1 = the top (ymax 1): full height 140, left half of bin 0 */
	find(html, "<path class=\"r\" d=\"M57.5 170v-140h140.5v140z\"/>");
	/* current: 0.25 -> 35 high right half of bin 0 (x 198), 0.5 -> 70 high in bin 1 (x 482) */
	find(html, "<path class=\"c\" d=\"M198 170v-35h140.5v35zM482 170v-70h140.5v70z\"/>");
	/* means 0.5 and 1.5 at 56 + 568 / 4 = 198 and 56 + 3 * 568 / 4 = 482 */
	find(html, "<line class=\"mr\" x1=\"198\" y1=\"26\" x2=\"198\" y2=\"170\"/>");
	find(html, "<line class=\"mc\" x1=\"482\" y1=\"26\" x2=\"482\" y2=\"170\"/>");
	/* y labels: 0%, 50%, 100% */
	find(html, "<text x=\"52\" y=\"104\">50%</text>");
	/* tooltip of the last bin is closed on the right */
	find(html, "<title>[1, 2]: ref 0%, cur 50%</title>");
	free(html);
	report_release(r);
}

static const char HOSTILE[] = "<script>alert(\"x\")</script>&amp;'";
static const char HOSTILE_ESC[] = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;&#39;";

/* User data everywhere: column names, category labels, notes, every meta string. */
static void test_escaping(void **state)
{
	const char *labels[] = { HOSTILE, "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x99\x82",
				 "bad\xFF\xFE utf8 \x01 ctl", "" };
	static const double sh[] = { 0.25, 0.25, 0.25, 0.25 };
	struct drift_report *r = report_new(4);
	struct report_html_meta m = REPORT_HTML_META_INIT;
	char *html;

	(void)state;
	numeric_col(&r->columns[0], HOSTILE, 3, E3, R3, C3, 1, 1);
	categorical_col(&r->columns[1], "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x99\x82", 4,
			labels, sh, sh);
	skipped_col(&r->columns[2], "a\"b'c<d>e&f", HOSTILE);
	skipped_col(&r->columns[3], "bad\xC0\xAF\xED\xA0\x80 name", NULL);
	report_finish(r);
	m.title = HOSTILE;
	m.reference_name = HOSTILE;
	m.current_name = HOSTILE;
	m.model_name = HOSTILE;
	m.model_version = HOSTILE;
	m.model_digest = HOSTILE;
	m.generated_at = HOSTILE;
	m.ferry_version = HOSTILE;
	m.exit_meaning = HOSTILE;
	html = render(r, &m);
	check_page(html);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "alert(\""));
	/* title x2, 3 meta lines, model 3 fields, footer 2, exit line, column name 4x (table,
	 * heading, chart title) + note */
	assert_true(count(html, HOSTILE_ESC) >= 14);
	find(html, "a&quot;b&#39;c&lt;d&gt;e&amp;f");
	/* non-ASCII passes through unchanged */
	assert_true(count(html, "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x99\x82") >= 3);
	/* invalid UTF-8 and control characters become U+FFFD, one per bad byte */
	find(html, "bad\xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD ctl");
	find(html, "bad\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD name");
	find(html, "<title>(empty): ref 25%, cur 25%</title>");
	free(html);
	report_release(r);
}

/* Labels longer than the chart's label room are cut on a code point, never inside one. */
static void test_long_label_cut(void **state)
{
	/* 30 two-byte characters */
	char label[61];
	const char *labels[1] = { label };
	static const double sh[] = { 1 };
	struct drift_report *r = report_new(1);
	char *html;
	size_t i;

	(void)state;
	for (i = 0; i < 30; i++)
		memcpy(label + 2 * i, "\xC3\xA9", 2);
	label[60] = '\0';
	categorical_col(&r->columns[0], "c", 1, labels, sh, sh);
	report_finish(r);
	html = render(r, NULL);
	check_page(html);
	/* the tooltip has all 30, the visible label 24 and an ellipsis */
	find(html, label);
	label[48] = '\0';
	{
		struct strbuf want = STRBUF_INIT;

		strbuf_addf(&want, ">%s\xE2\x80\xA6</text>", label);
		find(html, want.buf);
		strbuf_release(&want);
	}
	free(html);
	report_release(r);
}

/* NaN and infinities in scores, means, shares and edges: words in text, never in geometry. */
static void test_nonfinite(void **state)
{
	static const double e[] = { -INFINITY, 0, NAN, 3 }, ref[] = { NAN, 0.5, INFINITY },
			    cur[] = { -1, 0.5, 0.5 };
	static const double e2[] = { 0, 1, 2 }, r2[] = { NAN, NAN }, c2[] = { NAN, NAN };
	struct drift_report *r = report_new(3);
	char *html;

	(void)state;
	numeric_col(&r->columns[0], "weird", 3, e, ref, cur, NAN, INFINITY);
	r->columns[0].score = NAN;
	r->columns[0].statistic = INFINITY;
	r->columns[0].threshold = NAN;
	categorical_col(&r->columns[1], "cat", 3, L3, ref, cur);
	r->columns[1].score = 0;
	r->columns[1].statistic = INFINITY;
	numeric_col(&r->columns[2], "allnan", 2, e2, r2, c2, -INFINITY, NAN);
	report_finish(r);
	html = render(r, NULL);
	check_page(html);
	find(html, "(statistic +inf)");
	find(html, "n/a");
	find(html, "[-inf, 0)");
	assert_int_equal(count(html, "<svg"), 3);
	free(html);
	report_release(r);
}

/* No columns at all: a valid page that says nothing could be tested. */
static void test_zero_columns(void **state)
{
	struct drift_report *r = report_new(0);
	char *html;

	(void)state;
	report_finish(r);
	html = render(r, NULL);
	check_page(html);
	find(html, "Not enough data: no column could be tested");
	find(html, "The reference has no columns.");
	assert_null(strstr(html, "<svg"));
	assert_null(strstr(html, "<table"));
	free(html);
	report_release(r);
}

static void test_all_skipped(void **state)
{
	struct drift_report *r = report_new(2);
	char *html;

	(void)state;
	skipped_col(&r->columns[0], "a", "all values missing in current");
	skipped_col(&r->columns[1], "b", NULL);
	r->columns[1].verdict = DRIFT_VERDICT_INSUFFICIENT;
	report_finish(r);
	html = render(r, NULL);
	check_page(html);
	find(html, "<div class=\"verdict insufficient\">");
	find(html, "2 columns: 0 tested, 0 drifted, 1 with insufficient data, 1 skipped");
	/* insufficient before skipped */
	assert_true(find(html, "#c1") < find(html, "#c0"));
	find(html, "all values missing in current");
	free(html);
	report_release(r);
}

/*
 * One bin, and a constant column whose edges span zero width: bins fall back to equal widths
 * by index, one label in the middle, no mean lines (no scale to put them on).
 */
static void test_single_bin_and_constant(void **state)
{
	static const double one[] = { 1, 2 }, s1[] = { 1 }, konst[] = { 5, 5 };
	struct drift_report *r = report_new(2);
	char *html;
	const char *svg2;

	(void)state;
	numeric_col(&r->columns[0], "one", 1, one, s1, s1, 1.5, 1.5);
	numeric_col(&r->columns[1], "const", 1, konst, s1, s1, 5, 5);
	report_finish(r);
	html = render(r, NULL);
	check_page(html);
	/* one bin over the whole plot: 56..624, halves of 284 - 1.5 */
	assert_int_equal(count(html, "<path class=\"r\" d=\"M57.5 170v-140h282.5v140z\"/>"), 2);
	assert_int_equal(count(html, "<path class=\"c\" d=\"M340 170v-140h282.5v140z\"/>"), 2);
	svg2 = find(html, "Histogram of const");
	find(svg2, "<g class=\"xl\"><text x=\"340\" y=\"186\">5</text></g>");
	assert_null(strstr(svg2, "class=\"mr\""));
	assert_non_null(strstr(html, "class=\"mr\"")); /* the first column has its means */
	free(html);
	report_release(r);
}

/* Many categories: the largest 24 are drawn, the rest summed into one row. */
static void test_many_categories(void **state)
{
	enum {
		N = 100
	};
	char *labels[N];
	double ref[N], cur[N];
	struct drift_report *r = report_new(1);
	char *html;
	size_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "cat%03zu", i);
		labels[i] = strbuf_detach(&sb, NULL);
		/* shares grow with i: cat099 is the largest */
		ref[i] = cur[i] = (double)(i + 1) / 5050.0;
	}
	categorical_col(&r->columns[0], "many", N, (const char *const *)labels, ref, cur);
	report_finish(r);
	html = render(r, NULL);
	check_page(html);
	assert_int_equal(count(html, "<g><title>"), 25);
	find(html, ">cat099</text>");
	find(html, ">cat076</text>");
	assert_null(strstr(html, ">cat075</text>"));
	/* 76 categories of 1..76 / 5050: 2926 / 5050 = 57.9% */
	find(html, "<title>other (76 categories): ref 57.9%, cur 57.9%</title>");
	for (i = 0; i < N; i++)
		free(labels[i]);
	free(html);
	report_release(r);
}

static void test_prediction_and_quality(void **state)
{
	struct drift_report *r = report_new(1);
	struct drift_column_result pred;
	struct report_html_meta m = REPORT_HTML_META_INIT;
	json_t *q_ref = json_pack("{s:f,s:f,s:s}", "accuracy", 0.9, "f1", 0.8, "note", "x");
	json_t *q_cur = json_pack("{s:f,s:f,s:f}", "accuracy", 0.85, "f1", 0.8, "roc_auc", 0.7);
	char *html;

	(void)state;
	numeric_col(&r->columns[0], "x", 3, E3, R3, C3, 1, 1);
	report_finish(r);
	categorical_col(&pred, "prediction <label>", 3, L3, R3, C3);
	set_tested(&pred, DRIFT_TEST_JENSENSHANNON, 0.2, 0.1, DRIFT_VERDICT_DRIFT);
	m.prediction = &pred;
	m.quality_ref = q_ref;
	m.quality_cur = q_cur;
	html = render(r, &m);
	check_page(html);
	find(html, "<h2>Prediction drift</h2>\n<section class=\"col\" id=\"pred\">");
	find(html, "prediction &lt;label&gt; <span class=\"b drift\">drift</span>");
	find(html, "Jensen-Shannon distance 0.2");
	find(html, "drift if d \xE2\x89\xA5 0.1");
	find(html, "<tr><td>accuracy</td><td class=\"n\">0.9</td><td class=\"n\">0.85</td>"
		   "<td class=\"n\">-0.05</td></tr>");
	find(html, "<tr><td>f1</td><td class=\"n\">0.8</td><td class=\"n\">0.8</td>"
		   "<td class=\"n\">0</td></tr>");
	find(html, "<tr><td>note</td><td class=\"n\">n/a</td><td class=\"n\">n/a</td>"
		   "<td class=\"n\">n/a</td></tr>");
	find(html, "<tr><td>roc_auc</td><td class=\"n\">n/a</td><td class=\"n\">0.7</td>"
		   "<td class=\"n\">n/a</td></tr>");
	/* the dataset verdict counts features only: the prediction is not one of them */
	find(html, "0 of 1 tested columns drifted");
	free(html);
	json_decref(q_ref);
	json_decref(q_cur);
	col_release(&pred);
	report_release(r);
}

/*
 * 60 columns of 20 bins (30 numeric, 30 of 20 categories): every column is there and the page
 * stays light (Evidently's page for the same is megabytes of script and figure JSON).
 */
static void test_size_bound(void **state)
{
	enum {
		NCOL = 60,
		NB = 20
	};
	struct drift_report *r = report_new(NCOL);
	double edges[NB + 1], ref[NB], cur[NB];
	char *labels[NB];
	char *html;
	size_t i, len;

	(void)state;
	for (i = 0; i <= NB; i++)
		edges[i] = 1000.0 + 12.345678 * (double)i;
	for (i = 0; i < NB; i++) {
		struct strbuf sb = STRBUF_INIT;

		ref[i] = (double)(i + 1) / 210.0;
		cur[i] = (double)(NB - i) / 210.0;
		strbuf_addf(&sb, "category value %zu", i);
		labels[i] = strbuf_detach(&sb, NULL);
	}
	for (i = 0; i < NCOL; i++) {
		struct strbuf name = STRBUF_INIT;

		strbuf_addf(&name, "feature_number_%03zu", i);
		if (i % 2)
			categorical_col(&r->columns[i], name.buf, NB, (const char *const *)labels,
					ref, cur);
		else
			numeric_col(&r->columns[i], name.buf, NB, edges, ref, cur, 1100.5, 1120.25);
		if (i % 3 == 0)
			r->columns[i].verdict = DRIFT_VERDICT_DRIFT;
		strbuf_release(&name);
	}
	report_finish(r);
	html = render(r, NULL);
	len = strlen(html);
	check_page(html);
	for (i = 0; i < NCOL; i++) {
		char want[64];

		snprintf(want, sizeof(want), "<a href=\"#c%zu\">feature_number_%03zu</a>", i, i);
		find(html, want);
	}
	assert_int_equal(count(html, "<svg"), NCOL);
	print_message("report of %d columns x %d bins: %zu bytes\n", NCOL, NB, len);
	/* a few KB per column */
	assert_true(len < 320 * 1024);
	for (i = 0; i < NB; i++)
		free(labels[i]);
	free(html);
	report_release(r);
}

/*
 * Scores from counts rather than raw values: marked approximate with their error bound, and the
 * dataset verdict says so; exact columns and untested ones carry no mark.
 */
static void test_approximate(void **state)
{
	struct drift_report *r = report_new(3);
	char *html;

	(void)state;
	numeric_col(&r->columns[0], "folded", 3, E3, R3, C3, 1, 1);
	set_tested(&r->columns[0], DRIFT_TEST_WASSERSTEIN, 0.125, 0.1, DRIFT_VERDICT_DRIFT);
	r->columns[0].exact = false;
	r->columns[0].score_error = 0.002;
	numeric_col(&r->columns[1], "binned", 3, E3, R3, C3, 1, 1);
	set_tested(&r->columns[1], DRIFT_TEST_PSI, 0.05, 0.1, DRIFT_VERDICT_NONE);
	r->columns[1].exact = false;
	r->columns[1].score_error = NAN;
	skipped_col(&r->columns[2], "gone", "only in the reference");
	report_finish(r);
	html = render(r, NULL);
	check_page(html);
	find(html, "Scores marked \xE2\x89\x88 are approximate");
	find(html, "<td class=\"n\">\xE2\x89\x88"
		   "0.125</td>");
	find(html, "Wasserstein distance (normed) \xE2\x89\x88"
		   "0.125 \xC2\xB1 0.002 (approximate)");
	find(html, "PSI \xE2\x89\x88"
		   "0.05 (approximate)");
	assert_int_equal(count(html, "(approximate)"), 2);
	assert_int_equal(count(html, "\xE2\x89\x88"), 5);
	free(html);
	/* all exact: no mark, no sentence */
	r->columns[0].exact = r->columns[1].exact = true;
	report_finish(r);
	html = render(r, NULL);
	assert_null(strstr(html, "approximate"));
	assert_null(strstr(html, "\xE2\x89\x88"));
	free(html);
	report_release(r);
}

/* Bins without shares, or without edges and labels: refused, and out is left as it was. */
static void test_inconsistent_chart_data(void **state)
{
	struct drift_report *r = report_new(1);
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	numeric_col(&r->columns[0], "broken", 3, E3, R3, C3, 1, 1);
	free(r->columns[0].cur_share);
	r->columns[0].cur_share = NULL;
	report_finish(r);
	strbuf_addstr(&sb, "before");
	assert_int_equal(monitor_report_html(&sb, r, NULL, &err), ERR_INVALID);
	assert_string_equal(sb.buf, "before");
	assert_non_null(strstr(err.msg, "column 'broken'"));
	free(r->columns[0].bin_edges);
	r->columns[0].bin_edges = NULL;
	r->columns[0].cur_share = doubles(3, C3);
	error_clear(&err);
	assert_int_equal(monitor_report_html(&sb, r, NULL, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "without edges or category labels"));
	assert_string_equal(sb.buf, "before");
	strbuf_release(&sb);
	report_release(r);
}

/* The file holds exactly the rendered page; a missing directory is ERR_IO and creates nothing. */
static void test_write_atomic(void **state)
{
	struct drift_report *r = report_new(1);
	struct error err = ERROR_INIT;
	struct strbuf got = STRBUF_INIT;
	char *dir = test_tmpdir(), *path = test_path(dir, "report.html");
	char *bad = test_path(dir, "missing/report.html");
	char *html;

	(void)state;
	numeric_col(&r->columns[0], "x", 3, E3, R3, C3, 1, 1);
	report_finish(r);
	html = render(r, NULL);
	if (monitor_report_html_write(path, r, NULL, &err))
		fail_msg("write: %s", err.msg);
	assert_int_equal(fs_read_file(&got, path, 1 << 20, &err), 0);
	assert_string_equal(got.buf, html);
	assert_int_equal(monitor_report_html_write(bad, r, NULL, &err), ERR_IO);
	assert_false(fs_exists(bad));
	strbuf_release(&got);
	free(html);
	free(path);
	free(bad);
	test_tmpdir_remove(dir);
	report_release(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_page),
		cmocka_unit_test(test_histogram_geometry),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_long_label_cut),
		cmocka_unit_test(test_nonfinite),
		cmocka_unit_test(test_zero_columns),
		cmocka_unit_test(test_all_skipped),
		cmocka_unit_test(test_single_bin_and_constant),
		cmocka_unit_test(test_many_categories),
		cmocka_unit_test(test_prediction_and_quality),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_approximate),
		cmocka_unit_test(test_inconsistent_chart_data),
		cmocka_unit_test(test_write_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
