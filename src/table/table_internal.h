/*
 * Shared by table.c (storage and the public API) and table_load.c (CSV loading); not for use
 * outside src/table.
 */
#ifndef FERRY_TABLE_TABLE_INTERNAL_H
#define FERRY_TABLE_TABLE_INTERNAL_H

#include "table/table.h"

/*
 * The read buffer a reader starts with (CSV_BUFFER_SIZE). Tests and the fuzzer shrink it to a
 * few bytes so that records cross refills at every position; not for concurrent change.
 */
extern size_t csv_buffer_size;

/* Length of the UTF-8 sequence at p (2 to 4), 0 if it may continue past end, -1 if invalid. */
int utf8_seq(const unsigned char *p, const unsigned char *end, int eof);
/* True if s[0..len) is valid UTF-8 without NUL bytes. */
int utf8_valid(const char *s, size_t len);

/* The code of s[0..len) in d, adding it if new. */
uint32_t dict_intern(struct table_dict *d, const char *s, size_t len);
void dict_release(struct table_dict *d);

/* Makes room for nrows rows in every column (values, codes and missing bitmaps). */
void table_reserve_rows(struct table *t, size_t nrows);
/* Appends an empty column (name copied) with room for t->rows_alloc rows. */
struct column *table_push_column(struct table *t, const char *name, enum column_type type);
/* Marks row as missing (within t->rows_alloc) and stores 0.0 / TABLE_NO_CODE there. */
void column_set_missing(struct column *c, size_t row, size_t rows_alloc);
/* Turns c into an empty categorical column: codes TABLE_NO_CODE, values freed. */
void column_make_categorical(struct column *c, size_t rows_alloc);
void column_free(struct column *c);

#endif
