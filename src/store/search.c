/*
 * The backend-neutral half of search (store/search.h): releasing the AST, MLflow's page tokens,
 * max_results checks and LIKE-to-GLOB translation.
 */
#include "util/common.h"
#include "store/search.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <ctype.h>

void search_filter_release(struct search_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nr; i++) {
		struct search_cond *c = &f->items[i];

		free(c->key);
		free(c->str);
		for (size_t j = 0; j < c->nr_list; j++)
			free(c->list[j]);
		free(c->list);
	}
	free(f->items);
	memset(f, 0, sizeof(*f));
}

void search_orders_release(struct search_orders *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nr; i++)
		free(o->items[i].key);
	free(o->items);
	memset(o, 0, sizeof(*o));
}

/* Page tokens --------------------------------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(struct strbuf *out, const unsigned char *in, size_t len)
{
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		strbuf_addch(out, b64_alphabet[(v >> 18) & 63]);
		strbuf_addch(out, b64_alphabet[(v >> 12) & 63]);
		strbuf_addch(out, n > 1 ? b64_alphabet[(v >> 6) & 63] : '=');
		strbuf_addch(out, n > 2 ? b64_alphabet[v & 63] : '=');
	}
}

static int b64_value(int c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

/* Strict standard base64 with padding; -1 on anything else. */
static int b64_decode(struct strbuf *out, const char *in)
{
	size_t len = strlen(in);

	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value((unsigned char)in[i + k])) < 0)
				return -1;
		}
		strbuf_addch(out, (v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			strbuf_addch(out, ((v[1] & 15) << 4) | (v[2] >> 2));
		if (pad < 1)
			strbuf_addch(out, ((v[2] & 3) << 6) | v[3]);
	}
	return 0;
}

char *search_page_token_encode(int64_t offset)
{
	struct strbuf out = STRBUF_INIT;
	char json[64];
	int n;

	/* Python's json.dumps({"offset": N}): a space after the colon. */
	n = snprintf(json, sizeof(json), "{\"offset\": %" PRId64 "}", offset);
	b64_encode(&out, (const unsigned char *)json, (size_t)n);
	return strbuf_detach(&out, NULL);
}

/* Decoded bytes for a message: printable ASCII, at most 64 of them. */
static void printable(char *out, size_t size, const char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size && i < 64; i++)
		out[n++] = isprint((unsigned char)buf[i]) ? buf[i] : '?';
	out[n] = '\0';
}

/* The offset field: an integer, or a string holding one, as Python's int() takes them. */
static int token_offset(int64_t *out, const json_t *v, struct error *err)
{
	const char *s;
	char *end;
	long long n;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v)) {
		char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		error_set(err, ERR_INVALID, "Invalid page token, not stringable %.64s",
			  dump ? dump : "?");
		free(dump);
		return ERR_INVALID;
	}
	s = json_string_value(v);
	while (isspace((unsigned char)*s))
		s++;
	errno = 0;
	n = strtoll(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (end == s || *end || errno)
		return error_set(err, ERR_INVALID, "Invalid page token, not stringable %.64s",
				 json_string_value(v));
	*out = n;
	return 0;
}

int search_page_token_decode(int64_t *out, const char *token, struct error *err)
{
	struct strbuf raw = STRBUF_INIT;
	json_t *j = NULL, *v;
	char shown[80];
	char *dump = NULL;
	int64_t offset = 0;
	int rc;

	if (!token || !*token) {
		*out = 0;
		return 0;
	}
	if (b64_decode(&raw, token) < 0) {
		rc = error_set(err, ERR_INVALID, "Invalid page token, could not base64-decode");
		goto out;
	}
	j = json_loadb(raw.buf, raw.len, JSON_DECODE_ANY, NULL);
	if (!j) {
		printable(shown, sizeof(shown), raw.buf, raw.len);
		rc = error_set(err, ERR_INVALID, "Invalid page token, decoded value=%s", shown);
		goto out;
	}
	dump = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!dump)
		dump = xstrdup("?");
	v = json_is_object(j) ? json_object_get(j, "offset") : NULL;
	if (!v || json_is_null(v) || (json_is_integer(v) && json_integer_value(v) <= 0) ||
	    (json_is_string(v) && !*json_string_value(v))) {
		rc = error_set(err, ERR_INVALID, "Invalid page token, parsed value=%.100s", dump);
		goto out;
	}
	if ((rc = token_offset(&offset, v, err)) < 0)
		goto out;
	if (offset <= 0) {
		rc = error_set(err, ERR_INVALID, "Invalid page token, parsed value=%.100s", dump);
		goto out;
	}
	*out = offset;
	rc = 0;
out:
	free(dump);
	json_decref(j);
	strbuf_release(&raw);
	return rc;
}

int search_max_results(int64_t *out, int64_t max_results, struct error *err)
{
	if (max_results < 0)
		return error_set(err, ERR_INVALID,
				 "Invalid value for max_results. It must be a positive integer, "
				 "but got %" PRId64,
				 max_results);
	if (max_results > SEARCH_MAX_RESULTS_THRESHOLD)
		return error_set(err, ERR_INVALID,
				 "Invalid value for request parameter max_results. It must be at "
				 "most %d, but got value %" PRId64,
				 SEARCH_MAX_RESULTS_THRESHOLD, max_results);
	*out = max_results ? max_results : SEARCH_MAX_RESULTS_DEFAULT;
	return 0;
}

char *search_like_to_glob(const char *like)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_grow(&sb, strlen(like) + 8);
	for (const char *p = like; *p; p++) {
		switch (*p) {
		case '%':
			strbuf_addch(&sb, '*');
			break;
		case '_':
			strbuf_addch(&sb, '?');
			break;
		case '*':
		case '?':
		case '[':
			/* A one-character class matches the character itself. */
			strbuf_addch(&sb, '[');
			strbuf_addch(&sb, *p);
			strbuf_addch(&sb, ']');
			break;
		default:
			strbuf_addch(&sb, *p);
		}
	}
	return strbuf_detach(&sb, NULL);
}
