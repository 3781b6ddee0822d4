/* Fuzzes model references: any bytes give a reference or a clean error with a message, as a
 * models:/ URI (or path) and in the short form with and without a bare name, and what parses
 * reads back the same from its formatted text (the form it was written in). */
#include "util/common.h"
#include "registry/model_uri.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* form: -1 URI, 0 or 1 the short form with allow_bare_name */
static int parse(struct model_ref *out, const char *s, int form, struct error *err)
{
	return form < 0 ? model_uri_parse(out, s, err) : model_ref_parse_short(out, s, form, err);
}

static void round_trip(const char *s, int form)
{
	struct model_ref r = MODEL_REF_INIT, again = MODEL_REF_INIT;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	bool uri = form < 0 || !strncasecmp(s, MODEL_URI_SCHEME, strlen(MODEL_URI_SCHEME));

	if (parse(&r, s, form, &err)) {
		if (!err.msg[0] || (err.code != ERR_INVALID && err.code != ERR_UNSUPPORTED))
			BUG("'%s' refused (%d) without a message", s, err.code);
		return;
	}
	(uri ? model_ref_format : model_ref_format_short)(&r, &sb);
	if (parse(&again, sb.buf, form, &err) || !model_ref_equal(&r, &again))
		BUG("'%s' reads back from '%s' differently: %s", s, sb.buf, err.msg);
	model_ref_release(&r);
	model_ref_release(&again);
	strbuf_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);

	round_trip(s, -1);
	round_trip(s, 0);
	round_trip(s, 1);
	free(s);
	return 0;
}
