/*
 * Unit tests for data/transfer: push and fetch move only what is missing, account for every
 * object, survive partial state and a SIGKILL mid-push; remote objects are checked with sha256sum.
 */
#include "util/common.h"
#include "helpers.h"
#include "data/cas.h"
#include "data/remote.h"
#include "data/transfer.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

struct fixture {
	char *dir;
	char *remote_dir;
	struct cas *cas;
	struct remote *r;
	size_t n;
	char (*hex)[SHA256_HEX_SIZE];
	const char **hexes;
	struct strbuf *content;
	uint64_t total;
};

static const struct transfer_opts quiet = { .jobs = 0, .quiet = 1 };

/* n objects in the cache, of sizes from 0 to ~100 KiB (every 7th one larger than a chunk). */
static void make_objects(struct fixture *f, size_t n, size_t size)
{
	struct error err = ERROR_INIT;

	f->n = n;
	f->hex = xcalloc(n, sizeof(*f->hex));
	f->hexes = xcalloc(n, sizeof(*f->hexes));
	f->content = xcalloc(n, sizeof(*f->content));
	f->total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t want = size ? size : i % 7 ? i * 13 : 100000 + i;

		strbuf_init(&f->content[i], want);
		while (f->content[i].len < want)
			strbuf_addf(&f->content[i], "object %zu ", i);
		strbuf_setlen(&f->content[i], want);
		if (cas_add_buffer(f->cas, f->content[i].buf, want, f->hex[i], &err))
			fail_msg("cas_add_buffer: %s", err.msg);
		f->hexes[i] = f->hex[i];
		f->total += want;
	}
}

static struct fixture *fixture_new(size_t n, size_t size)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;
	char *cache = NULL;

	f->dir = test_tmpdir();
	cache = test_path(f->dir, "cache");
	f->remote_dir = test_path(f->dir, "remote");
	if (cas_open(&f->cas, cache, "copy", &err) ||
	    remote_open(&f->r, "origin", f->remote_dir, &err))
		fail_msg("setup: %s", err.msg);
	free(cache);
	make_objects(f, n, size);
	return f;
}

static void fixture_free(struct fixture *f)
{
	remote_close(f->r);
	cas_free(f->cas);
	for (size_t i = 0; i < f->n; i++)
		strbuf_release(&f->content[i]);
	free(f->content);
	free(f->hex);
	free(f->hexes);
	free(f->remote_dir);
	test_tmpdir_remove(f->dir);
	free(f);
}

static struct cas *second_cache(struct fixture *f, const char *name)
{
	struct error err = ERROR_INIT;
	char *dir = test_path(f->dir, name);
	struct cas *cas = NULL;

	if (cas_open(&cas, dir, "copy", &err))
		fail_msg("cas_open: %s", err.msg);
	free(dir);
	return cas;
}

/*
 * Runs sha256sum over every file under root/objects/sha256 and checks that each one's name is
 * its digest; returns how many there are.
 */
