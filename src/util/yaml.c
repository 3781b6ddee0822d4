/*
 * libfyaml wrappers. libfyaml reports most errors as structured records when its diag object
 * collects them, and a few (scanner internals) only as text; both are captured, none printed.
 */
#include "util/common.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/yaml.h"

#include <ctype.h>

/* The first error libfyaml produced, with a 1-based position. */
struct yaml_capture {
	int have;
	int line, col;
	char msg[160];
};

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/*
 * Text diagnostics come as "<LINE:COL>: MESSAGE\n" with 0-based LINE and COL (show_position is
 * the only prefix enabled, padded to width 0). libfyaml demotes errors after the first one, so
 * the first text error seen is the first error made.
 */
static void diag_capture(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	struct yaml_capture *cap = user;
	char text[sizeof(cap->msg) + 32];
	int line, col, skip = -1;
	size_t n;

	(void)diag;
	if (cap->have)
		return;
	n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
	memcpy(text, buf, n);
	text[n] = '\0';
	if (sscanf(text, "<%d:%d>: %n", &line, &col, &skip) != 2 || skip < 0)
		return;
	text[strcspn(text, "\n")] = '\0';
	cap->have = 1;
	cap->line = line + 1;
	cap->col = col + 1;
	snprintf(cap->msg, sizeof(cap->msg), "%s", text + skip);
}

/* A diag that collects errors, sends text to fn(user) and never writes to a FILE. */
static struct fy_diag *silent_diag(fy_diag_output_fn fn, void *user)
{
	struct fy_diag_cfg cfg;
	struct fy_diag *diag;

	fy_diag_cfg_default(&cfg);
	cfg.fp = NULL;
	cfg.output_fn = fn;
	cfg.user = user;
	cfg.level = FYET_ERROR;
	cfg.colorize = false;
	cfg.show_source = false;
	cfg.show_position = true;
	cfg.show_type = false;
	cfg.show_module = false;
	cfg.position_width = 0;
	diag = fy_diag_create(&cfg);
	if (!diag)
		BUG("cannot create a libfyaml diag object");
	fy_diag_set_collect_errors(diag, true);
	return diag;
}

/*
 * Documents keep a reference to the diag they were parsed with. Destroying it silences it for
 * good (libfyaml writes nothing on a destroyed diag) so the stack capture can go away.
 */
static void silence_diag(struct fy_diag *diag)
{
	struct fy_diag_cfg cfg = *fy_diag_get_cfg(diag);

	cfg.output_fn = diag_discard;
	cfg.user = NULL;
	fy_diag_set_cfg(diag, &cfg);
	fy_diag_set_collect_errors(diag, false);
	fy_diag_destroy(diag);
}

/* Text errors name scanner functions ("fy_scan_tag_uri_length() failed"): say it plainly. */
static const char *user_message(const char *msg)
{
	return strstr(msg, "()") ? "invalid YAML syntax" : msg;
}

/*
 * An unclosed quote is reported at the first character inside it; the opening quote, just
 * before on the same line, is what to point at.
 */
static int error_column(const char *msg, int col)
{
	return col > 1 && ends_with(msg, "quoted scalar without closing quote") ? col - 1 : col;
}

static int parse_error(struct error *err, const char *name, struct fy_diag *diag,
		       const struct yaml_capture *cap)
{
	struct fy_diag_error *e;
	void *it = NULL;

	if (cap->have)
		return error_set(err, ERR_INVALID, "%s:%d:%d: %s", name, cap->line, cap->col,
				 user_message(cap->msg));
	while ((e = fy_diag_errors_iterate(diag, &it)))
		if (e->type >= FYET_ERROR)
			return error_set(err, ERR_INVALID, "%s:%d:%d: %s", name, e->line,
					 error_column(e->msg, e->column), user_message(e->msg));
	return error_set(err, ERR_INVALID, "%s: invalid YAML", name);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* 1-based line and column (in characters) of at, within the valid UTF-8 text from buf. */
static void text_position(const char *buf, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = buf; p < at; p++) {
		if (*p == '\n') {
			++*line;
			*col = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80) {
			++*col;
		}
	}
}

