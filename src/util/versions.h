/*
 * What ferry runs on: the run-time versions of the libraries it links and of the machine, as
 * `ferry version` prints them and as runs record them (their environment).
 */
#ifndef FERRY_UTIL_VERSIONS_H
#define FERRY_UTIL_VERSIONS_H

#include <jansson.h>

/* {"sqlite": "3.40.1", "libpq": ..., "xgboost": ..., ...}: a new object. */
json_t *versions_libraries(void);

/* {"ferry", "os", "machine", "compiler", "libc", "libraries": {...}}: a new object. */
json_t *versions_environment(void);

#endif
