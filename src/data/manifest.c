/*
 * Directory manifests: building, canonical serialisation and a strict parser. Every manifest the
 * parser accepts serialises back to exactly its input bytes, so a digest names one directory.
 */
#include "util/common.h"
#include "data/manifest.h"
#include "util/strbuf.h"

#define MANIFEST_HEADER "ferry-manifest 1\n"
#define MANIFEST_HEADER_LEN (sizeof(MANIFEST_HEADER) - 1)
#define QUOTE_MAX 80 /* bytes of a line quoted in an error message */

/* NULL if path is a safe relative path, else what is wrong with it. */
static const char *path_problem(const char *path)
{
	const char *p = path;

	if (!*path)
		return "is empty";
	if (*path == '/')
		return "is absolute";
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0)
			return "has an empty component";
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return "has a '.' or '..' component";
		if (!p[n])
			return NULL;
		p += n + 1;
	}
}

void manifest_add(struct manifest *m, const char *path, const char *hex, uint64_t size,
		  int executable)
{
	struct manifest_entry *e;

	if (strlen(hex) != SHA256_HEX_SIZE - 1)
		BUG("manifest_add: '%s' is not a hex digest", hex);
	ALLOC_GROW(m->items, m->nr + 1, m->alloc);
	e = &m->items[m->nr++];
	e->path = xstrdup(path);
	memcpy(e->hex, hex, SHA256_HEX_SIZE);
	e->size = size;
	e->executable = !!executable;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct manifest_entry *x = a, *y = b;

	return strcmp(x->path, y->path); /* compares as unsigned char: byte order */
}

void manifest_sort(struct manifest *m)
{
	size_t sorted = 1;

	/* Scans hand over entries already in order: checking is n comparisons, a sort n log n. */
	while (sorted < m->nr && strcmp(m->items[sorted - 1].path, m->items[sorted].path) < 0)
		sorted++;
	if (sorted >= m->nr)
		return;
	if (m->nr > 1)
		qsort(m->items, m->nr, sizeof(*m->items), entry_cmp);
	for (size_t i = 1; i < m->nr; i++)
		if (!strcmp(m->items[i - 1].path, m->items[i].path))
			BUG("duplicate path '%s' in a manifest", m->items[i].path);
}

static void add_escaped(struct strbuf *out, const char *path)
{
	for (;;) {
		size_t n = strcspn(path, "\\\n\t\r");

		strbuf_add(out, path, n);
		path += n;
		switch (*path++) {
		case '\0':
			return;
		case '\\':
			strbuf_add(out, "\\\\", 2);
			break;
		case '\n':
			strbuf_add(out, "\\n", 2);
			break;
		case '\t':
			strbuf_add(out, "\\t", 2);
			break;
		default:
			strbuf_add(out, "\\r", 2);
			break;
		}
	}
}

/* Appends v in decimal: no printf in a loop that runs once per file. */
static void add_u64(struct strbuf *out, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	strbuf_add(out, buf + i, sizeof(buf) - i);
}

void manifest_serialize(const struct manifest *m, struct strbuf *out)
{
	size_t guess = MANIFEST_HEADER_LEN;

	for (size_t i = 0; i < m->nr; i++)
		guess += SHA256_HEX_SIZE + 10 + 5 + strlen(m->items[i].path);
	strbuf_grow(out, guess);
	strbuf_add(out, MANIFEST_HEADER, MANIFEST_HEADER_LEN);
	for (size_t i = 0; i < m->nr; i++) {
		const struct manifest_entry *e = &m->items[i];
		const char *problem = path_problem(e->path);

		if (problem)
			BUG("manifest path '%s' %s", e->path, problem);
		if (i && strcmp(m->items[i - 1].path, e->path) >= 0)
			BUG("manifest not sorted at '%s'", e->path);
		strbuf_add(out, e->hex, SHA256_HEX_SIZE - 1);
		strbuf_addch(out, ' ');
		add_u64(out, e->size);
		strbuf_add(out, e->executable ? " 755 " : " 644 ", 5);
		add_escaped(out, e->path);
		strbuf_addch(out, '\n');
	}
}

uint64_t manifest_total_size(const struct manifest *m)
{
	uint64_t total = 0;

	for (size_t i = 0; i < m->nr; i++)
		total += m->items[i].size;
	return total;
}

/* Binary search among the first nr entries. */
static const struct manifest_entry *find_in(const struct manifest_entry *items, size_t nr,
					    const char *path)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(items[mid].path, path);

		if (!c)
			return &items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct manifest_entry *manifest_find(const struct manifest *m, const char *path)
{
	return find_in(m->items, m->nr, path);
}

void manifest_release(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr; i++)
		free(m->items[i].path);
	free(m->items);
	m->items = NULL;
	m->nr = m->alloc = 0;
}

/* Where the parser is: the input's name and line, for messages. */
struct parse_state {
	const char *name;
	size_t lineno;
	const char *line; /* the current line, without its '\n' */
	size_t len;
};

__attribute__((format(printf, 3, 4))) static int
bad(struct error *err, const struct parse_state *ps, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(err, ERR_INVALID, "%s:%zu: %s", ps->name, ps->lineno, msg);
}

static int is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Reads "<digits> " at *p: no sign, no leading zero unless the number is 0, no overflow. */
static int parse_size(uint64_t *out, const char **p, const char *end)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] != ' '))
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (s == end || *s != ' ')
		return -1;
	*out = v;
	*p = s + 1;
	return 0;
}

static const char *raw_byte_name(char c)
{
	return c == '\0' ? "NUL" : c == '\t' ? "tab" : "carriage return";
}