static int is_blankz(const char *p, const char *end)
{
	return p == end || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
}

/*
 * libfyaml 0.7.12 frees a simple key twice (fy_fetch_value's error path) when, after an
 * explicit "? key", a ':' is followed by a tab and then a block indicator: "? a:\t-". Fixed
 * upstream after 0.7.12; until then refuse any input that has both shapes, pointing at the tab.
 */
static const char *tab_before_indicator(const char *buf, size_t len)
{
	const char *p, *q, *tab, *end = buf + len;
	int explicit_key = 0;

	for (p = buf; p < end && !explicit_key; p++)
		explicit_key = *p == '?' && is_blankz(p + 1, end);
	for (p = buf; explicit_key && p < end; p++) {
		if (*p != ':')
			continue;
		for (q = p + 1, tab = NULL; q < end && (*q == ' ' || *q == '\t'); q++)
			if (*q == '\t' && !tab)
				tab = q;
		if (tab && q < end && (strchr("?:|>", *q) || (*q == '-' && is_blankz(q + 1, end))))
			return tab;
	}
	return NULL;
}

/*
 * YAML text is Unicode without NUL. Checking up front keeps C strings from scalars whole and
 * avoids libfyaml 0.7.12 looping forever on invalid UTF-8 in a directive ("%\xb9").
 */
static int check_text(const char *name, const char *buf, size_t len, struct error *err)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	const char *what = NULL, *at;
	int line, col;
	size_t n = 0;

	for (; p < end && !what; p += n) {
		n = utf8_len(p, (size_t)(end - p));
		if (!n)
			what = "invalid UTF-8 in YAML input";
		else if (!*p)
			what = "NUL byte in YAML input";
	}
	at = what ? (const char *)p - n : tab_before_indicator(buf, len);
	if (!what && at)
		what = "a tab before a block indicator after an explicit key; use spaces";
	if (!what)
		return 0;
	text_position(buf, at, &line, &col);
	return error_set(err, ERR_INVALID, "%s:%d:%d: %s", name, line, col, what);
}

/*
 * After the first document only the end of the stream may follow. An implicit second document
 * ("...", then more content) has no mark of its own: its first node's is used.
 */
static int check_single(struct fy_parser *fyp, const char *name, struct error *err)
{
	struct fy_event *fye = fy_parser_parse(fyp), *next = NULL;
	const struct fy_mark *m;
	int rc = 0;

	/* NULL: the end, or an error the caller finds in the diag */
	if (!fye || fye->type == FYET_STREAM_END)
		goto out;
	m = fy_event_start_mark(fye);
	if (!m) {
		next = fy_parser_parse(fyp);
		m = next ? fy_event_start_mark(next) : NULL;
	}
	rc = error_set(err, ERR_INVALID, "%s:%d:%d: a second YAML document; only one is allowed",
		       name, m ? m->line + 1 : 0, m ? m->column + 1 : 0);
out:
	fy_parser_event_free(fyp, next);
	fy_parser_event_free(fyp, fye);
	return rc;
}

/*
 * 0 if every scalar under node is valid UTF-8. libfyaml 0.7.12 can drop a byte of a multi-byte
 * character from a double-quoted scalar holding an escaped line break followed by many CRs (found
 * by fuzzing pointer files): the input was valid, the value it hands back is not.
 */
