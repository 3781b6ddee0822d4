/* libFuzzer target: json_load_buffer on arbitrary bytes, then a walk of whatever it accepted. */
#include "util/common.h"
#include "util/json.h"

static void walk(json_t *j)
{
	const char *key;
	json_t *v;

	if (json_is_object(j))
		json_object_foreach(j, key, v)
			walk(v);
	for (size_t i = 0; i < json_array_size(j); i++)
		walk(json_array_get(j, i));
	if (json_is_string(j) && strlen(json_string_value(j)) != json_string_length(j))
		abort(); /* a NUL inside a string must have been rejected */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = ERROR_INIT;
	json_t *j = NULL;

	if (json_load_buffer(&j, "fuzz", (const char *)data, size, &err))
		return strncmp(err.msg, "fuzz:", 5) ? (abort(), 0) : 0; /* errors name the input */
	walk(j);
	free(json_dumps_compact(j));
	json_decref(j);
	return 0;
}
