/*
 * Unit tests for util/sha256 against the NIST FIPS 180-2 example vectors and against the
 * sha256sum program run on files the test writes.
 */
#include "util/common.h"
#include "helpers.h"
#include "util/sha256.h"

static const char nist_448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char nist_896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
			       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

static void test_vectors(void **state)
{
	char hex[SHA256_HEX_SIZE];

	(void)state;
	sha256_buffer("", 0, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_buffer("abc", 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_buffer(nist_448, strlen(nist_448), hex);
	assert_string_equal(hex,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	sha256_buffer(nist_896, strlen(nist_896), hex);
	assert_string_equal(hex,
			    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a_streaming(void **state)
{
	struct sha256_ctx ctx = SHA256_CTX_INIT;
	unsigned char digest[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	char chunk[1000];
	size_t fed = 0, step = 1;

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&ctx);
	/* uneven pieces (1, 2, ... 999 bytes) cross the 64-byte block boundaries at odd places */
	while (fed < 1000000) {
		size_t n = step < 1000000 - fed ? step : 1000000 - fed;

		sha256_update(&ctx, chunk, n);
		fed += n;
		step = step % 999 + 1;
	}
	sha256_final(&ctx, digest);
	assert_null(ctx.md);
	sha256_hex(digest, hex);
	assert_string_equal(hex,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hex_and_release(void **state)
{
	unsigned char digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx = SHA256_CTX_INIT;
	char hex[SHA256_HEX_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(digest); i++)
		digest[i] = (unsigned char)(i * 8 + 7);
	sha256_hex(digest, hex);
	assert_string_equal(hex,
			    "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
	/* an abandoned hash is released without a leak (the sanitizer build checks) */
	sha256_release(&ctx);
	sha256_init(&ctx);
	sha256_update(&ctx, "partial", 7);
	sha256_release(&ctx);
	assert_null(ctx.md);
	sha256_release(&ctx);
}

/* The digest sha256sum prints for path: the independent reference. */
static void reference_sha256(const char *path, char out[SHA256_HEX_SIZE])
{
	char cmd[4200], line[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	assert_true(strlen(line) > 64 && line[64] == ' ');
	memcpy(out, line, 64);
	out[64] = '\0';
}

static void write_pseudo_random(const char *path, size_t size)
{
	FILE *fp = fopen(path, "wb");
	uint32_t x = 2463534242u;

	assert_non_null(fp);
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		assert_int_not_equal(fputc((int)(x & 0xff), fp), EOF);
	}
	assert_int_equal(fclose(fp), 0);
}

static void test_file_against_sha256sum(void **state)
{
	char *dir = test_tmpdir();
	/* sizes around the 1 MiB read chunk, plus an empty file */
	static const size_t sizes[] = { 0, 1, 1048575, 1048576, 1048577, 3 * 1048576 + 17 };
	char got[SHA256_HEX_SIZE], want[SHA256_HEX_SIZE], name[32];
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char *path;

		snprintf(name, sizeof(name), "f%zu.bin", i);
		path = test_path(dir, name);
		write_pseudo_random(path, sizes[i]);
		reference_sha256(path, want);
		assert_int_equal(sha256_file(got, path, &err), 0);
		assert_string_equal(got, want);
		free(path);
	}
	test_tmpdir_remove(dir);
}

static void test_file_errors(void **state)
{
	char *dir = test_tmpdir();
	char *missing = test_path(dir, "missing");
	char hex[SHA256_HEX_SIZE] = "untouched";
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(sha256_file(hex, missing, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, missing));
	assert_int_equal(sha256_file(hex, dir, &err), ERR_IO);
	assert_non_null(strstr(err.msg, strerror(EISDIR)));
	assert_string_equal(hex, "untouched");
	free(missing);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a_streaming),
		cmocka_unit_test(test_hex_and_release),
		cmocka_unit_test(test_file_against_sha256sum),
		cmocka_unit_test(test_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