static int check_scalars(struct fy_node *node, const char *name, struct error *err)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0;

	if (!node)
		return 0;
	if (fy_node_is_scalar(node)) {
		size_t len, n;
		const unsigned char *s = (const unsigned char *)fy_node_get_scalar(node, &len);

		for (size_t i = 0; s && i < len; i += n) {
			n = utf8_len(s + i, len - i);
			if (!n)
				return yaml_error_at(
				    err, name, node,
				    "this value does not read back as valid UTF-8 "
				    "(libfyaml misreads it); write it more simply");
		}
		return 0;
	}
	if (fy_node_is_sequence(node)) {
		struct fy_node *item;

		while (!rc && (item = fy_node_sequence_iterate(node, &iter)))
			rc = check_scalars(item, name, err);
		return rc;
	}
	while (!rc && fy_node_is_mapping(node) && (pair = fy_node_mapping_iterate(node, &iter))) {
		rc = check_scalars(fy_node_pair_key(pair), name, err);
		if (!rc)
			rc = check_scalars(fy_node_pair_value(pair), name, err);
	}
	return rc;
}

int yaml_load_buffer(struct fy_document **out, const char *name, const char *buf, size_t len,
		     struct error *err)
{
	struct yaml_capture cap = { 0 };
	struct fy_parse_cfg cfg = { 0 };
	struct fy_document *doc = NULL;
	struct fy_parser *fyp = NULL;
	struct fy_diag *diag;
	char *copy;
	int rc;

