/*
 * JSON text exactly as MLflow's Python server writes it (json.dumps with indent=2, or without
 * for errors), so clients and byte-comparing tests see the same bytes.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "util/strbuf.h"

#include <math.h>

json_t *mlflow_json_double(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

/* The shortest "%.*e" text that reads back as v: Python's repr digits. */
static void shortest_e(char *buf, size_t size, double v)
{
	for (int prec = 0; prec < 17; prec++) {
		snprintf(buf, size, "%.*e", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, size, "%.16e", v);
}

/* Python's float repr: fixed notation when -4 < decpt <= 16, else d.ddde+XX. */
static void add_double(struct strbuf *sb, double v)
{
	char buf[40], digits[24];
	size_t nd = 0;
	const char *p;
	int exp10, decpt;

	if (isnan(v) || isinf(v)) {
		strbuf_addstr(sb, isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	shortest_e(buf, sizeof(buf), v);
	p = buf;
	if (*p == '-') {
		strbuf_addch(sb, '-');
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p != '.' && nd < sizeof(digits) - 1)
			digits[nd++] = *p;
	digits[nd] = '\0';
	exp10 = *p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	decpt = exp10 + 1;
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			strbuf_addstr(sb, "0.");
			strbuf_addchars(sb, '0', (size_t)-decpt);
			strbuf_addstr(sb, digits);
		} else if ((size_t)decpt >= nd) {
			strbuf_addstr(sb, digits);
			strbuf_addchars(sb, '0', (size_t)decpt - nd);
			strbuf_addstr(sb, ".0");
		} else {
			strbuf_add(sb, digits, (size_t)decpt);
			strbuf_addch(sb, '.');
			strbuf_addstr(sb, digits + decpt);
		}
		return;
	}
	strbuf_addch(sb, digits[0]);
	if (nd > 1) {
		strbuf_addch(sb, '.');
		strbuf_addstr(sb, digits + 1);
	}
	strbuf_addf(sb, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
}

/* Decodes one UTF-8 sequence at s (jansson strings are valid UTF-8); returns its length. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		*cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) |
		      (s[2] & 0x3f);
		return 3;
	}
	*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
	      ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
	return 4;
}

/* Python's ensure_ascii escaping. */
static void add_string(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	strbuf_addch(sb, '"');
	while (p < end) {
		uint32_t cp;

		switch (*p) {
		case '"':
			strbuf_addstr(sb, "\\\"");
			p++;
			continue;
		case '\\':
			strbuf_addstr(sb, "\\\\");
			p++;
			continue;
		case '\n':
			strbuf_addstr(sb, "\\n");
			p++;
			continue;
		case '\r':
			strbuf_addstr(sb, "\\r");
			p++;
			continue;
		case '\t':
			strbuf_addstr(sb, "\\t");
			p++;
			continue;
		case '\b':
			strbuf_addstr(sb, "\\b");
			p++;
			continue;
		case '\f':
			strbuf_addstr(sb, "\\f");
			p++;
			continue;
		default:
			break;
		}
		if (*p >= 0x20 && *p < 0x80) {
			strbuf_addch(sb, *p++);
			continue;
		}
		p += utf8_decode(p, &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			strbuf_addf(sb, "\\u%04x\\u%04x", 0xd800 + (unsigned)(cp >> 10),
				    0xdc00 + (unsigned)(cp & 0x3ff));
		} else {
			strbuf_addf(sb, "\\u%04x", (unsigned)cp);
		}
	}
	strbuf_addch(sb, '"');
}

static void newline(struct strbuf *sb, int indent, int depth)
{
	if (indent < 0)
		return;
	strbuf_addch(sb, '\n');
	strbuf_addchars(sb, ' ', (size_t)indent * (size_t)depth);
}

static void write_value(struct strbuf *sb, const json_t *j, int indent, int depth);

static void write_object(struct strbuf *sb, const json_t *j, int indent, int depth)
{
	const char *key;
	json_t *v;
	int first = 1;

	if (!json_object_size(j)) {
		strbuf_addstr(sb, "{}");
		return;
	}
	strbuf_addch(sb, '{');
	json_object_foreach((json_t *)j, key, v) {
		if (!first)
			strbuf_addstr(sb, indent < 0 ? ", " : ",");
		first = 0;
		newline(sb, indent, depth + 1);
		add_string(sb, key, strlen(key));
		strbuf_addstr(sb, ": ");
		write_value(sb, v, indent, depth + 1);
	}
	newline(sb, indent, depth);
	strbuf_addch(sb, '}');
}

static void write_array(struct strbuf *sb, const json_t *j, int indent, int depth)
{
	size_t i;
	json_t *v;

	if (!json_array_size(j)) {
		strbuf_addstr(sb, "[]");
		return;
	}
	strbuf_addch(sb, '[');
	json_array_foreach(j, i, v) {
		if (i)
			strbuf_addstr(sb, indent < 0 ? ", " : ",");
		newline(sb, indent, depth + 1);
		write_value(sb, v, indent, depth + 1);
	}
	newline(sb, indent, depth);
	strbuf_addch(sb, ']');
}

static void write_value(struct strbuf *sb, const json_t *j, int indent, int depth)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		write_object(sb, j, indent, depth);
		break;
	case JSON_ARRAY:
		write_array(sb, j, indent, depth);
		break;
	case JSON_STRING:
		add_string(sb, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		strbuf_addf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		add_double(sb, json_real_value(j));
		break;
	case JSON_TRUE:
		strbuf_addstr(sb, "true");
		break;
	case JSON_FALSE:
		strbuf_addstr(sb, "false");
		break;
	case JSON_NULL:
		strbuf_addstr(sb, "null");
		break;
	}
}

void mlflow_json_write(struct strbuf *sb, const json_t *j, int indent)
{
	write_value(sb, j, indent, 0);
}
