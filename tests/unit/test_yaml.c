/*
 * Unit tests for util/yaml: positions of parse errors and of nodes (each worked out by hand
 * from the input, columns counting characters), that libfyaml prints nothing, ownership of the
 * loaded document, and emitting.
 */
#include "util/common.h"
#include "helpers.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/yaml.h"

#include <fcntl.h>

struct malformed {
	const char *input;
	size_t len; /* 0: strlen(input) */
	const char *msg;
};

static const struct malformed cases[] = {
	/* bad indentation: the "-" of the second item is at column 2, the first at column 3 */
	{ "x:\n  - 1\n - 2\n", 0, "c.yaml:3:2: wrong indendation in sequence while in mapping" },
	{ "a: |\n  x\n b\n", 0, "c.yaml:3:2: invalid value after mapping" },
	{ "- a\nb: 1\n", 0, "c.yaml:2:1: invalid scalar at the end of block sequence" },
	/* a value that is itself a mapping on the same line: the second ':' is column 5 */
	{ "a: b: c\n", 0, "c.yaml:1:5: invalid nested block mapping on the same line" },
	/* unclosed quotes: at the opening quote, column 4, 6, and 4 after a 2-byte character */
	{ "a: \"foo\nb: 1\n", 0, "c.yaml:1:4: wrongly indented double-quoted scalar" },
	{ "key: 'unterminated\n", 0, "c.yaml:1:6: single-quoted scalar without closing quote" },
	{ "\xc3\xa9: \"x\n", 0, "c.yaml:1:4: double-quoted scalar without closing quote" },
	{ "a: 1\nb: '\n  multi\n  line\n", 0,
	  "c.yaml:2:4: single-quoted scalar without closing quote" },
	/* a tab as indentation, first character of line 2 */
	{ "a:\n\tb: 1\n", 0, "c.yaml:2:1: tab character may not be used as indentation" },
	/* duplicate keys: the second occurrence, in block, nested, explicit and flow mappings */
	{ "a: 1\na: 2\n", 0, "c.yaml:2:1: duplicate key" },
	{ "a:\n  b: 1\n  b: 2\n", 0, "c.yaml:3:3: duplicate key" },
	{ "? a\n? a\n", 0, "c.yaml:2:3: duplicate key" },
	{ "{a: 1, a: 2}\n", 0, "c.yaml:1:8: duplicate key" },
	/* an unclosed flow sequence is found at the end of the input: line 3, column 1 */
	{ "a: 1\nb: [1, 2\n", 0, "c.yaml:3:1: flow sequence without a closing bracket" },
	{ "a: {b: 1\n", 0, "c.yaml:2:1: missing comma in flow mapping" },
	/* one ']' too many: column 10, and still column 10 after a two-byte character */
	{ "a: [1, 2]]\n", 0, "c.yaml:1:10: flow sequence with invalid extra closing bracket" },
	{ "\xc3\xa9: [1, 2]]\n", 0,
	  "c.yaml:1:10: flow sequence with invalid extra closing bracket" },
	/* an error libfyaml reports only as text: "%TAG ! " ends at column 7, the URI is missing */
	{ "%TAG ! \n---\na\n", 0, "c.yaml:1:8: invalid YAML syntax" },
	{ "%YAML 1.2\n%YAML 1.2\n---\na\n", 0, "c.yaml:2:7: duplicate version directive" },
	/* more than one document: at the second "---", or at the content after "..." */
	{ "a: 1\n---\nb: 2\n", 0, "c.yaml:2:1: a second YAML document; only one is allowed" },
	{ "a: 1\n--- \n", 0, "c.yaml:2:1: a second YAML document; only one is allowed" },
	{ "a\n...\nb\n", 0, "c.yaml:3:1: a second YAML document; only one is allowed" },
	/* a syntax error in the would-be second document wins over "second document" */
	{ "a\n...\n]\n", 0, "c.yaml:3:1: flow sequence with invalid extra closing bracket" },
	/* libfyaml 0.7.12 would free twice (explicit key, ':', tab, indicator): refused at the tab */
	{ "? m:\t?", 0,
	  "c.yaml:1:5: a tab before a block indicator after an explicit key; use spaces" },
	{ "? a\n: b\nc:\t|\n  x\n", 0,
	  "c.yaml:3:3: a tab before a block indicator after an explicit key; use spaces" },
	/* NUL: line 2, after "b: x" */
	{ "a: 1\nb: x\0y\n", 12, "c.yaml:2:5: NUL byte in YAML input" },
	/* invalid UTF-8 (libfyaml 0.7.12 would hang on the directive): after "é: " is column 4 */
	{ "%\xb9\na\n", 0, "c.yaml:1:2: invalid UTF-8 in YAML input" },
	{ "\xc3\xa9: \xff\n", 0, "c.yaml:1:4: invalid UTF-8 in YAML input" },
	{ "a: \xc0\xaf\n", 0, "c.yaml:1:4: invalid UTF-8 in YAML input" },     /* overlong '/' */
	{ "a: \xed\xa0\x80\n", 0, "c.yaml:1:4: invalid UTF-8 in YAML input" }, /* surrogate */
	{ "a: \xf4\x90\x80\x80\n", 0, "c.yaml:1:4: invalid UTF-8 in YAML input" }, /* > U+10FFFF */
	{ "a: \xe2\x82", 0, "c.yaml:1:4: invalid UTF-8 in YAML input" },	   /* truncated */
};

