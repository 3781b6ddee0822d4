/*
 * Object cache benchmark: cas_add_file of one large file against `openssl dgst -sha256` on the
 * same file (hardlink, copy), and of 20,000 small files on a workpool. See bench/README.md.
 */
#include "util/common.h"
#include "data/cas.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#include <time.h>

#define NSMALL 20000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "cas_bench: %s\n", what);
	exit(1);
}

static void run(const struct strbuf *cmd)
{
	if (system(cmd->buf) != 0)
		die(cmd->buf);
}

static double median3(double t[3])
{
	double lo = t[0] < t[1] ? t[0] : t[1], hi = t[0] < t[1] ? t[1] : t[0];

	return t[2] < lo ? lo : t[2] > hi ? hi : t[2];
}

/* Median of three runs of openssl on big (in the page cache), each after a sync. */
static double time_openssl(const char *big)
{
	struct strbuf cmd = STRBUF_INIT;
	double t[3];

	strbuf_addf(&cmd, "cat '%s' >/dev/null", big);
	run(&cmd);
	strbuf_reset(&cmd);
	strbuf_addf(&cmd, "openssl dgst -sha256 '%s' >/dev/null", big);
	for (int i = 0; i < 3; i++) {
		sync();
		t[i] = now();
		run(&cmd);
		t[i] = now() - t[i];
	}
	strbuf_release(&cmd);
	return median3(t);
}

/* Median of three cas_add_file runs, each of a fresh copy of big into a fresh cache. */
static double time_add(const char *dir, const char *big, const char *order)
{
	struct strbuf cmd = STRBUF_INIT, cache = STRBUF_INIT, work = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char hex[SHA256_HEX_SIZE];
	uint64_t size;
	double t[3];

	strbuf_addf(&cache, "%s/cache", dir);
	strbuf_addf(&work, "%s/work.bin", dir);
	/* a hardlink makes the workspace file the object: each run starts from a copy */
	strbuf_addf(&cmd, "rm -rf '%s' '%s' && cp '%s' '%s' && cat '%s' >/dev/null", cache.buf,
		    work.buf, big, work.buf, work.buf);
	for (int i = 0; i < 3; i++) {
		struct cas *cas;

		run(&cmd);
		if (cas_open(&cas, cache.buf, order, &err))
			die(err.msg);
		sync();
		t[i] = now();
		if (cas_add_file(cas, work.buf, hex, &size, &err))
			die(err.msg);
		t[i] = now() - t[i];
		cas_free(cas);
	}
	strbuf_release(&work);
	strbuf_release(&cache);
	strbuf_release(&cmd);
	return median3(t);
}

struct small {
	struct cas *cas;
	char **paths;
};

static int add_one(size_t i, void *data, struct error *err)
{
	struct small *s = data;
	char hex[SHA256_HEX_SIZE];
	uint64_t size;

	return cas_add_file(s->cas, s->paths[i], hex, &size, err);
}

/* Writes NSMALL files of 4 KiB, all different, under dir/small. */
static char **make_small(const char *dir)
{
	char **paths = xcalloc(NSMALL, sizeof(*paths));
	unsigned char data[4096];
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "rm -rf '%s/small' && mkdir -p '%s/small'", dir, dir);
	run(&sb);
	for (size_t i = 0; i < NSMALL; i++) {
		FILE *fp;

		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s/small/f%05zu", dir, i);
		for (size_t j = 0; j < sizeof(data); j++)
			data[j] = (unsigned char)(i * 7919 + j * 31 + (j >> 7));
		memcpy(data, &i, sizeof(i));
		fp = fopen(sb.buf, "wb");
		if (!fp || fwrite(data, 1, sizeof(data), fp) != sizeof(data) || fclose(fp))
			die(sb.buf);
		paths[i] = strbuf_detach(&sb, NULL);
	}
	return paths;
}

static void bench_small(const char *dir, char **paths, const char *order)
{
	struct small s = { NULL, paths };
	struct strbuf cache = STRBUF_INIT, cmd = STRBUF_INIT;
	struct error err = ERROR_INIT;
	double t, t_sync;

	/*
	 * A cache of its own for each run, removed only at the end: ext4 allocates inodes slowly
	 * right after thousands were deleted (recently_deleted()), which is not what we measure.
	 */
	strbuf_addf(&cache, "%s/small-cache-%s", dir, order);
	strbuf_addf(&cmd, "rm -rf '%s'", cache.buf);
	run(&cmd);
	if (cas_open(&s.cas, cache.buf, order, &err))
		die(err.msg);
	sync();
	t = now();
	if (workpool_run(NSMALL, 2, 1, add_one, &s, &err))
		die(err.msg);
	t = now() - t;
	t_sync = now();
	if (cas_sync(s.cas, &err))
		die(err.msg);
	t_sync = now() - t_sync;
	printf("  %-14s %.3f s  (%.1f us a file), then cas_sync %.3f s\n", order, t,
	       t * 1e6 / NSMALL, t_sync);
	cas_free(s.cas);
	strbuf_release(&cmd);
	strbuf_release(&cache);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp/ferry-cas-bench";
	long mib = argc > 2 ? strtol(argv[2], NULL, 10) : 1024;
	struct strbuf big = STRBUF_INIT, cmd = STRBUF_INIT;
	struct error err = ERROR_INIT;
	double ossl, hard, copy;
	char **paths;

	if (mib <= 0 || fs_mkdir_p(dir, 0777, &err))
		die(mib <= 0 ? "usage: cas_bench [DIR [MIB]]" : err.msg);
	strbuf_addf(&big, "%s/big.bin", dir);
	strbuf_addf(&cmd, "head -c %ldM /dev/urandom > '%s'", mib, big.buf);
	run(&cmd);
	ossl = time_openssl(big.buf);
	hard = time_add(dir, big.buf, "hardlink,copy");
	copy = time_add(dir, big.buf, "copy");
	printf("%ld MiB file in the page cache, median of 3:\n", mib);
	printf("  openssl dgst -sha256   %.3f s\n", ossl);
	printf("  cas_add_file hardlink  %.3f s  %.2fx openssl\n", hard, hard / ossl);
	printf("  cas_add_file copy      %.3f s  %.2fx openssl\n", copy, copy / ossl);
	printf("%d files of 4 KiB, cas_add_file on 2 threads:\n", NSMALL);
	paths = make_small(dir);
	bench_small(dir, paths, "hardlink,copy");
	bench_small(dir, paths, "reflink,copy");
	bench_small(dir, paths, "copy");
	for (size_t i = 0; i < NSMALL; i++)
		free(paths[i]);
	free(paths);
	/* only what this program made; dir itself goes if it is then empty */
	strbuf_reset(&cmd);
	strbuf_addf(&cmd, "cd '%s' && rm -rf small small-cache-* cache big.bin work.bin", dir);
	run(&cmd);
	rmdir(dir);
	strbuf_release(&cmd);
	strbuf_release(&big);
	return 0;
}