	rc = check_text(name, buf, len, err);
	if (rc)
		return rc;
	diag = silent_diag(diag_capture, &cap);
	cfg.flags = FYPCF_QUIET | FYPCF_DISABLE_RECYCLING;
	cfg.diag = diag;
	fyp = fy_parser_create(&cfg);
	if (!fyp) {
		rc = error_set(err, ERR_INTERNAL, "%s: cannot create a YAML parser", name);
		goto out;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	/* the parser's input owns copy from here on, and the document's nodes point into it */
	if (fy_parser_set_malloc_string(fyp, copy, len)) {
		rc = error_set(err, ERR_INTERNAL, "%s: cannot set up the YAML parser", name);
		goto out;
	}
	doc = fy_parse_load_document(fyp);
	if (doc)
		rc = check_single(fyp, name, err);
	/* a syntax error found while looking for a second document is the better message */
	if (fy_diag_got_error(diag))
		rc = parse_error(err, name, diag, &cap);
	if (!rc && !doc)
		doc = fy_document_create(&cfg);
	if (!rc && !doc)
		rc = error_set(err, ERR_INTERNAL, "%s: cannot create a YAML document", name);
	if (!rc)
		rc = check_scalars(fy_document_root(doc), name, err);
out:
	if (rc) {
		fy_document_destroy(doc);
		doc = NULL;
	}
	fy_parser_destroy(fyp);
	silence_diag(diag);
	if (!rc)
		*out = doc;
	return rc;
}

int yaml_load_file(struct fy_document **out, const char *path, size_t max_size, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	rc = fs_read_file(&sb, path, max_size, err);
	if (!rc)
		rc = yaml_load_buffer(out, path, sb.buf, sb.len, err);
	strbuf_release(&sb);
	return rc;
}

/* The position of node's own token, read back from a report collected on a private diag. */
static void reported_mark(struct fy_node *node, int *line, int *col)
{
	struct fy_diag_error *e;
	struct fy_diag *diag;
	void *it = NULL;

	diag = silent_diag(diag_discard, NULL);
	fy_diag_node_report(diag, node, FYET_ERROR, "mark");
	e = fy_diag_errors_iterate(diag, &it);
	if (e && e->line > 0 && e->column > 0) {
		*line = e->line;
		*col = e->column;
	}
	silence_diag(diag);
}

/*
 * libfyaml 0.7 has no public accessor for a node's start mark, but a node report carries it.
 * A block collection whose last value is empty ("key:" at the end) has no end token and so no
 * report position: its first key or item starts where it does.
 */
void yaml_node_mark(struct fy_node *node, int *line, int *col)
{
	struct fy_node *first = NULL;

	*line = 0;
	*col = 0;
	if (!node)
		return;
	reported_mark(node, line, col);
	/* quoted scalars and aliases start after the quote or '*', which is where users look */
	if (*line && *col > 1 && fy_node_is_scalar(node) &&
	    (fy_node_get_style(node) == FYNS_SINGLE_QUOTED ||
	     fy_node_get_style(node) == FYNS_DOUBLE_QUOTED || fy_node_is_alias(node)))
		(*col)--;
	if (*line)
		return;
	if (fy_node_is_mapping(node) && fy_node_mapping_item_count(node) > 0)
		first = fy_node_pair_key(fy_node_mapping_get_by_index(node, 0));
	else if (fy_node_is_sequence(node) && fy_node_sequence_item_count(node) > 0)
		first = fy_node_sequence_get_by_index(node, 0);
	if (first)
		yaml_node_mark(first, line, col);
}

static int is_plain_null(struct fy_node *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	const char *text;
	size_t len;

	if (fy_node_is_null(node))
		return 1;
	if (fy_node_get_style(node) != FYNS_PLAIN)
		return 0;
	text = fy_node_get_scalar(node, &len);
	if (!text)
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (len == strlen(nulls[i]) && !memcmp(text, nulls[i], len))
			return 1;
	return 0;
}

char *yaml_scalar_dup(struct fy_node *node)
{
	size_t n;
	const char *s;

	if (!node || !fy_node_is_scalar(node) || fy_node_is_alias(node))
		return NULL;
	s = fy_node_get_scalar(node, &n);
	return s ? xstrndup(s, n) : NULL;
}

const char *yaml_node_kind_name(struct fy_node *node)
{
	if (!node)
		return "null";
	if (fy_node_is_mapping(node))
		return "a mapping";
	if (fy_node_is_sequence(node))
		return "a sequence";
	if (fy_node_is_alias(node))
		return "an alias";
	return is_plain_null(node) ? "null" : "a string";
}

static int emit_to_strbuf(struct fy_emitter *emit, enum fy_emitter_write_type type, const char *str,
			  int len, void *user)
{
	(void)emit;
	(void)type;
	if (len > 0)
		strbuf_add(user, str, (size_t)len);
	return len;
}

int yaml_emit_file_atomic(struct fy_document *doc, const char *path, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct fy_emitter_cfg cfg = { 0 };
	struct fy_emitter *emit = NULL;
	struct fy_diag *diag;
	int rc = 0;

	diag = silent_diag(diag_discard, NULL);
	cfg.flags = FYECF_MODE_BLOCK | FYECF_INDENT_2 | FYECF_WIDTH_80;
	cfg.output = emit_to_strbuf;
	cfg.userdata = &sb;
	cfg.diag = diag;
	emit = fy_emitter_create(&cfg);
	if (!emit || fy_emit_document(emit, doc)) {
		rc = error_set(err, ERR_INTERNAL, "cannot emit YAML for '%s'", path);
		goto out;
	}
	rc = fs_write_atomic(path, sb.buf, sb.len, 0644, err);
out:
	fy_emitter_destroy(emit);
	silence_diag(diag);
	strbuf_release(&sb);
	return rc;
}

int yaml_error_at(struct error *err, const char *name, struct fy_node *node, const char *fmt, ...)
{
	char msg[ERROR_MSG_SIZE];
	int line, col;
	va_list ap;

	yaml_node_mark(node, &line, &col);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(err, ERR_INVALID, "%s:%d:%d: %s", name, line, col, msg);
}

static int plain_safe(const char *s)
{
	size_t n = strlen(s);

	if (!n || s[n - 1] == ':' || s[0] == '-' || s[0] == ':' || s[0] == '%' || s[0] == '@')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._/~+@=%-:,", *s))
			return 0;
	return 1;
}

void yaml_add_scalar(struct strbuf *out, const char *s)
{
	if (plain_safe(s))
		strbuf_addstr(out, s);
	else
		yaml_add_quoted(out, s);
}

void yaml_add_quoted(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			strbuf_addf(out, "\\%c", c);
		else if (c == '\n')
			strbuf_addstr(out, "\\n");
		else if (c == '\t')
			strbuf_addstr(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(out, "\\x%02x", c);
		else
			strbuf_addch(out, (char)c);
	}
	strbuf_addch(out, '"');
}
