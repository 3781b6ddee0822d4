/*
 * Unit tests for pipeline/lock and pipeline/state: ferry.lock's exact bytes for a hand-written
 * state (sorted, quoted), reading it back, strict errors; params lookup; the staleness reasons
 * and the stat-cache-free hashing of files and directories (digests checked against sha256
 * values computed by hand with sha256sum).
 */
#include "util/common.h"
#include "helpers.h"
#include "data/cas.h"
#include "pipeline/lock.h"
#include "pipeline/runcache.h"
#include "pipeline/state.h"
#include "util/strbuf.h"
#include "util/yaml.h"

#define H_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define H_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char expected[] =
    "# Written by 'ferry repro': each stage's last successful run. Commit it with ferry.yaml.\n"
    "schema: 1\n"
    "stages:\n"
    "  \"a\":\n"
    "    cmd: \"echo \\\"hi\\\"\\nls\"\n"
    "    outs:\n"
    "      - path: \"out\"\n"
    "        sha256: \"" H_EMPTY "\"\n"
    "        size: 0\n"
    "        nfiles: 0\n"
    "  \"b\":\n"
    "    cmd: \"x\"\n"
    "    deps:\n"
    "      - path: \"a.csv\"\n"
    "        sha256: \"" H_ABC "\"\n"
    "        size: 3\n"
    "      - path: \"b.csv\"\n"
    "        sha256: \"" H_EMPTY "\"\n"
    "        size: 0\n"
    "    params:\n"
    "      \"p.yaml\":\n"
    "        \"k\": \"{\\\"x\\\":\\\"1\\\"}\"\n"
    "      \"params.yaml\":\n"
    "        \"lr\": \"0.1\"\n"
    "        \"z\": \"2\"\n";

/* The structs hold non-const strings; these tests never free or change them. */
#define S(x) ((char *)(x))

static void fill(struct lock_stage *b)
{
	static struct lock_entry deps[2];
	static struct lock_param params[3];

	memset(b, 0, sizeof(*b));
	b->name = S("b");
	b->cmd = S("x");
	deps[0] = (struct lock_entry){ S("b.csv"), H_EMPTY, 0, 0, 0 };
	deps[1] = (struct lock_entry){ S("a.csv"), H_ABC, 3, 0, 0 };
	params[0] = (struct lock_param){ S("params.yaml"), S("z"), S("2") };
	params[1] = (struct lock_param){ S("params.yaml"), S("lr"), S("0.1") };
	params[2] = (struct lock_param){ S("p.yaml"), S("k"), S("{\"x\":\"1\"}") };
	b->deps = deps;
	b->ndeps = 2;
	b->params = params;
	b->nparams = 3;
}

