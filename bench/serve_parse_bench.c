/*
 * Inference request parsing and response writing (api/serve_input.h), per protocol, for a 1-row
 * and a 100-row request of 20 numeric features: ns per request for parse, write and both, with
 * one serve_input reused as a server thread would (and once with a fresh one per request), and
 * jansson's json_loadb on the same JSON bodies for scale. A benchmark, not a test.
 *
 * usage: serve_parse_bench [SECONDS_PER_CASE]
 */
#include "util/common.h"
#include "api/serve_input.h"
#include "util/strbuf.h"

#include <jansson.h>
#include <time.h>

#define NFEAT 20

enum body_kind {
	SPLIT,
	RECORDS,
	CSV,
	OIP,
	KSERVE
};

static const char *const kind_names[] = { "mlflow dataframe_split", "mlflow dataframe_records",
					  "mlflow text/csv", "oip v2 [n, 20] FP64",
					  "kserve v1 instances" };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Feature values shaped like the breast-cancer data: 4 significant digits, varied scales. */
static double feature(size_t row, size_t col)
{
	static const double scale[] = { 10, 100, 1000, 0.1, 1 };
	uint64_t h = (row * 31 + col + 1) * UINT64_C(0x9e3779b97f4a7c15);

	return (double)(h >> 40) / (double)(1 << 24) * scale[col % 5];
}

static void add_value(struct strbuf *sb, size_t r, size_t c)
{
	strbuf_addf(sb, "%.4g", feature(r, c));
}

static void make_body(struct strbuf *sb, enum body_kind kind, size_t nrows)
{
	strbuf_reset(sb);
	switch (kind) {
	case SPLIT:
		strbuf_addstr(sb, "{\"dataframe_split\": {\"columns\": [");
		for (size_t c = 0; c < NFEAT; c++)
			strbuf_addf(sb, "%s\"feature_%zu\"", c ? ", " : "", c);
		strbuf_addstr(sb, "], \"data\": [");
		for (size_t r = 0; r < nrows; r++) {
			strbuf_addstr(sb, r ? ", [" : "[");
			for (size_t c = 0; c < NFEAT; c++) {
				if (c)
					strbuf_addstr(sb, ", ");
				add_value(sb, r, c);
			}
			strbuf_addch(sb, ']');
		}
		strbuf_addstr(sb, "]}}");
		break;
	case RECORDS:
		strbuf_addstr(sb, "{\"dataframe_records\": [");
		for (size_t r = 0; r < nrows; r++) {
			strbuf_addstr(sb, r ? ", {" : "{");
			for (size_t c = 0; c < NFEAT; c++) {
				strbuf_addf(sb, "%s\"feature_%zu\": ", c ? ", " : "", c);
				add_value(sb, r, c);
			}
			strbuf_addch(sb, '}');
		}
		strbuf_addstr(sb, "]}");
		break;
	case CSV:
		for (size_t c = 0; c < NFEAT; c++)
			strbuf_addf(sb, "%sfeature_%zu", c ? "," : "", c);
		strbuf_addch(sb, '\n');
		for (size_t r = 0; r < nrows; r++) {
			for (size_t c = 0; c < NFEAT; c++) {
				if (c)
					strbuf_addch(sb, ',');
				add_value(sb, r, c);
			}
			strbuf_addch(sb, '\n');
		}
		break;
	case OIP:
		strbuf_addf(sb,
			    "{\"id\": \"req-1\", \"inputs\": [{\"name\": \"input-0\", \"shape\": "
			    "[%zu, %d], \"datatype\": \"FP64\", \"data\": [",
			    nrows, NFEAT);
		for (size_t r = 0; r < nrows; r++)
			for (size_t c = 0; c < NFEAT; c++) {
				if (r || c)
					strbuf_addstr(sb, ", ");
				add_value(sb, r, c);
			}
		strbuf_addstr(sb, "]}]}");
		break;
	case KSERVE:
		strbuf_addstr(sb, "{\"instances\": [");
		for (size_t r = 0; r < nrows; r++) {
			strbuf_addstr(sb, r ? ", [" : "[");
			for (size_t c = 0; c < NFEAT; c++) {
				if (c)
					strbuf_addstr(sb, ", ");
				add_value(sb, r, c);
			}
			strbuf_addch(sb, ']');
		}
		strbuf_addstr(sb, "]}");
		break;
	}
}

