/*
 * Shared helpers for cmocka unit tests. Include after <cmocka.h>'s prerequisites:
 * this header pulls them in itself.
 */
#ifndef FERRY_TEST_HELPERS_H
#define FERRY_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/*
 * Creates a fresh temporary directory under $TMPDIR (or /tmp) and returns its path (caller
 * frees with test_tmpdir_remove, which deletes it recursively).
 */
char *test_tmpdir(void);
void test_tmpdir_remove(char *dir);

/* Joins dir and name into a new string the caller frees. */
char *test_path(const char *dir, const char *name);

/* Writes len bytes to path, failing the test on error. */
void test_write_file(const char *path, const char *data);

/* Path of a file in tests/data (from $FERRY_TEST_DATA); caller frees. */
char *test_data_path(const char *name);

/*
 * Raw SQLite access to a store's database, independent of the code under test: the first
 * column of the first row of sql (an integer), and running sql. Either fails the test on error.
 */
int64_t test_db_int(const char *path, const char *sql);
void test_db_exec(const char *path, const char *sql);

/* expr returns 0; otherwise fails with the code and err.msg (a struct error err must be in scope). */
#define assert_ok(expr)                                                                            \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_)                                                                           \
			fail_msg("%s failed (%d): %s", #expr, rc_, err.msg);                       \
	} while (0)

/* expr fails with code and a message containing needle (err as above, cleared first). */
#define assert_err(expr, code, needle)                                                             \
	do {                                                                                       \
		int rc_;                                                                           \
		error_clear(&err);                                                                 \
		rc_ = (expr);                                                                      \
		if (rc_ != (code))                                                                 \
			fail_msg("%s: expected %s, got %d (%s)", #expr, #code, rc_, err.msg);      \
		if (!strstr(err.msg, (needle)))                                                    \
			fail_msg("%s: '%s' does not contain '%s'", #expr, err.msg, (needle));      \
	} while (0)

#endif
