/* libFuzzer target: the inference request parsers (first byte: protocol), then a checked walk. */
#include "util/common.h"
#include "api/serve_input.h"
#include "util/strbuf.h"

#include <math.h>

static void check(const struct serve_input *in, struct strbuf *sb)
{
	static const char *const classes[] = { "0", "1" };
	size_t label[4] = { 0 };
	struct serve_output o = { 4, 0, 2, classes, 1, label, NULL, NULL, "m", "1" };
	struct serve_error e = SERVE_ERROR_INIT;

	if (!in->nrows || !in->ncols || !in->cells || in->nrows > SERVE_MAX_CELLS / in->ncols)
		abort();
	for (size_t i = 0; in->names && i < in->ncols && i < 256; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(in->names[i], in->names[j]))
				abort(); /* names are distinct */
	for (size_t i = 0; i < in->nrows * in->ncols; i++) {
		const struct serve_cell *c = &in->cells[i];

		if ((c->type == SERVE_CELL_STRING && strlen(c->str) != c->len) ||
		    (c->type == SERVE_CELL_NUMBER && !isfinite(c->num)) ||
		    c->type > SERVE_CELL_BOOL)
			abort();
	}
	o.nrows = in->nrows < 4 ? in->nrows : 4;
	if ((serve_write_oip(sb, &o, in, &e) || serve_write_mlflow(sb, &o, in, &e) ||
	     serve_write_kserve_v1(sb, &o, in, &e)) &&
	    !e.msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve_input in = SERVE_INPUT_INIT;
	struct serve_error e = SERVE_ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	const char *body = (const char *)data + 1;
	int rc;

	if (!size--)
		return 0;
	if (data[0] % 4 == 0 || data[0] % 4 == 1)
		rc = serve_parse_mlflow(&in, data[0] % 4 ? "text/csv" : "application/json", body,
					size, &e);
	else
		rc = data[0] % 4 == 2 ? serve_parse_oip(&in, body, size, &e)
				      : serve_parse_kserve_v1(&in, body, size, &e);
	if (rc && (!e.msg[0] || e.code != rc || e.status < 400 || in.nrows || in.cells))
		abort(); /* an error always has a message and leaves no rows */
	if (rc)
		serve_error_write(&sb, &e);
	else
		check(&in, &sb);
	strbuf_release(&sb);
	serve_input_release(&in);
	return 0;
}