static int parse(struct serve_input *in, enum body_kind kind, const struct strbuf *body,
		 struct serve_error *e)
{
	switch (kind) {
	case SPLIT:
	case RECORDS:
		return serve_parse_mlflow(in, "application/json", body->buf, body->len, e);
	case CSV:
		return serve_parse_mlflow(in, "text/csv", body->buf, body->len, e);
	case OIP:
		return serve_parse_oip(in, body->buf, body->len, e);
	case KSERVE:
		return serve_parse_kserve_v1(in, body->buf, body->len, e);
	}
	return -1;
}

static int write_answer(struct strbuf *out, enum body_kind kind, const struct serve_output *o,
			const struct serve_input *in, struct serve_error *e)
{
	strbuf_reset(out);
	if (kind == OIP)
		return serve_write_oip(out, o, in, e);
	if (kind == KSERVE)
		return serve_write_kserve_v1(out, o, in, e);
	return serve_write_mlflow(out, o, in, e);
}

enum what {
	PARSE,
	WRITE,
	BOTH,
	BOTH_FRESH,
	JANSSON
};

/* Best of 5 runs of about secs/5 each: ns per request. */
static double measure(enum what what, enum body_kind kind, const struct strbuf *body,
		      const struct serve_output *o, double secs)
{
	struct serve_input in = SERVE_INPUT_INIT;
	struct serve_error e = SERVE_ERROR_INIT;
	struct strbuf out = STRBUF_INIT;
	double best = 1e30;

	if (parse(&in, kind, body, &e) || write_answer(&out, kind, o, &in, &e)) {
		fprintf(stderr, "bench: %s: %s\n", kind_names[kind], e.msg);
		exit(1);
	}
	for (int run = 0; run < 5; run++) {
		double start = now(), elapsed;
		size_t n = 0;

		do {
			for (int i = 0; i < 64; i++) {
				int rc = 0;

				switch (what) {
				case PARSE:
					rc = parse(&in, kind, body, &e);
					break;
				case WRITE:
					rc = write_answer(&out, kind, o, &in, &e);
					break;
				case BOTH:
					rc = parse(&in, kind, body, &e) ||
					     write_answer(&out, kind, o, &in, &e);
					break;
				case BOTH_FRESH: {
					struct serve_input fresh = SERVE_INPUT_INIT;

					rc = parse(&fresh, kind, body, &e) ||
					     write_answer(&out, kind, o, &fresh, &e);
					serve_input_release(&fresh);
					break;
				}
				case JANSSON: {
					json_t *j = json_loadb(body->buf, body->len, 0, NULL);

					rc = !j;
					json_decref(j);
					break;
				}
				}
				if (rc)
					exit(1);
			}
			n += 64;
			elapsed = now() - start;
		} while (elapsed < secs / 5);
		if (elapsed / (double)n * 1e9 < best)
			best = elapsed / (double)n * 1e9;
	}
	serve_input_release(&in);
	strbuf_release(&out);
	return best;
}

int main(int argc, char **argv)
{
	static const char *const classes[] = { "no", "yes" };
	static const size_t sizes[] = { 1, 100 };
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct strbuf body = STRBUF_INIT;
	size_t label[100];
	double proba[200];
	struct serve_output o = { 0 };

	for (size_t i = 0; i < 100; i++) {
		proba[2 * i] = feature(i, 99) / 10;
		proba[2 * i + 1] = 1 - proba[2 * i];
		label[i] = proba[2 * i + 1] > 0.5;
	}
	o.nclasses = 2;
	o.classes = classes;
	o.label = label;
	o.proba = proba;
	o.model_name = "bc";
	o.model_version = "1";
	printf(
	    "ns per request, best of 5; a classifier's answer (labels; OIP adds predict_proba)\n");
	printf("%-26s %5s %6s %8s %8s %8s %8s %8s\n", "request", "rows", "bytes", "parse", "write",
	       "both", "fresh", "jansson");
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		o.nrows = sizes[s];
		for (int k = SPLIT; k <= KSERVE; k++) {
			make_body(&body, k, sizes[s]);
			printf("%-26s %5zu %6zu %8.0f %8.0f %8.0f %8.0f", kind_names[k], sizes[s],
			       body.len, measure(PARSE, k, &body, &o, secs),
			       measure(WRITE, k, &body, &o, secs),
			       measure(BOTH, k, &body, &o, secs),
			       measure(BOTH_FRESH, k, &body, &o, secs));
			if (k == CSV)
				printf(" %8s\n", "-");
			else
				printf(" %8.0f\n", measure(JANSSON, k, &body, &o, secs));
		}
	}
	strbuf_release(&body);
	return 0;
}