/* Points fd 2 at a temporary file; returns the saved fd for stderr_restore. */
static int stderr_capture(const char *path)
{
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	return saved;
}

static void stderr_restore(int saved)
{
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_malformed(void **state)
{
	char *dir = test_tmpdir();
	char *log = test_path(dir, "stderr");
	char got[ARRAY_SIZE(cases)][ERROR_MSG_SIZE];
	int rcs[ARRAY_SIZE(cases)], saved;

	(void)state;
	/* stderr goes to a file while parsing, so results are checked after restoring it */
	saved = stderr_capture(log);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fy_document *doc = NULL;
		struct error err = ERROR_INIT;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].input);

		rcs[i] = yaml_load_buffer(&doc, "c.yaml", cases[i].input, len, &err);
		memcpy(got[i], err.msg, sizeof(got[i]));
		if (doc)
			rcs[i] = 1;
		fy_document_destroy(doc);
	}
	stderr_restore(saved);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(rcs[i], ERR_INVALID);
		assert_string_equal(got[i], cases[i].msg);
	}
	/* libfyaml must not have printed anything */
	assert_int_equal(file_size(log), 0);
	free(log);
	test_tmpdir_remove(dir);
}

static void test_too_deep(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct fy_document *doc = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	strbuf_addchars(&sb, '[', 100);
	strbuf_addchars(&sb, ']', 100);
	assert_int_equal(yaml_load_buffer(&doc, "deep.yaml", sb.buf, sb.len, &err), ERR_INVALID);
	assert_true(skip_prefix(err.msg, "deep.yaml:1:", NULL));
	assert_null(doc);
	strbuf_release(&sb);
}

static void test_empty_and_single(void **state)
{
	static const char *const empties[] = { "", "# only a comment\n", "\n\n  \n" };
	static const char *const singles[] = {
		"a: 1\n...\n", "--- a\n", "a\n...\n# trailing\n", "a:\t|\n  tab then literal\n",
		/* a BOM, then 4-, 3- and 2-byte characters */
		"\357\273\277bom: \xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9\n"
	};
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(empties); i++) {
		struct fy_document *doc = NULL;

		assert_int_equal(yaml_load_buffer(&doc, "e", empties[i], strlen(empties[i]), &err),
				 0);
		assert_non_null(doc);
		assert_null(fy_document_root(doc));
		fy_document_destroy(doc);
	}
	for (size_t i = 0; i < ARRAY_SIZE(singles); i++) {
		struct fy_document *doc = NULL;

		assert_int_equal(yaml_load_buffer(&doc, "s", singles[i], strlen(singles[i]), &err),
				 0);
		assert_non_null(fy_document_root(doc));
		fy_document_destroy(doc);
	}
}

