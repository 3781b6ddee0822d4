/* Fuzzes the ferry.lock reader: any bytes must give a lock file or an error, and whatever it
 * accepts must serialise to text that reads back and serialises to the same bytes. */
#include "util/common.h"
#include "pipeline/lock.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lockfile lf = LOCKFILE_INIT, back = LOCKFILE_INIT;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct error err = ERROR_INIT;

	if (lock_parse(&lf, "f", (const char *)data, size, &err))
		return 0;
	lock_serialize(&lf, &a);
	if (lock_parse(&back, "again", a.buf, a.len, &err))
		BUG("serialised lock file does not read back: %s\n%s", err.msg, a.buf);
	lock_serialize(&back, &b);
	if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
		BUG("lock file does not round-trip");
	lockfile_release(&lf);
	lockfile_release(&back);
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