static size_t sha256sum_tree(const char *root)
{
	struct strbuf cmd = STRBUF_INIT;
	char line[512];
	size_t n = 0;
	FILE *p;

	strbuf_addf(&cmd,
		    "cd '%s' && if [ -d objects/sha256 ]; then cd objects/sha256 && "
		    "find . -type f -print0 | xargs -0 -r sha256sum; fi",
		    root);
	p = popen(cmd.buf, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		/* "<64 hex>  ./xx/<62 hex>\n" */
		assert_true(strlen(line) == 64 + 2 + 2 + 2 + 1 + 62 + 1);
		if (strncmp(line, line + 68, 2) || strncmp(line + 2, line + 71, 62))
			fail_msg("remote object does not match its name: %s", line);
		n++;
	}
	assert_int_equal(pclose(p), 0);
	strbuf_release(&cmd);
	return n;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void expect_stats(const struct transfer_stats *s, uint64_t wanted, uint64_t present,
			 uint64_t transferred, uint64_t bytes, uint64_t failed, uint64_t missing)
{
	assert_int_equal(s->wanted, wanted);
	assert_int_equal(s->present, present);
	assert_int_equal(s->transferred, transferred);
	assert_int_equal(s->bytes, bytes);
	assert_int_equal(s->failed, failed);
	assert_int_equal(s->missing, missing);
}

static int push(struct fixture *f, const char *const *hexes, size_t n,
		const struct transfer_opts *opts, struct transfer_stats *s, struct strbuf *report)
{
	struct error err = ERROR_INIT;
	int rc = transfer_push(f->cas, f->r, hexes, n, opts, s, report, &err);

	if (rc)
		strbuf_addf(report, "error: %s\n", err.msg);
	return rc;
}

static void test_push_twice(void **state)
{
	struct fixture *f = fixture_new(60, 0);
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT;
	const char **twice = xcalloc(2 * f->n, sizeof(*twice));

	(void)state;
	/* every digest twice, in a shuffled order: wanted counts distinct objects */
	for (size_t i = 0; i < f->n; i++) {
		twice[i] = f->hexes[f->n - 1 - i];
		twice[f->n + i] = f->hexes[(i * 7) % f->n];
	}
	assert_int_equal(push(f, twice, 2 * f->n, &quiet, &s, &report), 0);
	assert_string_equal(report.buf, "");
	expect_stats(&s, f->n, 0, f->n, f->total, 0, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);

	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	expect_stats(&s, f->n, f->n, 0, 0, 0, 0);
	assert_string_equal(report.buf, "");

	/* nothing asked: nothing done */
	assert_int_equal(push(f, f->hexes, 0, &quiet, &s, &report), 0);
	expect_stats(&s, 0, 0, 0, 0, 0, 0);
	free(twice);
	strbuf_release(&report);
	fixture_free(f);
}

static void test_fetch_identical(void **state)
{
	struct fixture *f = fixture_new(40, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT, got = STRBUF_INIT;
	struct cas *cas2 = second_cache(f, "cache2");

	(void)state;
	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	assert_int_equal(transfer_fetch(cas2, f->r, f->hexes, f->n, &quiet, &s, &report, &err), 0);
	expect_stats(&s, f->n, 0, f->n, f->total, 0, 0);
	assert_string_equal(report.buf, "");
	for (size_t i = 0; i < f->n; i++) {
		char *path = cas_object_path(cas2, f->hex[i]);

		strbuf_reset(&got);
		assert_int_equal(fs_read_file(&got, path, SIZE_MAX, &err), 0);
		assert_int_equal(got.len, f->content[i].len);
		assert_memory_equal(got.buf, f->content[i].buf, got.len);
		free(path);
	}
	assert_int_equal(transfer_fetch(cas2, f->r, f->hexes, f->n, &quiet, &s, &report, &err), 0);
	expect_stats(&s, f->n, f->n, 0, 0, 0, 0);
	cas_free(cas2);
	strbuf_release(&report);
	strbuf_release(&got);
	fixture_free(f);
}

static void test_partial_state(void **state)
{
	struct fixture *f = fixture_new(50, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT, stale = STRBUF_INIT;
	struct cas *cas2 = second_cache(f, "cache2");
	uint64_t half_bytes = 0, rest_bytes = 0;
	size_t half = 20;

	(void)state;
	for (size_t i = 0; i < f->n; i++)
		*(i < half ? &half_bytes : &rest_bytes) += f->content[i].len;
	assert_int_equal(push(f, f->hexes, half, &quiet, &s, &report), 0);
	/* what a killed push leaves: a half-written temporary of an object still to send */
	strbuf_addf(&stale, "%s/tmp/%s.Ab12Cd", f->remote_dir, f->hex[half + 1]);
	test_write_file(stale.buf, "object 21 obj");
	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	expect_stats(&s, f->n, half, f->n - half, rest_bytes, 0, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);

	/* the same from the other side: cache2 already holds the first half */
	assert_int_equal(transfer_fetch(cas2, f->r, f->hexes, half, &quiet, &s, &report, &err), 0);
	assert_int_equal(transfer_fetch(cas2, f->r, f->hexes, f->n, &quiet, &s, &report, &err), 0);
	expect_stats(&s, f->n, half, f->n - half, rest_bytes, 0, 0);
	for (size_t i = 0; i < f->n; i++)
		assert_int_equal(cas_verify(cas2, f->hex[i], &err), 0);
	assert_string_equal(report.buf, "");
	cas_free(cas2);
	strbuf_release(&report);
	strbuf_release(&stale);
	fixture_free(f);
}

static void test_missing_and_corrupted(void **state)
{
	struct fixture *f = fixture_new(10, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT, line = STRBUF_INIT;
	char absent[3][SHA256_HEX_SIZE];
	const char *hexes[13];
	struct cas *cas2 = second_cache(f, "cache2");
	char *bad;
	FILE *fp;
	int has = -1;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char text[32];

		snprintf(text, sizeof(text), "never added %zu", i);
		sha256_buffer(text, strlen(text), absent[i]);
		hexes[i] = absent[i];
	}
	for (size_t i = 0; i < f->n; i++)
		hexes[3 + i] = f->hexes[i];
	assert_int_equal(transfer_push(f->cas, f->r, hexes, 13, &quiet, &s, &report, &err),
			 ERR_NOTFOUND);
	expect_stats(&s, 13, 0, f->n, f->total, 0, 3);
	assert_non_null(strstr(err.msg, "'origin'"));
	assert_non_null(strstr(err.msg, "3 of 13"));
	for (size_t i = 0; i < 3; i++) {
		strbuf_reset(&line);
		strbuf_addf(&line, "sha256:%s: cache object sha256:%s is missing\n", absent[i],
			    absent[i]);
		assert_non_null(strstr(report.buf, line.buf));
	}
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);

	/* fetch: the same three are not on the remote */
	strbuf_reset(&report);
	assert_int_equal(transfer_fetch(cas2, f->r, hexes, 13, &quiet, &s, &report, &err),
			 ERR_NOTFOUND);
	expect_stats(&s, 13, 0, f->n, f->total, 0, 3);
	for (size_t i = 0; i < 3; i++)
		assert_non_null(strstr(report.buf, absent[i]));

	/* a corrupted cache object is reported and not sent; the others go */
	remote_close(f->r);
	f->r = NULL;
	free(f->remote_dir);
	f->remote_dir = test_path(f->dir, "remote2");
	assert_int_equal(remote_open(&f->r, "backup", f->remote_dir, &err), 0);
	bad = cas_object_path(f->cas, f->hex[4]);
	assert_int_equal(chmod(bad, 0644), 0);
	fp = fopen(bad, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 3, SEEK_SET), 0);
	fputc('#', fp);
	assert_int_equal(fclose(fp), 0);
	strbuf_reset(&report);
	assert_int_equal(transfer_push(f->cas, f->r, f->hexes, f->n, &quiet, &s, &report, &err),
			 ERR_INVALID);
	expect_stats(&s, f->n, 0, f->n - 1, f->total - f->content[4].len, 1, 0);
	strbuf_reset(&line);
	strbuf_addf(&line, "sha256:%s: cache object sha256:%s is corrupted; not pushing it",
		    f->hex[4], f->hex[4]);
	assert_non_null(strstr(report.buf, line.buf));
	assert_non_null(strstr(err.msg, "'backup'"));
	assert_int_equal(f->r->ops->has(f->r, f->hex[4], &has, &err), 0);
	assert_int_equal(has, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n - 1);
	free(bad);
	cas_free(cas2);
	strbuf_release(&report);
	strbuf_release(&line);
	fixture_free(f);
}

static void test_bad_digest(void **state)
{
	struct fixture *f = fixture_new(2, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	const char *hexes[] = { f->hexes[0], "not-a-digest", f->hexes[1] };
	char upper[SHA256_HEX_SIZE];

	memset(upper, 'A', 64);
	upper[64] = '\0';

	(void)state;
	assert_int_equal(transfer_push(f->cas, f->r, hexes, 3, &quiet, &s, NULL, &err),
			 ERR_INVALID);
	assert_non_null(strstr(err.msg, "'not-a-digest'"));
	expect_stats(&s, 0, 0, 0, 0, 0, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), 0);
	hexes[1] = upper;
	assert_int_equal(transfer_fetch(f->cas, f->r, hexes, 3, &quiet, &s, NULL, &err),
			 ERR_INVALID);
	fixture_free(f);
}

/* The remote's objects as one sorted string of names. */
static void listing(struct strbuf *out, const char *root)
{
	struct strbuf cmd = STRBUF_INIT;
	char line[256];
	FILE *p;

	strbuf_addf(&cmd, "cd '%s/objects/sha256' && find . -type f | sort", root);
	p = popen(cmd.buf, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		strbuf_addstr(out, line);
	assert_int_equal(pclose(p), 0);
	strbuf_release(&cmd);
}

static void test_jobs_same_result(void **state)
{
	struct fixture *f = fixture_new(120, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s1, s8;
	struct transfer_opts one = { .jobs = 1, .quiet = 1 }, eight = { .jobs = 8, .quiet = 1 };
	struct strbuf report = STRBUF_INIT, l1 = STRBUF_INIT, l8 = STRBUF_INIT;
	struct remote *r8 = NULL;
	char *dir8 = test_path(f->dir, "remote8");

	(void)state;
	assert_int_equal(push(f, f->hexes, f->n, &one, &s1, &report), 0);
	assert_int_equal(remote_open(&r8, "eight", dir8, &err), 0);
	assert_int_equal(transfer_push(f->cas, r8, f->hexes, f->n, &eight, &s8, &report, &err), 0);
	assert_memory_equal(&s1, &s8, sizeof(s1));
	expect_stats(&s8, f->n, 0, f->n, f->total, 0, 0);
	listing(&l1, f->remote_dir);
	listing(&l8, dir8);
	assert_int_equal(l1.len, (size_t)f->n * (2 + 2 + 1 + 62 + 1));
	assert_string_equal(l1.buf, l8.buf);
	assert_int_equal(sha256sum_tree(dir8), f->n);
	remote_close(r8);
	free(dir8);
	strbuf_release(&report);
	strbuf_release(&l1);
	strbuf_release(&l8);
	fixture_free(f);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_killed_push_resumes(void **state)
{
	struct fixture *f = fixture_new(3000, 4096);
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT;
	char *objects = test_path(f->remote_dir, "objects/sha256");
	char *tmp = test_path(f->remote_dir, "tmp");
	size_t before;
	int status, waited = 0;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct error err = ERROR_INIT;

		_exit(transfer_push(f->cas, f->r, f->hexes, f->n, &quiet, NULL, NULL, &err) ? 1 : 0);
	}
	/* kill it as soon as the first object is published, well before it can finish */
	while (!fs_is_dir(objects) && waited++ < 20000)
		sleep_ms(1);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* every name already published holds complete, correct bytes */
	before = sha256sum_tree(f->remote_dir);
	assert_true(before < f->n);
	fprintf(stderr, "killed push: %zu of %zu objects published, %d temporary files left\n",
		before, f->n, count_entries(tmp));

	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	expect_stats(&s, f->n, before, f->n - before, (f->n - before) * 4096, 0, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);
	strbuf_release(&report);
	free(objects);
	free(tmp);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_twice),
		cmocka_unit_test(test_fetch_identical),
		cmocka_unit_test(test_partial_state),
		cmocka_unit_test(test_missing_and_corrupted),
		cmocka_unit_test(test_bad_digest),
		cmocka_unit_test(test_jobs_same_result),
		cmocka_unit_test(test_killed_push_resumes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
