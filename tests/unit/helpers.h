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

#endif
