/* libFuzzer target: the CSV reader, then the table loader and a profile, on arbitrary bytes. */
#include "util/common.h"
#include "table/csv.h"
#include "table/profile.h"
#include "table/table_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table_options opts = { (const char *const[]){ "NA" }, 1, NULL };
	struct error err = ERROR_INIT;
	struct csv_reader *r = NULL;
	const struct csv_field *f;
	struct table *t = NULL;
	struct profile *p = NULL;

	csv_buffer_size = size % 2 ? 7 : 64; /* tiny buffers: records cross refills everywhere */
	table_split_min_bytes = size % 3 ? SIZE_MAX : 0; /* and a third loads in two halves */
	if (!csv_open_buffer(&r, "fuzz", data, size, &err))
		while (csv_next(&f, r, &err) == 1)
			for (size_t j = 0; j < csv_ncols(r); j++)
				if (strlen(f[j].str) != f[j].len || !f[j].line || !f[j].col)
					abort(); /* fields are NUL-terminated and placed */
	csv_free(r);
	if (table_load_buffer(&t, "fuzz", data, size, &opts, &err))
		return strncmp(err.msg, "fuzz", 4) ? (abort(), 0) : 0; /* errors name the input */
	json_decref(profile_compute(&p, t, NULL, &err) ? (abort(), NULL) : profile_to_json(p));
	profile_free(p);
	table_free(t);
	return 0;
}
