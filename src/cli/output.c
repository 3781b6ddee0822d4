/* Result printing shared by commands: JSON for scripts, aligned fields for people. */
#include "util/common.h"
#include "cli/output.h"

void output_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	fflush(stdout);
}

static void print_scalar(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), stdout);
		break;
	case JSON_INTEGER:
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", stdout);
		break;
	case JSON_FALSE:
		fputs("false", stdout);
		break;
	case JSON_NULL:
		fputs("-", stdout);
		break;
	default:
		json_dumpf(v, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
}

void output_fields(const json_t *obj)
{
	const char *key;
	json_t *v;
	size_t width = 0;

	json_object_foreach((json_t *)obj, key, v)
		if (strlen(key) > width)
			width = strlen(key);
	json_object_foreach((json_t *)obj, key, v) {
		printf("%s:%*s ", key, (int)(width - strlen(key)), "");
		print_scalar(v);
		fputc('\n', stdout);
	}
}
