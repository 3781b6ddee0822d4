/*
 * The inference server's wire formats: parsers of the MLflow scoring protocol, the Open Inference
 * Protocol v2 and KServe v1 into one protocol-neutral batch of rows, and writers of each
 * protocol's success and error bodies. No I/O and no model here: the handlers glue these around
 * a prediction.
 */
#ifndef FERRY_API_SERVE_INPUT_H
#define FERRY_API_SERVE_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

enum serve_protocol {
	SERVE_MLFLOW,	 /* POST /invocations (mlflow models serve, 2.x) */
	SERVE_OIP,	 /* POST /v2/models/{name}[/versions/{v}]/infer */
	SERVE_KSERVE_V1, /* POST /v1/models/{name}:predict */
};

/*
 * Limits on one request, beyond the server's cap on body bytes: JSON nesting (checked while
 * parsing, without recursion, so no body can exhaust the stack), JSON values (each costs 16 bytes
 * of parse tape) and cells (40 bytes each). Tabular requests need a depth of 5 at most.
 */
#define SERVE_MAX_DEPTH 64
#define SERVE_MAX_VALUES (1u << 22)
#define SERVE_MAX_CELLS (1u << 22)

enum serve_cell_type {
	SERVE_CELL_NULL = 0, /* missing: JSON null, MLflow's NaN, a CSV NA token */
	SERVE_CELL_NUMBER,
	SERVE_CELL_STRING,
	SERVE_CELL_BOOL,
};

/*
 * One value. NUMBER: num is finite (infinite values and numbers beyond the double range are
 * refused by every parser). STRING: str is NUL-terminated valid UTF-8 without NULs, len bytes.
 * BOOL: b and num are 0 or 1. Fields a type does not use are 0 / NULL, except that CSV numbers
 * and booleans keep their text in str and len.
 */
struct serve_cell {
	enum serve_cell_type type;
	double num;
	const char *str;
	size_t len;
	int b;
};

/* Bits of serve_input.outputs: the OIP outputs a request named. */
enum serve_output_flags {
	SERVE_OUT_PREDICT = 1 << 0, /* "predict": labels or regression values */
	SERVE_OUT_PROBA = 1 << 1,   /* "predict_proba": class probabilities, [n, k] */
};

struct serve_mem;

/*
 * A parsed request: nrows x ncols cells, row-major. Everything it points to (names, cells,
 * strings, id) is owned by the input itself, in one arena per request, and stays valid until the
 * next parse into it or serve_input_release; nothing points into the request body.
 *
 * names: NULL when the request's columns are positional (rows as lists, an OIP [n, k] tensor,
 * dataframe_split without "columns"), else ncols distinct NUL-terminated names in request order.
 *
 * want_probabilities: the client asked for class probabilities. MLflow: "params":
 * {"predict_proba": true}; OIP: "outputs" absent (the spec returns every output by default) or
 * naming "predict_proba"; KServe v1 has no way in the body. A handler may also set it (for
 * instance from a "?predict_proba=true" query parameter, the same for all three protocols)
 * between parsing and writing.
 */
struct serve_input {
	size_t nrows, ncols;
	char **names;
	struct serve_cell *cells;
	char *id; /* OIP request "id" to echo, NULL if absent */
	int want_probabilities;
	unsigned outputs;      /* OIP: enum serve_output_flags named in "outputs"; 0 if none were */
	struct serve_mem *mem; /* private: the arena and scratch space, kept for reuse */
};

#define SERVE_INPUT_INIT                                                                           \
	{                                                                                          \
		0                                                                                  \
	}

/*
 * Frees everything the input owns and reinitialises it. NULL is fine. An input may instead be
 * parsed into again and again (one per server thread): each parse reuses the memory of the
 * previous one, so a steady stream of similar requests allocates nothing.
 */
void serve_input_release(struct serve_input *in);

/*
 * What went wrong with a request, ready to answer: status and content type to send, and the
 * message that serve_error_write renders in the protocol's error body. code is the negative
 * ERR_* the function returned: ERR_INVALID (400), ERR_TOOBIG (413 in OIP and KServe v1; MLflow
 * answers 400 BAD_REQUEST for everything it does not refuse by content type), ERR_UNSUPPORTED
 * (415, MLflow's content type checks). Messages repeat MLflow's own where MLflow has one.
 */
#define SERVE_ERROR_MSG_SIZE 2048

struct serve_error {
	int code;
	int status;
	enum serve_protocol protocol;
	const char *content_type; /* static: "application/json" or "text/plain" */
	char msg[SERVE_ERROR_MSG_SIZE];
};

#define SERVE_ERROR_INIT                                                                           \
	{                                                                                          \
		0                                                                                  \
	}

/*
 * Appends e's body: MLflow {"error_code": "BAD_REQUEST", "message": MSG} or, for 415, MSG as
 * plain text; OIP and KServe v1 {"error":MSG}.
 */
void serve_error_write(struct strbuf *body, const struct serve_error *e);

/*
 * Parsers. Each fills *out (released or reused: whatever it held is dropped) and returns 0, or
 * returns a negative ERR_* with e filled and *out holding no rows (its memory kept for reuse).
 * body need not be NUL-terminated and is not referenced afterwards. Every parser refuses an
 * empty batch (no rows) and rows without values, ragged rows, rows of different kinds (lists
 * and objects), nested values in cells, numbers beyond the double range, invalid UTF-8,
 * "\u0000" in strings, duplicate keys in objects it reads and JSON deeper than SERVE_MAX_DEPTH.
 * Keys a protocol does not define are ignored. Positions in messages are 0-based JSON paths
 * ("instances[1][0]"); JSON syntax errors give Python's "line L column C (char N)".
 */

