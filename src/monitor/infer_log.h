/*
 * The inference log: every prediction the server makes and every ground-truth feedback it
 * receives, appended to size-capped segment files that `ferry monitor` reads back.
 *
 * On disk: a directory (.ferry/inference/<model>/ by default: the server decides) of segments
 * NNNNNNNN.log (8 decimal digits, from 00000001, numbered in write order), plus ".lock", which
 * the writing process holds with flock(2) so that two servers never append to one log. Each
 * segment is JSON Lines with a checksum: every line is
 *
 *     <one compact JSON object>\t<CRC32C of the JSON bytes, 8 lowercase hex digits>\n
 *
 * Why this format: people can read it (`cut -f1 00000001.log | jq`), a line is complete only
 * with its '\n' and its checksum, so a crash can only leave an unterminated last line (torn,
 * skipped and counted) and any other damage is confined to the lines it touches (checksum
 * mismatch: skipped and counted, the reader goes on at the next '\n'). The JSON is written by
 * this module, which escapes control characters in strings, so it never holds a raw tab or
 * newline and data cannot be confused with the framing. CRC32C (Castagnoli, the iSCSI/ext4
 * polynomial) is implemented here with tables: no dependency of ferry has it (zlib's crc32
 * would be a new dependency; SHA-256 from OpenSSL costs several times more per record, and
 * detecting torn or flipped bytes needs no cryptographic strength).
 *
 * The first line of every segment is a header (not a record):
 *
 *     {"type":"segment","time_ms":T,"format":1,"segment":N,"prior_max_time_ms":M}
 *
 * where M is the greatest time_ms of the records in earlier segments (or a larger bound, after a
 * crash damaged a header): records are appended roughly, not exactly, in time order (request
 * times are taken when requests start, appends happen when they end), so a reader that wants
 * records from time S starts at the newest segment whose header says M < S and misses nothing.
 * Records:
 *
 *     {"type":"prediction","time_ms":T,"request_id":"...","model":"...","version":3,
 *      "digest":"sha256:...","latency_us":412,"inputs":{...},
 *      "output":{"label":"yes","probabilities":{"no":0.2,"yes":0.8}}}     (or "output":{"value":x})
 *     {"type":"feedback","time_ms":T,"request_id":"...","label":<any JSON>}
 *
 * "version" and "digest" are null when unknown. Keys come in this order, and the reader relies
 * on `{"type":"<kind>","time_ms":` starting every line this module writes to filter by time
 * without parsing (it parses fully before yielding anything).
 *
 * Durability: a background thread writes the buffered records and fdatasync(2)s every flush_ms
 * (or sooner when flush_bytes are waiting), so a crash or power loss loses at most the records of
 * the last interval; killing the process loses nothing that was written. When a segment would
 * pass segment_bytes a new one is created (O_EXCL) and when all segments would pass max_bytes the
 * oldest are deleted. Opening a log again truncates a torn last line of the newest segment and
 * appends to it (a segment left empty by a crash is removed), so restarts do not multiply small
 * segments.
 */
#ifndef FERRY_MONITOR_INFER_LOG_H
#define FERRY_MONITOR_INFER_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

/* Longest line (record, tab, checksum and newline) written or read; longer ones are refused. */
#define INFER_LOG_MAX_LINE (16u << 20)
/* Room kept in every segment for its header line. */
#define INFER_LOG_HEADER_MAX 256u

/* ---- writing ------------------------------------------------------------------------------ */

struct infer_log_options {
	uint64_t segment_bytes; /* 0: 64 MiB; at least 4096 */
	uint64_t max_bytes;	/* all segments together; 0: 1 GiB; at least segment_bytes */
	uint64_t buffer_bytes;	/* records waiting in memory beyond this are dropped; 0: 64 MiB */
	uint64_t flush_bytes;	/* waiting bytes that wake the writer before flush_ms; 0: 4 MiB */
	unsigned flush_ms;	/* write + fdatasync period; 0: 200 */
};

#define INFER_LOG_OPTIONS_INIT                                                                     \
	{                                                                                          \
		0, 0, 0, 0, 0                                                                      \
	}