/* Unescapes the path field [p, end) into out (a new string). */
static int parse_path(char **out, const char *p, const char *end, const struct parse_state *ps,
		      struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	strbuf_grow(&sb, (size_t)(end - p));
	for (; p < end; p++) {
		char c = *p;

		if (c == '\0' || c == '\t' || c == '\r') {
			rc = bad(err, ps, "path has a raw %s byte; it must be escaped or absent",
				 raw_byte_name(c));
			goto out;
		}
		if (c == '\\') {
			if (++p == end) {
				rc = bad(err, ps, "path ends with a lone backslash");
				goto out;
			}
			switch (*p) {
			case '\\':
				c = '\\';
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			default:
				rc = bad(err, ps, "path has an unknown escape '\\%c'", *p);
				goto out;
			}
		}
		strbuf_addch(&sb, c);
	}
	*out = strbuf_detach(&sb, NULL);
out:
	strbuf_release(&sb);
	return rc;
}

/* The path "a/b/c" inside a file entry "a" or "a/b", which no directory can contain. */
static int check_parents(const struct manifest *m, const char *path, const struct parse_state *ps,
			 struct error *err)
{
	for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		char *parent = xstrndup(path, (size_t)(slash - path));
		int clash = find_in(m->items, m->nr, parent) != NULL;

		free(parent);
		if (clash)
			return bad(err, ps, "'%.*s' is inside '%.*s', which is a file", QUOTE_MAX,
				   path, (int)(slash - path), path);
	}
	return 0;
}

/* Parses one entry line into m, checking it sorts after the previous entry. */
static int parse_entry(struct manifest *m, uint64_t *total, const struct parse_state *ps,
		       struct error *err)
{
	const char *p = ps->line, *end = ps->line + ps->len, *problem;
	char hex[SHA256_HEX_SIZE];
	char *path = NULL;
	uint64_t size;
	int exec, field_len, rc = 0;

	for (int i = 0; i < SHA256_HEX_SIZE - 1; i++)
		if (p + i >= end || !is_hex_digit(p[i])) {
			rc = bad(err, ps, "expected a 64-digit lowercase hex digest");
			goto out;
		}
	memcpy(hex, p, SHA256_HEX_SIZE - 1);
	hex[SHA256_HEX_SIZE - 1] = '\0';
	p += SHA256_HEX_SIZE - 1;
	if (p == end || *p++ != ' ') {
		rc = bad(err, ps, "expected a space after the digest");
		goto out;
	}
	if (parse_size(&size, &p, end)) {
		rc = bad(err, ps, "expected a size in bytes (digits, no leading zeros)");
		goto out;
	}
	if (end - p < 4 || (memcmp(p, "644 ", 4) && memcmp(p, "755 ", 4))) {
		rc = bad(err, ps, "expected mode 644 or 755");
		goto out;
	}
	exec = p[0] == '7';
	p += 4;
	/* messages quote the field as written: escaped, so on one line */
	field_len = end - p < QUOTE_MAX ? (int)(end - p) : QUOTE_MAX;
	rc = parse_path(&path, p, end, ps, err);
	if (rc)
		goto out;
	problem = path_problem(path);
	if (problem) {
		rc = bad(err, ps, "path '%.*s' %s", field_len, p, problem);
		goto out;
	}
	if (m->nr) {
		int c = strcmp(m->items[m->nr - 1].path, path);

		if (c == 0) {
			rc = bad(err, ps, "duplicate path '%.*s'", field_len, p);
			goto out;
		}
		if (c > 0) {
			rc = bad(err, ps,
				 "path '%.*s' is out of order (entries are sorted by bytes)",
				 field_len, p);
			goto out;
		}
	}
	rc = check_parents(m, path, ps, err);
	if (rc)
		goto out;
	if (size > UINT64_MAX - *total) {
		rc = bad(err, ps, "the sizes add up to more than 2^64 bytes");
		goto out;
	}
	*total += size;
	ALLOC_GROW(m->items, m->nr + 1, m->alloc);
	m->items[m->nr].path = path;
	memcpy(m->items[m->nr].hex, hex, SHA256_HEX_SIZE);
	m->items[m->nr].size = size;
	m->items[m->nr].executable = exec;
	m->nr++;
	path = NULL;
out:
	free(path);
	return rc;
}

int manifest_parse(struct manifest *out, const char *name, const char *buf, size_t len,
		   struct error *err)
{
	struct manifest m = MANIFEST_INIT;
	struct parse_state ps = { name, 1, buf, 0 };
	const char *p = buf, *end = buf + len;
	uint64_t total = 0;
	int rc = 0;

	if (len > MANIFEST_MAX_SIZE) {
		rc = error_set(err, ERR_TOOBIG, "%s: manifest is larger than %lu bytes", name,
			       MANIFEST_MAX_SIZE);
		goto out;
	}
	if (len < MANIFEST_HEADER_LEN || memcmp(buf, MANIFEST_HEADER, MANIFEST_HEADER_LEN)) {
		rc = bad(err, &ps, "expected the header 'ferry-manifest 1'");
		goto out;
	}
	p += MANIFEST_HEADER_LEN;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		ps.lineno++;
		ps.line = p;
		if (!nl) {
			rc = bad(err, &ps, "the last line does not end with a newline");
			goto out;
		}
		ps.len = (size_t)(nl - p);
		rc = parse_entry(&m, &total, &ps, err);
		if (rc)
			goto out;
		p = nl + 1;
	}
	manifest_release(out);
	*out = m;
	m = (struct manifest)MANIFEST_INIT;
out:
	manifest_release(&m);
	return rc;
}
