/* Fuzzes pointer files (PATH.ferry): any bytes give a pointer or a clean error, and a pointer
 * that was read survives being written and read again unchanged. */
#include "util/common.h"
#include "data/pointer.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pointer p = POINTER_INIT, again = POINTER_INIT;
	struct error err = ERROR_INIT;
	struct strbuf text = STRBUF_INIT;

	if (pointer_parse(&p, "fuzz.ferry", (const char *)data, size, &err) == 0) {
		pointer_format(&p, &text);
		if (pointer_parse(&again, "again.ferry", text.buf, text.len, &err))
			BUG("a pointer ferry wrote does not read back: %s", err.msg);
		if (strcmp(p.hex, again.hex) || p.size != again.size || p.is_dir != again.is_dir ||
		    p.nfiles != again.nfiles || (!p.desc != !again.desc) ||
		    (p.desc && strcmp(p.desc, again.desc)))
			BUG("pointer changed in a round trip");
	} else if (!err.msg[0]) {
		BUG("pointer_parse failed without a message");
	}
	strbuf_release(&text);
	pointer_release(&p);
	pointer_release(&again);
	return 0;
}