/*
 * MLflow /invocations. content_type (the raw header, NULL if absent) is checked as MLflow
 * does: parameters other than "charset=utf-8" and types other than application/json and
 * text/csv are 415 text/plain. JSON: an object with exactly one of "dataframe_split" ({"columns",
 * "data", "index"}; columns [0, 1, ..] as pandas writes them for unnamed frames count as
 * positional), "dataframe_records" (objects: missing keys are null, as pandas does; lists;
 * scalars), "instances" (rows as lists, objects with the same keys, scalars; or an object of
 * columns) or "inputs" (the same), and optionally "params" (an object; "predict_proba" must be
 * a boolean, other keys are ignored as MLflow ignores params a model does not declare). Python's
 * json reads NaN, Infinity and -Infinity, so these parse too: NaN is a missing value, the
 * infinities are refused like any infinite cell. text/csv: a header and rows (table/csv.h's
 * dialect), typed per column as pandas.read_csv does: pandas' NA tokens are null, a column of
 * numbers stays numbers, of True/False booleans, anything else makes the whole column strings.
 * An empty first header name (DataFrame.to_csv() with its index) becomes "Unnamed: 0".
 */
int serve_parse_mlflow(struct serve_input *out, const char *content_type, const char *body,
		       size_t len, struct serve_error *e);

/*
 * OIP v2 inference request (strict JSON): "inputs" is a list of tensors {"name", "shape",
 * "datatype", "data", "parameters"?}; data flat or nested exactly as shape; every value must fit
 * its datatype (BOOL: true/false; INT* and UINT*: integral values in range, INT64 and UINT64
 * within a double's precision; FP16/FP32/FP64: numbers in range, or null as a missing value;
 * BYTES: strings). One tensor of shape [n, k] gives n rows of k positional columns; otherwise
 * each tensor is a column named after it, of shape [n] or [n, 1], all with the same n. "id"
 * must be a string; "outputs" a list of {"name", "parameters"?} naming "predict" or
 * "predict_proba"; "parameters" objects of strings, numbers and booleans.
 */
int serve_parse_oip(struct serve_input *out, const char *body, size_t len, struct serve_error *e);

/*
 * KServe v1 :predict (strict JSON): {"instances": [...]} or {"inputs": [...]} ("inputs" wins
 * when both are there, as KServe's server has it); rows are lists (positional), objects
 * (named; missing keys are null, as KServe's pandas concat gives) or scalars (one column).
 */
int serve_parse_kserve_v1(struct serve_input *out, const char *body, size_t len,
			  struct serve_error *e);

/*
 * A model's answer for nrows rows: regression values, or classification with a predicted class
 * index per row and optionally probabilities. Everything is borrowed.
 */
struct serve_output {
	size_t nrows;
	int regression;	 /* values only */
	size_t nclasses; /* classification */
	/* class labels as text, the model's own: "no", "yes" or "0", "1" */
	const char *const *classes;
	int numeric_labels;  /* labels were numbers in the training data: JSON numbers */
	const size_t *label; /* nrows predicted class indices */
	const double *proba; /* nrows x nclasses, or NULL */
	const double *value; /* nrows regression values */
	const char *model_name, *model_version; /* OIP; model_version may be NULL */
};

/*
 * Writers: append the protocol's success body for o, answering in (the parsed request; NULL
 * means no id and no probabilities), to body and return 0; or return ERR_INVALID with e filled
 * (body then holds a partial answer to discard) when probabilities are wanted
 * (in->want_probabilities; for OIP only when "outputs" names "predict_proba") and the model has
 * none to give.
 * Doubles are written as serve_format_double does ("0.1", "3.0", "1e-05"): exact, with the
 * digits of Python's repr for normal numbers; non-finite values as null. Numeric labels are written as JSON
 * numbers (their text when it is one), others as strings.
 *
 * MLflow: {"predictions": [labels or values]} (Python's separators, as MLflow writes it); with
 * want_probabilities one record per row, {"prediction": label, "probability_<class>": p, ...},
 * as pyfunc returns a DataFrame.
 * OIP: {"model_name","model_version"?,"id"?,"outputs":[...]}: "predict" (BYTES for text labels,
 * INT64 for integral numeric labels, FP64 for other numbers and for regression; shape [n]) and
 * "predict_proba" (FP64, shape [n, k], row-major). Without "outputs" in the request both are
 * written (a model without probabilities gives "predict" only); with it, the ones named.
 * "model_version" and "id" appear when set (the spec echoes the request's id "if any").
 * KServe v1: {"predictions":[labels or values]}, or with want_probabilities one list of
 * probabilities per row, as KServe's sklearn server answers in its predict_proba mode.
 */
int serve_write_mlflow(struct strbuf *body, const struct serve_output *o,
		       const struct serve_input *in, struct serve_error *e);
int serve_write_oip(struct strbuf *body, const struct serve_output *o, const struct serve_input *in,
		    struct serve_error *e);
int serve_write_kserve_v1(struct strbuf *body, const struct serve_output *o,
			  const struct serve_input *in, struct serve_error *e);

/*
 * The shortest of %.15g, %.16g and %.17g of a finite x that reads back to the same bits, with
 * ".0" added to integral values written without an exponent, as Python's repr has them ("3.0").
 * Between 1e-8 and 1e14 the digits come from exact integer arithmetic, not printf (which
 * costs about a microsecond a number). Returns the length.
 */
#define SERVE_DOUBLE_SIZE 32
size_t serve_format_double(char out[SERVE_DOUBLE_SIZE], double x);

#endif
