/* `ferry data profile FILE`: column types and summary statistics of a CSV file. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/cmd_profile.h"
#include "cli/ml_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "table/profile.h"
#include "table/table.h"
#include "util/progress.h"
#include "util/sha256.h"

#define TOP_SHOWN 5 /* most frequent values in the summary; --json has all --top of them */

static const char *const profile_usage[] = {
	"ferry data profile [--top N] [--bins N] [--na TOKENS] FILE",
	"",
	"Reads FILE (CSV with a header row), infers each column's type (numeric, boolean,",
	"categorical) and prints count, missing, mean, std, min, median and max of each numeric",
	"column and the most frequent values of the others. A missing value is an empty field;",
	"--na adds tokens such as NA,NaN,null. --json prints the whole profile, with quantiles,",
	"histograms and frequencies.",
	NULL,
};

/* Prints s with control characters escaped, so that a value holding a newline keeps its line. */
static void print_text(const char *s, int width)
{
	int n = 0;

	for (; *s; s++, n++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\r')
			fputs("\\r", stdout);
		else if (*s == '\t')
			fputs("\\t", stdout);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			printf("\\x%02x", (unsigned char)*s);
		else
			putchar(*s);
		/* a UTF-8 continuation byte is not a new column */
		n -= ((unsigned char)*s & 0xC0) == 0x80;
	}
	if (n < width)
		printf("%*s", width - n, "");
}

/* Characters in s (not bytes: names are UTF-8). */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int name_width(const struct profile *p)
{
	size_t w = strlen("column");

	for (size_t j = 0; j < p->ncols; j++)
		if (text_width(p->cols[j].name) > w)
			w = text_width(p->cols[j].name);
	return w > 40 ? 40 : (int)w;
}

static void print_stat(int ok, double v)
{
	if (ok)
		printf("  %12.6g", v);
	else
		printf("  %12s", "-");
}

static void print_numeric(const struct profile *p, int w)
{
	int header = 0;

	for (size_t j = 0; j < p->ncols; j++) {
		const struct column_profile *cp = &p->cols[j];

		if (cp->type != COLUMN_NUMERIC)
			continue;
		if (!header++)
			printf("\n%-*s  %10s  %8s  %12s  %12s  %12s  %12s  %12s\n", w, "column",
			       "count", "missing", "mean", "std", "min", "median", "max");
		print_text(cp->name, w);
		printf("  %10" PRIu64 "  %8" PRIu64, cp->count, cp->missing);
		print_stat(cp->count > 0, cp->mean);
		print_stat(cp->count > 1, cp->std);
		print_stat(cp->count > 0, cp->min);
		print_stat(cp->count > 0, cp->quantiles[3]);
		print_stat(cp->count > 0, cp->max);
		putchar('\n');
	}
}

static void print_others(const struct profile *p, int w)
{
	int header = 0;

	for (size_t j = 0; j < p->ncols; j++) {
		const struct column_profile *cp = &p->cols[j];
		size_t shown = cp->ntop < TOP_SHOWN ? cp->ntop : TOP_SHOWN;

		if (cp->type == COLUMN_NUMERIC)
			continue;
		if (!header++)
			printf("\n%-*s  %-11s  %10s  %8s  %8s  %s\n", w, "column", "type", "count",
			       "missing", "unique", "most frequent");
		print_text(cp->name, w);
		printf("  %-11s  %10" PRIu64 "  %8" PRIu64 "  %8" PRIu64 "  ",
		       column_type_name(cp->type), cp->count, cp->missing, cp->unique);
		for (size_t i = 0; i < shown; i++) {
			fputs(i ? ", " : "", stdout);
			print_text(cp->top[i].value, 0);
			printf(" (%" PRIu64 ")", cp->top[i].count);
		}
		if (cp->unique > shown)
			printf("%s... %" PRIu64 " more", shown ? ", " : "", cp->unique - shown);
		putchar('\n');
	}
}

static void print_summary(const char *path, const struct profile *p)
{
	int w = name_width(p);

	print_text(path, 0);
	printf(": %" PRIu64 " row%s, %zu column%s\n", p->rows, p->rows == 1 ? "" : "s", p->ncols,
	       p->ncols == 1 ? "" : "s");
	print_numeric(p, w);
	print_others(p, w);
}

static int load_file(struct table **out, const char *path, const char *na, struct ctx *ctx)
{
	struct table_options topts = TABLE_OPTIONS_INIT;
	struct ml_tokens tokens = ML_TOKENS_INIT;
	struct stat st;
	int rc;

	if (na)
		ml_tokens_split(&tokens, na);
	topts.na_tokens = tokens.v;
	topts.n_na_tokens = tokens.nr;
	topts.progress = progress_start("reading", stat(path, &st) ? 0 : (uint64_t)st.st_size,
					PROGRESS_BYTES, ctx->quiet || ctx->json);
	rc = table_load(out, path, &topts, &ctx->err);
	progress_finish(topts.progress);
	ml_tokens_release(&tokens);
	return rc;
}

int data_profile(int argc, const char **argv, struct ctx *ctx)
{
	int64_t top = 50, bins = 10;
	const char *na = NULL;
	struct option opts[] = {
		OPT_INT(0, "top", &top, "N", "most frequent values kept per column (default 50)"),
		OPT_INT(0, "bins", &bins, "N", "histogram bins of numeric columns (default 10)"),
		OPT_STRING(0, "na", &na, "TOKENS",
			   "comma-separated values that also mean missing, e.g. NA,NaN,null"),
		OPT_END(),
	};
	struct profile_options popts = PROFILE_OPTIONS_INIT;
	struct table *t = NULL;
	struct profile *p = NULL;
	char hex[SHA256_HEX_SIZE], digest[SHA256_HEX_SIZE + 8];
	int64_t stored = 0;
	json_t *j;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, profile_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE,
				 "'ferry data profile' takes exactly one FILE");
	if (top < 0 || top > 1000000)
		return error_set(&ctx->err, ERR_USAGE, "--top must be between 0 and 1000000");
	if (bins < 1 || bins > 10000)
		return error_set(&ctx->err, ERR_USAGE, "--bins must be between 1 and 10000");
	popts.top = (size_t)top;
	popts.bins = (size_t)bins;
	rc = load_file(&t, argv[0], na, ctx);
	if (!rc)
		rc = profile_compute(&p, t, &popts, &ctx->err);
	if (rc)
		goto out;
	j = profile_to_json(p);
	/* a profile with the default options is the one train records: keep it with the data */
	if (top == 50 && bins == 10 && !na) {
		rc = sha256_file(hex, argv[0], &ctx->err);
		snprintf(digest, sizeof(digest), "sha256:%s", hex);
		if (!rc)
			rc = ml_store_profile(ctx, digest, j, &stored);
	}
	if (!rc && ctx->json)
		output_json(j);
	else if (!rc)
		print_summary(argv[0], p);
	if (!rc && stored && !ctx->json && !ctx->quiet)
		printf("\nstored in the project store with data version %s\n", digest);
	json_decref(j);
out:
	profile_free(p);
	table_free(t);
	return rc;
}
