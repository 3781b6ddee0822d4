/* Fuzzes MLflow search filters, order_by terms (one per line) and page tokens for runs,
 * experiments, registered models and model versions: any bytes parse or fail with a message, and
 * what parses runs as SQL on an empty in-memory store without a database error (the SQL builder
 * only ever binds what the user wrote). */
#include "util/common.h"
#include "store/search.h"
#include "store/store_registry.h"
#include "track/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store *st;
	struct search_filter f = SEARCH_FILTER_INIT, ef = SEARCH_FILTER_INIT;
	struct search_orders o = SEARCH_ORDERS_INIT, eo = SEARCH_ORDERS_INIT;
	struct store_run_search q = { .filter = &f, .order = &o, .view = STORE_VIEW_ALL };
	struct store_experiment_search eq = { .filter = &ef, .order = &eo };
	struct store_runs runs = STORE_RUNS_INIT;
	struct store_experiments exps = STORE_EXPERIMENTS_INIT;
	struct search_filter mf = SEARCH_FILTER_INIT, vf = SEARCH_FILTER_INIT;
	struct search_orders mo = SEARCH_ORDERS_INIT, vo = SEARCH_ORDERS_INIT;
	struct store_model_search mq = { &mf, &mo, 0, 0 }, vq = { &vf, &vo, 0, 0 };
	struct store_models models = STORE_MODELS_INIT;
	struct store_model_versions versions = STORE_MODEL_VERSIONS_INIT;
	struct error e1 = ERROR_INIT, e2 = ERROR_INIT, e3 = ERROR_INIT, e4 = ERROR_INIT;
	struct error e5 = ERROR_INIT, e6 = ERROR_INIT;
	char *s = xstrndup((const char *)data, size), *copy = xstrdup(s), *p = copy;
	char *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL, *lines[8];
	size_t n = 0;
	int64_t off;

	if (!st && store_open(&st, "sqlite::memory:", &e1))
		BUG("%s", e1.msg);
	while (n < ARRAY_SIZE(lines) && (lines[n++] = strsep(&p, "\n")) && p)
		;
	if (search_page_token_decode(&off, s, &e1) && !e1.msg[0])
		BUG("page token refused without a message");
	if (!filter_parse_runs(&f, s, &e2) &&
	    !filter_parse_run_order(&o, (const char **)lines, n, &e2) &&
	    store_run_search(st, &runs, &t1, &q, &e2) == ERR_STORE)
		BUG("'%s': %s", s, e2.msg);
	if (!filter_parse_experiments(&ef, s, &e3) &&
	    !filter_parse_experiment_order(&eo, (const char **)lines, n, &e4) &&
	    store_experiment_search(st, &exps, &t2, &eq, &e3) == ERR_STORE)
		BUG("'%s': %s", s, e3.msg);
	if (!filter_parse_models(&mf, s, &e5) &&
	    !filter_parse_model_order(&mo, (const char **)lines, n, &e5) &&
	    store_model_search(st, &models, &t3, &mq, &e5) == ERR_STORE)
		BUG("'%s': %s", s, e5.msg);
	if (!filter_parse_model_versions(&vf, s, &e6) &&
	    !filter_parse_model_version_order(&vo, (const char **)lines, n, &e6) &&
	    store_model_version_search(st, &versions, &t4, &vq, &e6) == ERR_STORE)
		BUG("'%s': %s", s, e6.msg);
	if ((e2.code && !e2.msg[0]) || (e3.code && !e3.msg[0]) || (e4.code && !e4.msg[0]) ||
	    (e5.code && !e5.msg[0]) || (e6.code && !e6.msg[0]))
		BUG("an error without a message");
	store_models_release(&models);
	store_model_versions_release(&versions);
	search_filter_release(&mf);
	search_orders_release(&mo);
	search_filter_release(&vf);
	search_orders_release(&vo);
	free(t3);
	free(t4);
	store_runs_release(&runs);
	store_experiments_release(&exps);
	search_filter_release(&f);
	search_orders_release(&o);
	search_filter_release(&ef);
	search_orders_release(&eo);
	free(t1);
	free(t2);
	free(s);
	free(copy);
	return 0;
}
