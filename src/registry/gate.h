/*
 * Promotion gates: the condition a challenger version must meet against the current holder of
 * an alias (the champion) before `ferry models promote --gate "f1 >= champion - 0.01"` moves it.
 * Parsing, evaluation through a metric lookup the caller provides, and rendering for people.
 *
 * Grammar (keywords "and" and "champion" in any case, whitespace between tokens optional):
 *   gate   := cond { "and" cond }
 *   cond   := METRIC OP rhs
 *   rhs    := "champion" [ ("+" | "-") NUMBER ]  |  [ "+" | "-" ] NUMBER
 *   OP     := ">=" | ">" | "<=" | "<" | "==" | "!="
 *   METRIC := [A-Za-z_][A-Za-z0-9_.]*       (case kept; not checked against known metrics here)
 *   NUMBER := decimal, "0.9", ".5", "3", "1e-3"; finite (no nan, inf, hex or overflow)
 * A number ends at the first character that is not [A-Za-z0-9_.] (or a sign after its
 * exponent's 'e'), so "0.9and" is one bad number, not "0.9 and".
 *
 * Comparisons treat two values within GATE_EPSILON of each other (relative to the larger, and
 * absolute below 1) as equal: "f1 >= champion - 0.01" must pass for f1 0.84 against a champion
 * at 0.85 although 0.85 - 0.01 is not 0.84 in binary floating point, and "f1 > champion" asks
 * for a real improvement, not a rounding difference. Infinite values compare exactly. A NaN
 * anywhere (challenger, champion) fails the condition, whatever the operator, "!=" included.
 */
#ifndef FERRY_REGISTRY_GATE_H
#define FERRY_REGISTRY_GATE_H

#include <stdbool.h>
#include <stddef.h>

struct error;
struct strbuf;

/*
 * Limits of gate_parse: bytes of text (ERR_TOOBIG above), conditions, and bytes of a metric name
 * (MLflow's limit for metric keys). Together they keep gate_format_expr's canonical text, which
 * may be longer than what was typed ("a>1e5" is "a > 1e+05"), within GATE_MAX_LEN.
 */
#define GATE_MAX_LEN 16384
#define GATE_MAX_CONDS 32
#define GATE_MAX_METRIC 250
/* Relative tolerance of comparisons (see above). */
#define GATE_EPSILON 1e-12

enum gate_op {
	GATE_GE,
	GATE_GT,
	GATE_LE,
	GATE_LT,
	GATE_EQ,
	GATE_NE,
};

/* ">=", ">", "<=", "<", "==", "!=". */
const char *gate_op_name(enum gate_op op);

struct gate_cond {
	char *metric;
	enum gate_op op;
	bool champion; /* the right side is the champion's value of the same metric plus value */
	double value;  /* the constant, or the offset to the champion's value ("- 0.01": -0.01) */
};

/* Owns its conditions (at least one once parsed), in the order written. */
struct gate {
	struct gate_cond *conds;
	size_t nr, alloc;
};
#define GATE_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/*
 * Parses text (see the grammar above) into *out, which is untouched on failure. Errors are
 * ERR_INVALID "gate 'TEXT': column N: WHAT" with N the 1-based byte column where the problem
 * starts (one past the end for a missing token), TEXT cut to its first 200 bytes:
 *   expected a metric name
 *   expected an operator (>=, >, <=, <, == or !=)
 *   unknown operator '=>': expected >=, >, <=, <, == or !=
 *   expected a number or 'champion'
 *   expected a number after '-'                      (or '+')
 *   '1.2.3' is not a number
 *   number '1e999' is out of range
 *   expected '+', '-', 'and' or the end of the gate  (after "champion")
 *   expected 'and' or the end of the gate
 *   metric name longer than 250 bytes
 *   more than 32 conditions
 * and "gate is empty: expected conditions such as 'f1 >= champion and auc >= 0.9'" for an empty
 * or blank text (or NULL). ERR_TOOBIG for text longer than GATE_MAX_LEN.
 */
int gate_parse(struct gate *out, const char *text, struct error *err);

/* Frees the conditions and reinitialises g; a no-op on GATE_INIT or NULL. */
void gate_release(struct gate *g);

/* Whether any condition compares against the champion: without a champion the caller decides. */
bool gate_uses_champion(const struct gate *g);

/* Same conditions in the same order (numbers compared with ==). */
bool gate_equal(const struct gate *a, const struct gate *b);

/*
 * Appends the canonical text of g, which gate_parse reads back as the same gate:
 * "f1 >= champion - 0.01 and auc >= 0.9" (numbers as format_double writes them, util/parse.h).
 */
void gate_format_expr(const struct gate *g, struct strbuf *out);

/*
 * Looks up metric name for the challenger (champion false) or the champion (true) into *out;
 * NaN is a valid answer (the condition then fails). Returns 0 or a negative ERR_* with err
 * filled, e.g. ERR_INVALID "gate: metric 'f9' is not one of accuracy, f1, roc_auc" for a
 * metric it does not know, ERR_NOTFOUND when there is no champion.
 */
typedef int gate_metric_fn(void *ctx, bool champion, const char *name, double *out,
			   struct error *err);

struct gate_cond_result {
	double value;	  /* the challenger's */
	double champion;  /* the champion's; NaN when the condition does not use it */
	double threshold; /* what value was compared to: champion + offset, or the constant */
	bool pass;
};

/* One result per condition of the gate, in order; pass is their AND. */
struct gate_result {
	struct gate_cond_result *conds;
	size_t nr;
	bool pass;
};
#define GATE_RESULT_INIT                                                                           \
	{                                                                                          \
		NULL, 0, false                                                                     \
	}
void gate_result_release(struct gate_result *res);

/*
 * Evaluates g, asking metric (with ctx) for the challenger's value of each condition's metric
 * and, where the condition uses it, the champion's. A failed lookup ends the evaluation with
 * its code and message (ERR_NOTFOUND for a missing champion passes through unchanged); a
 * lookup that fails without a message gets "gate: no value for metric 'NAME'". *res is
 * replaced (release it first) only on success.
 */
int gate_eval(const struct gate *g, gate_metric_fn *metric, void *ctx, struct gate_result *res,
	      struct error *err);

/*
 * Appends one line per condition for people, numbers to 4 significant digits (more where two
 * numbers compared would otherwise look alike):
 *   "f1 0.8421 >= 0.8312 (champion 0.8412 - 0.01): pass\n"
 *   "f1 0.8421 >= 0.8412 (champion): pass\n"
 *   "auc 0.8734 >= 0.9: fail\n"
 * res must come from gate_eval of the same g.
 */
void gate_format_result(const struct gate *g, const struct gate_result *res, struct strbuf *out);

#endif
