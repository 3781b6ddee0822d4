/* Fuzzes promotion gates: any bytes give a gate or a clean error with a message, a gate's
 * canonical text reads back as the same gate, and it evaluates and renders on made-up values
 * (ties, NaN, infinities) chosen by the metric name's length. */
#include "util/common.h"
#include "registry/gate.h"
#include "util/strbuf.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int value(void *ctx, bool champion, const char *name, double *out, struct error *err)
{
	static const double v[] = { 0.5, 0.5, NAN, INFINITY, -1, 1e308, 0.3 - 0.1, 0.2 };

	(void)ctx;
	(void)err;
	*out = v[(strlen(name) + champion) % ARRAY_SIZE(v)];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gate g = GATE_INIT, again = GATE_INIT;
	struct gate_result res = GATE_RESULT_INIT;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *s = xstrndup((const char *)data, size);

	if (!gate_parse(&g, s, &err)) {
		gate_format_expr(&g, &sb);
		if (gate_parse(&again, sb.buf, &err) || !gate_equal(&g, &again))
			BUG("'%s' reads back from '%s' differently: %s", s, sb.buf, err.msg);
		if (gate_eval(&g, value, NULL, &res, &err))
			BUG("gate_eval: %s", err.msg);
		gate_format_result(&g, &res, &sb);
	} else if (!err.msg[0] || (err.code != ERR_INVALID && err.code != ERR_TOOBIG)) {
		BUG("gate_parse failed (%d) without a message", err.code);
	}
	gate_result_release(&res);
	gate_release(&g);
	gate_release(&again);
	strbuf_release(&sb);
	free(s);
	return 0;
}
