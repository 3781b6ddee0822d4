/*
 * Shared by table.c (storage and the public API) and table_load.c (CSV loading); not for use
 * outside src/table.
 */
#ifndef FERRY_TABLE_TABLE_INTERNAL_H
#define FERRY_TABLE_TABLE_INTERNAL_H

#include "table/csv.h"
#include "table/table.h"

/*
 * The read buffer a reader starts with (CSV_BUFFER_SIZE). Tests and the fuzzer shrink it to a
 * few bytes so that records cross refills at every position; not for concurrent change.
 */
extern size_t csv_buffer_size;

/*
 * Reading one input in two parts at once. csv_input_size: bytes in a regular file or buffer (0
 * for a pipe). csv_split_point: the offset just past the first LF at or after from (within a
 * read buffer's length), -1 if none; whether that LF is outside quotes is only known once the
 * part before it parsed cleanly up to it. csv_open_part: a reader of bytes [start, end) of r's
 * input with r's columns and no header, lines counted from 1 at start (free with csv_free).
 * csv_set_limit: r reads nothing at or past input offset end (until csv_rewind). csv_line: the
 * physical line of the next byte r will read.
 */
uint64_t csv_input_size(const struct csv_reader *r);
int csv_split_point(uint64_t *out, const struct csv_reader *r, uint64_t from);
int csv_open_part(struct csv_reader **out, const struct csv_reader *r, uint64_t start, uint64_t end,
		  struct error *err);
void csv_set_limit(struct csv_reader *r, uint64_t end);
uint64_t csv_line(const struct csv_reader *r);

/* Inputs at least this big are loaded in two halves on two threads (16 MiB; tests lower it). */
extern size_t table_split_min_bytes;

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