static void test_serialize(void **state)
{
	struct lockfile lf = LOCKFILE_INIT, back = LOCKFILE_INIT;
	struct lock_stage b, a = { 0 };
	struct lock_entry out = { S("out"), H_EMPTY, 0, 0, 1 };
	struct strbuf text = STRBUF_INIT, again = STRBUF_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	fill(&b);
	a.name = S("a");
	a.cmd = S("echo \"hi\"\nls");
	a.outs = &out;
	a.nouts = 1;
	lock_put(&lf, &b, NULL, 0);
	lock_put(&lf, &a, NULL, 0);
	lock_serialize(&lf, &text);
	assert_string_equal(text.buf, expected);
	if (lock_parse(&back, "ferry.lock", text.buf, text.len, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(back.nr, 2);
	assert_string_equal(lock_find(&back, "a")->cmd, "echo \"hi\"\nls");
	assert_int_equal(lock_find(&back, "a")->outs[0].is_dir, 1);
	assert_string_equal(lock_find(&back, "b")->params[0].value, "{\"x\":\"1\"}");
	lock_serialize(&back, &again);
	assert_string_equal(again.buf, expected);
	/* dropping stages no longer in ferry.yaml */
	{
		const char *keep[] = { "a" };

		lock_put(&back, lock_find(&back, "a"), keep, 1);
		assert_int_equal(back.nr, 1);
		assert_null(lock_find(&back, "b"));
	}
	lockfile_release(&lf);
	lockfile_release(&back);
	strbuf_release(&text);
	strbuf_release(&again);
}

static void lock_err(const char *text, const char *msg)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(lock_parse(&lf, "ferry.lock", text, strlen(text), &err), ERR_INVALID);
	if (!strstr(err.msg, msg))
		fail_msg("expected '%s' in '%s'", msg, err.msg);
	assert_null(lf.stages);
}

static void test_parse_errors(void **state)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(lock_parse(&lf, "ferry.lock", "", 0, &err), 0);
	assert_int_equal(lf.nr, 0);
	lock_err("schema: 2\n", "ferry.lock:1:9: schema 2 is not known");
	lock_err("stages: {}\n", "schema: expected a string, got null");
	lock_err("schema: 1\nstages:\n  a:\n    cmd: x\n    deps:\n      - path: f\n"
		 "        sha256: abc\n        size: 1\n",
		 "ferry.lock:7:17: sha256: expected 64 lowercase hex digits, got 'abc'");
	lock_err("schema: 1\nstages:\n  a:\n    cmd: x\n    deps:\n      - path: f\n"
		 "        sha256: " H_ABC "\n        size: -1\n",
		 "ferry.lock:8:15: size: expected a non-negative integer, got '-1'");
	lock_err("schema: 1\nstages:\n  a:\n    cmd: x\n    dep: []\n",
		 "ferry.lock:5:5: a: unexpected key 'dep'");
	lock_err("schema: 1\nstages:\n  a:\n    cmd: x\n    outs:\n      - {path: f, sha256: " H_ABC
		 ", size: 1}\n      - {path: f, sha256: " H_ABC ", size: 1}\n",
		 "outs: 'f' is listed twice");
	lock_err("schema: 1\nstages:\n  a: {cmd: x, params: {p.yaml: [k]}}\n",
		 "params: 'p.yaml': expected a mapping of keys, got a sequence");
}

static void test_param_lookup(void **state)
{
	static const char doc_text[] = "train:\n  C: 1.0\n  solver: lbfgs\n"
				       "a.b: dotted\nlist: [1, two]\n";
	struct fy_document *doc = NULL;
	struct error err = ERROR_INIT;
	char *v;

	(void)state;
	if (yaml_load_buffer(&doc, "p", doc_text, strlen(doc_text), &err))
		fail_msg("%s", err.msg);
	v = pipe_param_lookup(fy_document_root(doc), "train.C");
	assert_string_equal(v, "1.0"); /* as written: 1.0 and 1 are different texts */
	free(v);
	v = pipe_param_lookup(fy_document_root(doc), "train");
	assert_string_equal(v, "{\"C\":\"1.0\",\"solver\":\"lbfgs\"}");
	free(v);
	v = pipe_param_lookup(fy_document_root(doc), "a.b");
	assert_string_equal(v, "dotted");
	free(v);
	v = pipe_param_lookup(fy_document_root(doc), "list");
	assert_string_equal(v, "[\"1\",\"two\"]");
	free(v);
	assert_null(pipe_param_lookup(fy_document_root(doc), "train.D"));
	assert_null(pipe_param_lookup(fy_document_root(doc), "train.C.x"));
	fy_document_destroy(doc);
}

static void test_compare(void **state)
{
	struct lock_stage old, now;
	struct lock_entry deps[2], outs[1], nouts[1];
	struct lock_param params[3];
	struct strbuf why = STRBUF_INIT;

	(void)state;
	fill(&old);
	fill(&now);
	assert_int_equal(stage_compare(&now, NULL, &why), 1);
	assert_string_equal(why.buf, "never run");
	strbuf_setlen(&why, 0);
	assert_int_equal(stage_compare(&now, &old, &why), 0);
	assert_int_equal(why.len, 0);
	/* a changed dep, a changed param, a new param, a changed cmd, a missing out */
	memcpy(deps, old.deps, sizeof(deps));
	memcpy(params, old.params, sizeof(params));
	deps[1].hex[0] = '0';
	params[0].value = S("3");
	params[2].key = S("k2");
	now.deps = deps;
	now.params = params;
	now.cmd = S("y");
	outs[0] = (struct lock_entry){ S("o"), H_ABC, 3, 0, 0 };
	old.outs = outs;
	old.nouts = 1;
	assert_int_equal(stage_compare(&now, &old, &why), 1);
	assert_string_equal(why.buf, "cmd changed; dep 'a.csv' changed; param 'params.yaml:z' "
				     "changed (2 -> 3); param 'p.yaml:k2' added; param "
				     "'p.yaml:k' removed; out 'o' missing");
	strbuf_setlen(&why, 0);
	now = old;
	nouts[0] = outs[0];
	nouts[0].hex[5] = 'x';
	now.outs = nouts;
	now.nouts = 1;
	assert_int_equal(stage_compare(&now, &old, &why), 1);
	assert_string_equal(why.buf, "out 'o' modified");
	strbuf_release(&why);
}