/*
 * One prediction. Everything is borrowed for the duration of infer_log_append_prediction only:
 * the record is encoded before the call returns.
 *
 * inputs: the request's features as parsed (an object of column -> value, usually); when it is
 * an array and columns is not NULL, it is written as an object of columns[i] -> inputs[i]
 * (n_columns must equal its size). NULL is written as null.
 *
 * cells: instead of inputs (which is then ignored), the row's n_columns values, typed, written
 * as an object of columns[i] -> cells[i] (columns required, names distinct), exactly as inputs
 * holding the same values as jansson reals, strings, booleans and nulls would be. It spares the
 * server a jansson tree (one allocation per cell) per logged row.
 *
 * Outputs: classification sets label (the decided class as text) and optionally the class
 * probabilities (classes[i] -> probabilities[i], n_classes of them); regression leaves label
 * NULL and sets value. label_is_number writes the label as a JSON number (numeric targets) when
 * it is one by JSON's grammar, as a string otherwise. Non-finite doubles are written as null.
 */
enum infer_cell_type {
	INFER_CELL_NULL = 0,
	INFER_CELL_NUMBER, /* num: written as a JSON real ("5.0", not "5"); non-finite as null */
	INFER_CELL_STRING, /* str: len bytes (invalid UTF-8 gets U+FFFD) */
	INFER_CELL_BOOL,   /* b */
};

/* One input value of a record; str is borrowed like the rest of the record. */
struct infer_cell {
	enum infer_cell_type type;
	bool b;
	double num;
	const char *str;
	size_t len;
};

struct infer_record {
	const char *request_id; /* required, non-empty */
	int64_t time_ms;	/* ms since the epoch; 0: now */
	const char *model;	/* required, non-empty */
	int64_t version;	/* registry version; <= 0: unknown (null) */
	const char *digest;	/* artifact digest; NULL: unknown */
	int64_t latency_us;
	const json_t *inputs;
	const struct infer_cell *cells;
	const char *const *columns;
	size_t n_columns;
	const char *label;
	bool label_is_number;
	const char *const *classes;
	const double *probabilities;
	size_t n_classes;
	double value;
};

struct infer_log;

/*
 * Opens (creating it and its parents if needed) the log in dir for appending and starts its
 * writer thread. o may be NULL for the defaults. *out is the caller's, closed with
 * infer_log_close. ERR_CONFLICT if another process has the log open for writing, ERR_INVALID for
 * bad options, ERR_IO if the directory or the newest segment cannot be set up.
 */
int infer_log_open(struct infer_log **out, const char *dir, const struct infer_log_options *o,
		   struct error *err);

/*
 * Appends a record to the in-memory buffer; never waits for the disk, safe from any number of
 * threads (not once infer_log_close has begun), and the records of one thread keep their order.
 * The record is encoded in the calling thread, outside the buffer's lock: reals that are short
 * decimals are written as such ("78.61" stays "78.61"), others with 17 digits, all exact; JSON
 * strings with invalid UTF-8 get U+FFFD.
 *
 * Returns 0 when the record was taken, ERR_TOOBIG when it was dropped because the buffer is full
 * (the disk is not keeping up) or the line would exceed INFER_LOG_MAX_LINE or segment_bytes less
 * the header room (both counted, see infer_log_stats), ERR_INVALID for a record without request
 * id or model, columns that do not match the inputs, or inputs nested over 256 levels deep. A 0
 * does not mean the record is on disk: see infer_log_flush.
 */
int infer_log_append_prediction(struct infer_log *log, const struct infer_record *r,
				struct error *err);

/* Appends ground truth for request_id; label (any JSON value, NULL: null) is borrowed. As above. */
int infer_log_append_feedback(struct infer_log *log, const char *request_id, const json_t *label,
			      int64_t time_ms, struct error *err);

/*
 * Waits until every record taken before the call is written and fdatasync'ed (or lost to a write
 * error). ERR_IO if records were lost to write errors meanwhile, with the last error's message.
 */
int infer_log_flush(struct infer_log *log, struct error *err);

/*
 * Flushes everything, fsyncs, stops the writer thread, releases the lock and frees log (always,
 * even on error; NULL is a no-op). ERR_IO as infer_log_flush.
 */
