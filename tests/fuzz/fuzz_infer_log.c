/* Fuzzes the inference log reader: two option bytes (since, last N), then segment bytes (split
 * into two segments at a second header line). It must not crash, and every record it returns
 * must be a whole line whose CRC32C, recomputed here bit by bit, matches. */
#include "util/common.h"
#include "monitor/infer_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t crc32c(const uint8_t *p, size_t n, uint32_t c)
{
	while (n--)
		for (int k = (c ^= *p++, 0); k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	return ~c;
}

static void put(const char *dir, int seg, const uint8_t *data, size_t size)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%08d.log", dir, seg);
	if (!(fp = fopen(path, "wb")) || fwrite(data, 1, size, fp) != size || fclose(fp))
		BUG("cannot write '%s'", path);
}

static char dir[64];

static void cleanup(void)
{
	char path[128];

	for (int seg = 1; seg <= 2; seg++)
		unlink((snprintf(path, sizeof(path), "%s/%08d.log", dir, seg), path));
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t in_size)
{
	const uint8_t *data = in + (in_size >= 2 ? 2 : in_size);
	size_t size = in_size >= 2 ? in_size - 2 : 0;
	const uint8_t *second =
	    size ? memmem(data + 1, size - 1, "\n{\"type\":\"segment\"", 18) : 0;
	size_t split = second ? (size_t)(second - data) + 1 : size;
	struct infer_reader_options o = { size ? in[0] % 8 * 400 : 0, size ? in[1] % 8 : 0 };
	struct infer_reader *r = NULL;
	struct infer_entry e;
	struct error err = ERROR_INIT;
	char hex[9] = { 0 };
	int rc;

	if (!dir[0]) {
		/* tmpfs when there is one: files are written for every input */
		snprintf(dir, sizeof(dir), "%s/ferry-fuzz-XXXXXX",
			 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
		if (!mkdtemp(dir) || atexit(cleanup))
			BUG("cannot create '%s'", dir);
	}
	put(dir, 1, data, split);
	put(dir, 2, data + split, size - split);
	if (infer_reader_open(&r, dir, &o, &err))
		BUG("infer_reader_open: %s", err.msg);
	while ((rc = infer_reader_next(r, &e, &err)) > 0) {
		const uint8_t *seg = e.segment == 1 ? data : data + split;
		size_t len = e.segment == 1 ? split : size - split, end = e.offset + e.len;

		if (end + 10 > len || seg[end] != '\t' || seg[end + 9] != '\n' || !e.request_id)
			BUG("record at %u:%" PRIu64 " is not a whole line", e.segment, e.offset);
		memcpy(hex, seg + end + 1, 8);
		if (crc32c(seg + e.offset, e.len, ~0u) != strtoul(hex, NULL, 16))
			BUG("record at %u:%" PRIu64 " fails its checksum", e.segment, e.offset);
	}
	if (rc < 0)
		BUG("infer_reader_next: %s", err.msg);
	infer_reader_free(r);
	return 0;
}
