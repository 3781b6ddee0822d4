/*
 * Private to src/api/serve_*.c: the per-request arena, the JSON tape the parsers walk, the row
 * builders the three protocols share, and error helpers.
 */
#ifndef FERRY_API_SERVE_INTERNAL_H
#define FERRY_API_SERVE_INTERNAL_H

#include "api/serve_input.h"

#include <stdint.h>

/*
 * The JSON tape: every value is one node, in document order. A container's children follow it,
 * and end is the index just past its last descendant, so siblings are reached in O(1) by
 * jumping to end (a scalar's end is its own index + 1). An object's children alternate key
 * (a string node) and value.
 */
enum sj_type {
	SJ_NULL,
	SJ_FALSE,
	SJ_TRUE,
	SJ_NUMBER,
	SJ_STRING,
	SJ_ARRAY,
	SJ_OBJECT
};

enum sj_flags {
	SJ_INTEGER = 1 << 0, /* a number written without fraction or exponent */
	SJ_NAN = 1 << 1,     /* Python's NaN literal (v.num is NaN) */
};

/* Python's json reads NaN, Infinity and -Infinity: only MLflow, served by Python, accepts them. */
#define SJ_NONSTANDARD 1u

#define SJ_NONE UINT32_MAX

struct sj_node {
	uint8_t type, flags;
	uint16_t unused;
	uint32_t end;
	union {
		double num;	/* SJ_NUMBER: ±inf when beyond the double range */
		uint64_t count; /* containers: elements, or members of an object */
		struct {
			uint32_t off, len; /* SJ_STRING: text + off, unescaped, NUL-terminated */
		} s;
	} v;
};

struct sj_doc {
	const char *text;
	const struct sj_node *nodes;
	size_t n;
};

struct serve_col {
	const char *name;
	uint32_t len, hash;
	size_t seen_row; /* row + 1 that last set this column: duplicate keys in a row */
};

/* Owned by a serve_input; see serve_input.c. */
struct serve_block;

struct serve_mem {
	struct serve_block *blocks; /* newest first */
	struct sj_node *tape;
	size_t tape_alloc;
	struct serve_col *cols; /* the column index the builders share */
	size_t ncols, cols_alloc;
	uint32_t *slots; /* open addressing over cols: index + 1, 0 = empty */
	size_t nslots, slots_alloc;
	int length_mismatch;	 /* a builder failed on columns of different lengths */
	struct serve_cell *grow; /* CSV: cells while the row count is unknown */
	size_t grow_alloc;
};

/* Drops *in's content and empties its arena (keeping memory) for a new parse. */
void serve_input_reset(struct serve_input *in);
/* Drops *in's content only: what a failed parse leaves. */
void serve_input_empty(struct serve_input *in);

/* size bytes from in's arena, 16-byte aligned, not zeroed; never NULL. */
void *serve_alloc(struct serve_input *in, size_t size);
/* A NUL-terminated copy of s[0..len) in the arena. */
char *serve_strndup(struct serve_input *in, const char *s, size_t len);

/*
 * Parses body into the tape (kept in in->mem) over an arena copy of body whose strings are
 * unescaped in place. flags: SJ_NONSTANDARD. On failure, e->msg holds a message such as
 * "expected a value: line 1 column 5 (char 4)"; ERR_INVALID, or ERR_TOOBIG past
 * SERVE_MAX_VALUES. e's status fields are not touched.
 */
int sj_parse(struct sj_doc *out, struct serve_input *in, const char *body, size_t len,
	     unsigned flags, struct serve_error *e);

static inline const char *sj_str(const struct sj_doc *d, uint32_t i)
{
	return d->text + d->nodes[i].v.s.off;
}

/*
 * The values of obj's members keys[0..n) into out[] (SJ_NONE for those absent); other keys are
 * skipped. Returns the index of a key that appears twice, or -1.
 */
int sj_members(const struct sj_doc *d, uint32_t obj, const char *const *keys, size_t n,
	       uint32_t *out);
/* "a list", "an object", "a string", "a number", "a boolean", "null": for messages. */
const char *sj_type_name(const struct sj_doc *d, uint32_t i);
/* Python's type() of a JSON value: "<class 'list'>", "<class 'dict'>", ... */
const char *sj_python_type(const struct sj_doc *d, uint32_t i);

/*
 * Column index over names that live as long as the request (not copied), emptied by
 * serve_input_reset: serve_col_find returns a column's index or -1; serve_col_intern returns
 * the index of name, appending it (*added = 1) if it is new.
 */
long serve_col_find(struct serve_input *in, const char *name, size_t len);
size_t serve_col_intern(struct serve_input *in, const char *name, size_t len, int *added);
/* Room for n more columns without regrowing (n is a hint: more may still be added). */
void serve_cols_reserve(struct serve_input *in, size_t n);
/* Copies the index's names into in->names (arena). */
void serve_cols_publish(struct serve_input *in);

/* nrows x ncols zeroed (null) cells in the arena as in->cells; ERR_TOOBIG past SERVE_MAX_CELLS. */
int serve_cells_alloc(struct serve_input *in, size_t nrows, size_t ncols, struct serve_error *e);

/*
 * Row builders over a JSON list of rows at arr, path naming it in messages ("instances").
 * Messages go to e->msg only (the caller words the protocol's error around them):
 * "instances[1] has 3 values, expected 2". Rows may be lists (positional, or named by names /
 * nnames when given), objects (named; with SERVE_ROWS_ALL_KEYS each row must have every column,
 * else missing keys are null) or scalars (one positional column); all rows of one kind.
 */
enum serve_rows_flags {
	SERVE_ROWS_ALL_KEYS = 1 << 0,
};

int serve_rows(struct serve_input *in, const struct sj_doc *d, uint32_t arr, const char *path,
	       unsigned flags, struct serve_error *e);

/*
 * An object of columns {"a": [1, 2], "b": [3, 4]} at obj: each value a list of scalars, all of
 * one length. Both builders set in->mem->length_mismatch when they fail on columns of different
 * lengths (MLflow has a message of its own for that).
 */
int serve_columns(struct serve_input *in, const struct sj_doc *d, uint32_t obj, const char *path,
		  struct serve_error *e);

/*
 * One JSON scalar into a cell; path and row/column describe it for messages. ERR_INVALID for
 * containers and infinite numbers.
 */
int serve_cell_from_json(struct serve_cell *c, const struct sj_doc *d, uint32_t i,
			 struct serve_error *e, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Errors. serve_fail sets every field of e for protocol p and returns code; the status follows
 * from the protocol and code. serve_fail_wrap rewrites e->msg as fmt with its old text as the
 * single %s.
 */
int serve_fail(struct serve_error *e, enum serve_protocol p, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int serve_fail_wrap(struct serve_error *e, enum serve_protocol p, int code, const char *fmt);
/* e->msg = the message, keeping its protocol fields (builders' detail messages). */
int serve_detail(struct serve_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* At most this many bytes of a request's key or name appear in a message. */
#define SERVE_NAME_IN_MSG 64

/* JSON string output: s[0..len) escaped (UTF-8 passes through), with or without quotes. */
void serve_json_escape(struct strbuf *sb, const char *s, size_t len);
void serve_json_string(struct strbuf *sb, const char *s, size_t len);

#endif