/* The document must not point into the caller's buffer: free it before reading scalars. */
static void test_document_owns_text(void **state)
{
	const char text[] = "name: ferry\nlist: [a, 'b c']\n";
	char *buf = xstrdup(text);
	struct fy_document *doc = NULL;
	struct error err = ERROR_INIT;
	const char *s;
	size_t len;

	(void)state;
	assert_int_equal(yaml_load_buffer(&doc, "o", buf, strlen(buf), &err), 0);
	memset(buf, 'X', strlen(buf));
	free(buf);
	s = fy_node_get_scalar(fy_node_by_path(fy_document_root(doc), "/name", FY_NT, 0), &len);
	assert_int_equal(len, 5);
	assert_memory_equal(s, "ferry", 5);
	s = fy_node_get_scalar(fy_node_by_path(fy_document_root(doc), "/list/1", FY_NT, 0), &len);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "b c", 3);
	fy_document_destroy(doc);
}

struct mark_case {
	const char *path;
	int line, col;
	const char *kind;
};

static void test_node_marks(void **state)
{
	static const char text[] = "# comment\n"	  /* 1 */
				   "core:\n"		  /* 2 */
				   "  store: sqlite\n"	  /* 3 */
				   "  cache:   \"q d\"\n" /* 4 */
				   "list:\n"		  /* 5 */
				   "  - 1\n"		  /* 6 */
				   "  - {x: y}\n"	  /* 7 */
				   "flow: [a, b]\n"	  /* 8 */
				   "nul: ~\n"		  /* 9 */
				   "nul2: null\n"	  /* 10 */
				   "quoted: 'null'\n"	  /* 11 */
				   "empty:\n";		  /* 12 */
	static const struct mark_case marks[] = {
		{ "/", 2, 1, "a mapping" },	      /* its first key */
		{ "/core", 3, 3, "a mapping" },	      /* "store" */
		{ "/core/store", 3, 10, "a string" }, /* "sqlite" */
		{ "/core/cache", 4, 12, "a string" }, /* the opening quote */
		{ "/list", 6, 3, "a sequence" },      /* the first "-" */
		{ "/list/0", 6, 5, "a string" },
		{ "/list/1", 7, 5, "a mapping" },  /* "{" */
		{ "/list/1/x", 7, 9, "a string" }, /* "y" */
		{ "/flow", 8, 7, "a sequence" },   /* "[" */
		{ "/flow/1", 8, 11, "a string" },  /* "b" */
		{ "/nul", 9, 6, "null" },	   /* "~" */
		{ "/nul2", 10, 7, "null" },
		{ "/quoted", 11, 9, "a string" }, /* a quoted 'null' is a string */
	};
	struct fy_document *doc = NULL;
	struct error err = ERROR_INIT;
	struct fy_node *root, *n;
	int line, col;

	(void)state;
	assert_int_equal(yaml_load_buffer(&doc, "m", text, strlen(text), &err), 0);
	root = fy_document_root(doc);
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
		n = fy_node_by_path(root, marks[i].path, FY_NT, FYNWF_DONT_FOLLOW);
		assert_non_null(n);
		yaml_node_mark(n, &line, &col);
		if (line != marks[i].line || col != marks[i].col)
			fail_msg("%s: got %d:%d, expected %d:%d", marks[i].path, line, col,
				 marks[i].line, marks[i].col);
		assert_string_equal(yaml_node_kind_name(n), marks[i].kind);
	}
	/* "empty:" has a value node without a token: no position, and null */
	n = fy_node_by_path(root, "/empty", FY_NT, FYNWF_DONT_FOLLOW);
	yaml_node_mark(n, &line, &col);
	assert_int_equal(line, 0);
	assert_int_equal(col, 0);
	assert_string_equal(yaml_node_kind_name(n), "null");
	yaml_node_mark(NULL, &line, &col);
	assert_int_equal(line, 0);
	assert_string_equal(yaml_node_kind_name(NULL), "null");
	fy_document_destroy(doc);
}