static void test_hash(void **state)
{
	char *dir = test_tmpdir(), *p;
	struct pipe_env env = { dir, NULL, NULL, NULL, 1 };
	struct lock_entry e;
	struct error err = ERROR_INIT;

	(void)state;
	p = test_path(dir, "f.txt");
	test_write_file(p, "abc");
	free(p);
	p = test_path(dir, "d");
	assert_int_equal(mkdir(p, 0777), 0);
	free(p);
	p = test_path(dir, "d/x");
	test_write_file(p, "abc");
	free(p);
	p = test_path(dir, "d/y");
	test_write_file(p, "");
	free(p);
	assert_int_equal(pipe_hash(&e, &env, "f.txt", 0, &err), 0);
	assert_string_equal(e.hex, H_ABC);
	assert_int_equal(e.size, 3);
	assert_int_equal(e.is_dir, 0);
	free(e.path);
	/*
	 * The manifest "ferry-manifest 1\n<H_ABC> 3 644 x\n<H_EMPTY> 0 644 y\n", hashed with
	 * printf ... | sha256sum.
	 */
	assert_int_equal(pipe_hash(&e, &env, "d", 0, &err), 0);
	assert_string_equal(e.hex,
			    "e967c5d00db4bb3236d1e3a3d13aa97d36693f3b279fb1386a06b1161ed93e22");
	assert_int_equal(e.size, 3);
	assert_int_equal(e.nfiles, 2);
	assert_int_equal(e.is_dir, 1);
	free(e.path);
	assert_int_equal(pipe_hash(&e, &env, "missing", 0, &err), ERR_NOTFOUND);
	test_tmpdir_remove(dir);
}

static void write_at(const char *dir, const char *name, const char *text)
{
	char *p = test_path(dir, name);

	test_write_file(p, text);
	free(p);
}