int infer_log_close(struct infer_log *log, struct error *err);

/* Counters for the server's /metrics; consistent with each other at one instant. */
struct infer_log_stats {
	uint64_t appended;	       /* records taken into the buffer */
	uint64_t written;	       /* records written and synced */
	uint64_t dropped_full;	       /* refused: the buffer was at buffer_bytes */
	uint64_t dropped_toobig;       /* refused: longer than a segment or INFER_LOG_MAX_LINE */
	uint64_t lost_io;	       /* taken, then lost to write errors */
	uint64_t io_errors;	       /* failed writes, syncs, segment creations */
	uint64_t buffered_bytes;       /* taken but not yet written */
	uint64_t bytes_written;	       /* since open, headers included */
	uint64_t segments_created;     /* since open */
	uint64_t segments_deleted;     /* since open, for the max_bytes cap */
	uint64_t recovered_torn_bytes; /* truncated from the newest segment at open */
};

void infer_log_stats(struct infer_log *log, struct infer_log_stats *out);

/* ---- reading ------------------------------------------------------------------------------ */

enum infer_kind {
	INFER_PREDICTION = 1,
	INFER_FEEDBACK = 2,
};

/*
 * One record. doc is the whole parsed line; the pointers are borrowed from it and valid until
 * the next infer_reader_next or infer_reader_free (json_incref(doc) to keep it). Fields a record
 * does not have are NULL / 0.
 */
struct infer_entry {
	enum infer_kind kind;
	int64_t time_ms;
	const char *request_id;
	json_t *doc;
	/* predictions */
	const char *model;
	int64_t version; /* 0 when null */
	const char *digest;
	int64_t latency_us;
	json_t *inputs;
	json_t *output;
	/* feedback */
	json_t *label;
	/* where the line is: the JSON text is bytes [offset, offset + len) of the segment */
	uint32_t segment;
	uint64_t offset;
	size_t len;
};

struct infer_reader_options {
	int64_t since_ms; /* only records with time_ms >= since_ms; 0: all */
	uint64_t last_n;  /* start at the last_n-th record from the end; 0: at the oldest */
};

#define INFER_READER_OPTIONS_INIT                                                                  \
	{                                                                                          \
		0, 0                                                                               \
	}

struct infer_reader;

/*
 * Opens the log in dir for reading, oldest record first. It reads the segments that exist now,
 * each up to its end when it is reached, so a log being written is fine: an incomplete last line
 * is skipped (counted as torn). Segments deleted by the writer's cap in the meantime are
 * skipped. since_ms skips whole segments by their headers; last_n reads segments backwards from
 * the end (cost proportional to the records asked for, not to the log). With both, the last_n
 * records are filtered by since_ms. o may be NULL. ERR_NOTFOUND if dir does not exist, ERR_IO.
 */
int infer_reader_open(struct infer_reader **out, const char *dir,
		      const struct infer_reader_options *o, struct error *err);

/*
 * The next record into *out: 1, or 0 at the end. Damaged lines are skipped and counted, never
 * an error; a negative code means the log could not be read (ERR_IO).
 */
int infer_reader_next(struct infer_reader *r, struct infer_entry *out, struct error *err);

struct infer_read_stats {
	uint64_t records;	    /* yielded */
	uint64_t segments;	    /* opened */
	uint64_t segments_vanished; /* listed, then deleted before being read */
	uint64_t torn_bytes;	    /* unterminated last lines: a crash, or a write in progress */
	uint64_t bad_lines;	    /* complete lines skipped: checksum, framing, not a record */
	uint64_t bad_bytes;	    /* their bytes, newlines included */
};

void infer_reader_stats(const struct infer_reader *r, struct infer_read_stats *out);

void infer_reader_free(struct infer_reader *r);

/*
 * CRC32C (Castagnoli, reflected, as iSCSI/ext4/SSE4.2 compute it) of len bytes, from crc 0:
 * with SSE4.2's crc32 instruction where the CPU has it, else the portable version (a table,
 * slicing by 8), which gives the same values everywhere.
 */
uint32_t infer_log_crc32c(const void *data, size_t len);
uint32_t infer_log_crc32c_portable(const void *data, size_t len);

#endif
