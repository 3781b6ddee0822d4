/*
 * Included first by every ferry source file: the system headers nearly everyone needs, then
 * banned.h so that misuse-prone functions cannot creep back in (git-compat-util.h does the same).
 */
#ifndef FERRY_UTIL_COMMON_H
#define FERRY_UTIL_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#endif