static void expect_at(const char *dir, const char *name, const char *text)
{
	char *p = test_path(dir, name), buf[256];
	FILE *fp = fopen(p, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_string_equal(buf, text);
	free(p);
}

static void test_runcache(void **state)
{
	char *dir = test_tmpdir(), *cache = test_path(dir, ".ferry/cache"), *p;
	struct pipeline pl = PIPELINE_INIT;
	struct error err = ERROR_INIT;
	struct cas *cas = NULL;
	struct pipe_env env = { dir, NULL, NULL, NULL, 1 };
	struct lock_stage now, reordered;
	struct lock_entry outs[2], *got = NULL;
	char key[SHA256_HEX_SIZE], key2[SHA256_HEX_SIZE];
	size_t n = 0;
	static const char yaml[] = "stages:\n  s:\n    cmd: x\n    outs: [o.txt, d]\n";

	(void)state;
	if (pipeline_parse(&pl, "ferry.yaml", yaml, strlen(yaml), &err) ||
	    cas_open(&cas, cache, "reflink,copy", &err))
		fail_msg("%s", err.msg);
	env.cas = cas;
	/* the key ignores the order deps and params come in, and sees every value */
	fill(&now);
	runcache_key(key, &pl.stages[0], &now);
	fill(&reordered);
	reordered.deps = xcalloc(2, sizeof(*reordered.deps));
	reordered.deps[0] = now.deps[1];
	reordered.deps[1] = now.deps[0];
	runcache_key(key2, &pl.stages[0], &reordered);
	assert_string_equal(key, key2);
	free(reordered.deps);
	now.params[1].value = S("0.2");
	runcache_key(key2, &pl.stages[0], &now);
	assert_string_not_equal(key, key2);
	now.params[1].value = S("0.1");
	/* outputs into the cache, an entry, the outputs gone, and back */
	write_at(dir, "o.txt", "abc");
	p = test_path(dir, "d");
	assert_int_equal(mkdir(p, 0777), 0);
	free(p);
	write_at(dir, "d/x", "abc");
	assert_int_equal(pipe_hash(&outs[0], &env, "o.txt", 1, &err), 0);
	assert_int_equal(pipe_hash(&outs[1], &env, "d", 1, &err), 0);
	assert_int_equal(runcache_get(&got, &n, cas, key, &pl.stages[0], &err), 0);
	assert_int_equal(runcache_put(cas, key, outs, 2, &err), 0);
	write_at(dir, "o.txt", "changed");
	p = test_path(dir, "d/x");
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_int_equal(runcache_get(&got, &n, cas, key, &pl.stages[0], &err), 1);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(runcache_restore(cas, dir, &got[i], &err), 0);
	expect_at(dir, "o.txt", "abc");
	expect_at(dir, "d/x", "abc");
	for (size_t i = 0; i < n; i++)
		free(got[i].path);
	free(got);
	/* a missing object makes the entry a miss, not an error */
	assert_int_equal(cas_remove(cas, H_ABC, &err), 0);
	assert_int_equal(runcache_get(&got, &n, cas, key, &pl.stages[0], &err), 0);
	free(outs[0].path);
	free(outs[1].path);
	cas_free(cas);
	pipeline_release(&pl);
	free(cache);
	test_tmpdir_remove(dir);
}

static void test_check(void **state)
{
	char *dir = test_tmpdir();
	struct pipeline pl = PIPELINE_INIT;
	struct pipe_env env = { dir, NULL, NULL, NULL, 1 };
	struct stage_state st = STAGE_STATE_INIT;
	struct lock_stage locked;
	struct error err = ERROR_INIT;
	static const char yaml[] = "stages:\n  s:\n    cmd: x\n    deps: [in.csv]\n"
				   "    params: [train.C]\n    outs: [out.txt]\n";

	(void)state;
	if (pipeline_parse(&pl, "ferry.yaml", yaml, strlen(yaml), &err))
		fail_msg("%s", err.msg);
	write_at(dir, "in.csv", "abc");
	write_at(dir, "params.yaml", "train:\n  C: 1.0\n");
	assert_int_equal(stage_check(&st, &env, &pl.stages[0], NULL, &err), 0);
	assert_int_equal(st.stale, 1);
	assert_string_equal(st.why.buf, "never run");
	assert_int_equal(st.now.ndeps, 1);
	assert_string_equal(st.now.deps[0].hex, H_ABC);
	assert_string_equal(st.now.params[0].value, "1.0");
	assert_int_equal(st.now.nouts, 0);
	/* what a successful run records; then nothing is stale */
	write_at(dir, "out.txt", "");
	stage_state_release(&st);
	assert_int_equal(stage_check(&st, &env, &pl.stages[0], NULL, &err), 0);
	lock_stage_copy(&locked, &st.now);
	stage_state_release(&st);
	assert_int_equal(stage_check(&st, &env, &pl.stages[0], &locked, &err), 0);
	assert_int_equal(st.stale, 0);
	stage_state_release(&st);
	/* the dep, the param, the out */
	write_at(dir, "in.csv", "abd");
	write_at(dir, "params.yaml", "train:\n  C: 2\n");
	write_at(dir, "out.txt", "x");
	assert_int_equal(stage_check(&st, &env, &pl.stages[0], &locked, &err), 0);
	assert_string_equal(st.why.buf, "dep 'in.csv' changed; param 'params.yaml:train.C' changed "
					"(1.0 -> 2); out 'out.txt' modified");
	stage_state_release(&st);
	/* a missing dep is a reason (with missing_dep), a missing param an error */
	{
		char *p = test_path(dir, "in.csv");

		unlink(p);
		free(p);
	}
	assert_int_equal(stage_check(&st, &env, &pl.stages[0], &locked, &err), 0);
	assert_int_equal(st.missing_dep, 1);
	assert_string_equal(st.why.buf, "dep 'in.csv' missing; param 'params.yaml:train.C' changed "
					"(1.0 -> 2); out 'out.txt' modified");
	stage_state_release(&st);
	write_at(dir, "params.yaml", "train: {}\n");
	assert_int_equal(stage_check(&st, &env, &pl.stages[0], &locked, &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "params file 'params.yaml' has no key 'train.C'");
	lock_stage_release(&locked);
	pipeline_release(&pl);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serialize),    cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_param_lookup), cmocka_unit_test(test_compare),
		cmocka_unit_test(test_hash),	     cmocka_unit_test(test_runcache),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
