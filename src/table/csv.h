/*
 * Streaming CSV reader (RFC 4180) over a file or a memory buffer: one record at a time through a
 * fixed read buffer, with errors that name "FILE:LINE:COL" and the column.
 *
 * The dialect: comma separator; fields may be quoted with '"', a quote inside a quoted field is
 * doubled, and quoted fields may hold commas, CR and LF. Records end with LF or CRLF (the last
 * one may end at EOF). The first record is the header: every column needs a non-empty, unique
 * name. A UTF-8 byte order mark at the start is skipped; all input must be valid UTF-8 and
 * NUL-free. Blank lines (nothing before the line end) are skipped everywhere, as pandas does:
 * in a one-column file write an empty value as "". Strict where RFC 4180 is: a quote inside an
 * unquoted field, anything but a separator or line end after a closing quote, and a CR that is
 * not part of CRLF outside quotes are errors.
 *
 * Positions: LINE is the physical line (1-based, counting LFs inside quoted fields). COL is the
 * 1-based position in characters (UTF-8 code points, a tab counts one) from the start of that
 * line, not counting a BOM. A field's position is its first character (its opening quote if
 * quoted).
 *
 * Memory: the reader holds one 1 MiB buffer, grown only for a record longer than that, up to
 * CSV_MAX_RECORD bytes per record (ERR_TOOBIG beyond).
 */
#ifndef FERRY_TABLE_CSV_H
#define FERRY_TABLE_CSV_H

#include <stddef.h>
#include <stdint.h>

struct error;

#define CSV_BUFFER_SIZE (1u << 20)
#define CSV_MAX_RECORD (64u << 20) /* bytes in one record */
#define CSV_MAX_COLUMNS 100000u

/* Bytes after each field's terminating NUL that are readable, for word-at-a-time parsing. */
#define CSV_FIELD_PADDING 8

/*
 * A bit of csv_field.quoted that the CSV reader never sets: a typed source (a JSON number in a
 * prediction request) gave the field as the finite double num, and str may be empty. Readers
 * of numeric columns (preprocess_encode_fields, the live monitor) take num; a producer sets it
 * only on fields of numeric columns, so readers of other columns never see it.
 */
#define CSV_FIELD_NUMBER 4u

struct csv_field {
	const char *str; /* unquoted and unescaped, NUL-terminated; valid until the next csv_next */
	size_t len;	 /* bytes in str */
	uint64_t line;	 /* where the field starts */
	uint32_t col;
	uint32_t quoted; /* 1 if the field was written in quotes; or CSV_FIELD_NUMBER, above */
	double num;	 /* the value, with CSV_FIELD_NUMBER only */
};

struct csv_reader;

/*
 * Opens path and reads its header; messages name path. ERR_NOTFOUND if path does not exist, ERR_IO if it cannot be read, ERR_INVALID for an empty
 * file or a bad header ("data.csv:1:7: duplicate column name 'age' (also column 2)"),
 * ERR_TOOBIG past the caps. *out is set only on success; free it with csv_free.
 */
int csv_open(struct csv_reader **out, const char *path, struct error *err);

/* Like csv_open over len bytes at data (not copied: they must outlive the reader). */
int csv_open_buffer(struct csv_reader **out, const char *name, const void *data, size_t len,
		    struct error *err);

/* Closes the file and frees r; NULL is fine. */
void csv_free(struct csv_reader *r);

/*
 * Reads the next data record: returns 1 and points *out at csv_ncols() fields (owned by r, valid
 * until the next call), 0 at the end of the input, or a negative ERR_*. ERR_INVALID for
 * malformed input, e.g. "data.csv:7:12: expected 5 fields, got 6 (an extra field after column
 * 'e')" or "data.csv:3:9: unterminated quoted field in column 'b'" (pointing at the opening
 * quote). After an error the reader only returns that error again.
 */
int csv_next(const struct csv_field **out, struct csv_reader *r, struct error *err);

/*
 * Reads up to max records (at least one) at once: 0 with *n records (0 at the end of the input)
 * whose *n * csv_ncols() fields are in *out, record after record, valid until the next call;
 * or a negative ERR_* as csv_next, in which case the records before the bad one are not
 * returned. Reads more input only when no complete record is buffered, so a batch holds at
 * most a buffer's worth.
 */
int csv_next_batch(const struct csv_field **out, size_t *n, struct csv_reader *r, size_t max,
		   struct error *err);

/*
 * Goes back to the first data record, for a second pass. The header must read the same as
 * before. ERR_UNSUPPORTED if the input cannot seek (a pipe), ERR_IO, ERR_INVALID if the header
 * changed.
 */
int csv_rewind(struct csv_reader *r, struct error *err);

/* The name used in messages (path or buffer name), borrowed. */
const char *csv_name(const struct csv_reader *r);
size_t csv_ncols(const struct csv_reader *r);
/* Column names in file order; borrowed, NUL-terminated UTF-8. */
const char *const *csv_column_names(const struct csv_reader *r);
/* Bytes of input consumed so far (for progress) and data records returned since open/rewind. */
uint64_t csv_bytes_read(const struct csv_reader *r);
uint64_t csv_rows_read(const struct csv_reader *r);

#endif