static void test_alias_kind(void **state)
{
	const char text[] = "a: &x 1\nb: *x\n";
	struct fy_document *doc = NULL;
	struct error err = ERROR_INIT;
	struct fy_node *b;
	int line, col;

	(void)state;
	assert_int_equal(yaml_load_buffer(&doc, "a", text, strlen(text), &err), 0);
	b = fy_node_by_path(fy_document_root(doc), "/b", FY_NT, FYNWF_DONT_FOLLOW);
	assert_string_equal(yaml_node_kind_name(b), "an alias");
	yaml_node_mark(b, &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 4); /* the "*" */
	fy_document_destroy(doc);
}

static void test_load_file(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_path(dir, "config.yaml");
	struct fy_document *doc = NULL;
	struct error err = ERROR_INIT;
	char expect[512];

	(void)state;
	assert_int_equal(yaml_load_file(&doc, path, 100, &err), ERR_NOTFOUND);
	test_write_file(path, "core:\n  store: [x\n");
	assert_int_equal(yaml_load_file(&doc, path, 5, &err), ERR_TOOBIG);
	assert_int_equal(yaml_load_file(&doc, path, 100, &err), ERR_INVALID);
	snprintf(expect, sizeof(expect), "%s:3:1: flow sequence without a closing bracket", path);
	assert_string_equal(err.msg, expect);
	assert_null(doc);
	test_write_file(path, "core:\n  store: x\n");
	assert_int_equal(yaml_load_file(&doc, path, 100, &err), 0);
	assert_non_null(doc);
	fy_document_destroy(doc);
	free(path);
	test_tmpdir_remove(dir);
}

static void test_emit(void **state)
{
	/* block style, sequences in mappings not indented, quoting styles kept */
	static const char expect[] = "b: 1\n"
				     "a:\n"
				     "- x\n"
				     "- y\n"
				     "c:\n"
				     "  d: \"q\"\n"
				     "  e:\n"
				     "  - 1\n"
				     "  - f: g\n";
	const char text[] = "# dropped\nb: 1\na: [x, y]\nc:\n  d: \"q\"\n  e: [1, {f: g}]\n";
	char *dir = test_tmpdir();
	char *path = test_path(dir, "out.yaml");
	struct fy_document *doc = NULL, *back = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(yaml_load_buffer(&doc, "in", text, strlen(text), &err), 0);
	assert_int_equal(yaml_emit_file_atomic(doc, path, &err), 0);
	assert_int_equal(yaml_load_file(&back, path, 4096, &err), 0);
	assert_true(fy_node_compare(fy_document_root(doc), fy_document_root(back)));
	fy_document_destroy(back);
	back = NULL;
	assert_int_equal(fs_read_file(&sb, path, 4096, &err), 0);
	assert_string_equal(sb.buf, expect);
	free(path);
	path = test_path(dir, "missing-dir/out.yaml");
	assert_int_equal(yaml_emit_file_atomic(doc, path, &err), ERR_IO);
	strbuf_release(&sb);
	fy_document_destroy(doc);
	free(path);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed),	 cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_empty_and_single), cmocka_unit_test(test_document_owns_text),
		cmocka_unit_test(test_node_marks),	 cmocka_unit_test(test_alias_kind),
		cmocka_unit_test(test_load_file),	 cmocka_unit_test(test_emit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
