/*
 * The model registry part of the metadata store (store/store_registry.h, SQLite backend):
 * models, versions, tags, stages, aliases with compare-and-swap and rollback, the history,
 * searches, and concurrent promotions from several processes. Database state is cross-checked
 * through a separate raw SQLite connection where it matters; MLflow's behaviour comes from its
 * 2.10.2 sources and the recorded exchanges in tests/data/mlflow/exchanges_pretty.txt.
 */
#include "util/common.h"
#include "store/search.h"
#include "store/store.h"
#include "store/store_registry.h"
#include "helpers.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>

struct fixture {
	char *dir;
	char *db;
	char *uri;
	struct store *st;
};

static char *make_uri(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "sqlite:%s", path);
	return strbuf_detach(&sb, NULL);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;

	f->dir = test_tmpdir();
	f->db = test_path(f->dir, "ferry.db");
	f->uri = make_uri(f->db);
	assert_ok(store_open(&f->st, f->uri, &err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	test_tmpdir_remove(f->dir);
	free(f->db);
	free(f->uri);
	free(f);
	return 0;
}

/* Lets the millisecond clock move on, so that "touched" times differ. */
static void tick(void)
{
	struct timespec ts = { 0, 3 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void new_run(struct store *st, char id[ID_HEX_LEN + 1])
{
	struct store_new_run r = { .name = "r", .user = "tester" };
	struct error err = ERROR_INIT;

	assert_ok(store_run_create(st, id, &r, &err));
}

/* A version of name (created if missing) with the given source; returns its number. */
static int64_t add_version(struct store *st, const char *name, const char *source)
{
	struct store_new_model_version nv = {
		.name = name,
		.create_model = true,
		.source = source,
	};
	struct error err = ERROR_INIT;
	int64_t v = 0;

	assert_ok(store_model_version_create(st, &v, &nv, &err));
	return v;
}

static int64_t alias_of(struct store *st, const char *name, const char *alias)
{
	struct error err = ERROR_INIT;
	int64_t v = 0;

	assert_ok(store_alias_get(st, &v, name, alias, &err));
	return v;
}

static int set_alias(struct store *st, int64_t *from, const char *name, const char *alias,
		     int64_t version, int64_t expect, struct error *err)
{
	struct store_alias_move m = {
		.name = name,
		.alias = alias,
		.version = version,
		.expect = expect,
		.user = "alice",
		.reason = "test",
	};

	return store_alias_set(st, from, &m, err);
}

static enum store_stage stage_of(struct store *st, const char *name, int64_t version)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct error err = ERROR_INIT;
	enum store_stage s;

	assert_ok(store_model_version_get(st, &v, name, version, &err));
	s = v.stage;
	store_model_version_release(&v);
	return s;
}

/* Search AST builders: each condition owns copies of its strings (search_filter_release). */
static struct search_cond *add_cond(struct search_filter *f, enum search_entity entity,
				    enum search_attr attr, const char *key, enum search_op op)
{
	struct search_cond *c;

	ALLOC_GROW(f->items, f->nr + 1, f->alloc);
	c = &f->items[f->nr++];
	memset(c, 0, sizeof(*c));
	c->entity = entity;
	c->attr = attr;
	c->key = xstrdup(key);
	c->op = op;
	return c;
}

static void add_str(struct search_filter *f, enum search_entity entity, enum search_attr attr,
		    const char *key, enum search_op op, const char *value)
{
	struct search_cond *c = add_cond(f, entity, attr, key, op);

	c->type = SEARCH_VALUE_STRING;
	c->str = xstrdup(value);
}

static void add_num(struct search_filter *f, enum search_attr attr, const char *key,
		    enum search_op op, double num)
{
	struct search_cond *c = add_cond(f, SEARCH_ATTRIBUTE, attr, key, op);

	c->type = SEARCH_VALUE_NUMBER;
	c->num = num;
}

static void add_list(struct search_filter *f, enum search_attr attr, const char *key,
		     enum search_op op, const char *const *values, size_t nr)
{
	struct search_cond *c = add_cond(f, SEARCH_ATTRIBUTE, attr, key, op);

	c->type = SEARCH_VALUE_LIST;
	c->list = xcalloc(nr, sizeof(*c->list));
	for (size_t i = 0; i < nr; i++)
		c->list[i] = xstrdup(values[i]);
	c->nr_list = nr;
}

static void add_order(struct search_orders *o, enum search_attr attr, const char *key,
		      bool ascending)
{
	struct search_order *t;

	ALLOC_GROW(o->items, o->nr + 1, o->alloc);
	t = &o->items[o->nr++];
	memset(t, 0, sizeof(*t));
	t->entity = SEARCH_ATTRIBUTE;
	t->attr = attr;
	t->key = xstrdup(key);
	t->ascending = ascending;
}

/* The names of a model search, comma-separated, for one assertion per query. */
static char *model_names(struct store *st, const struct store_model_search *q, char **token)
{
	struct store_models list = STORE_MODELS_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char *next = NULL;

	assert_ok(store_model_search(st, &list, &next, q, &err));
	for (size_t i = 0; i < list.nr; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", list.items[i].name);
	store_models_release(&list);
	if (token)
		*token = next;
	else
		free(next);
	return strbuf_detach(&sb, NULL);
}

/* "name:version" of a version search, comma-separated. */
static char *version_list(struct store *st, const struct store_model_search *q, char **token)
{
	struct store_model_versions list = STORE_MODEL_VERSIONS_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char *next = NULL;

	assert_ok(store_model_version_search(st, &list, &next, q, &err));
	for (size_t i = 0; i < list.nr; i++)
		strbuf_addf(&sb, "%s%s:%" PRId64, i ? "," : "", list.items[i].name,
			    list.items[i].version);
	store_model_versions_release(&list);
	if (token)
		*token = next;
	else
		free(next);
	return strbuf_detach(&sb, NULL);
}

#define assert_list(expr, expected)                                                                \
	do {                                                                                       \
		char *got_ = (expr);                                                               \
		assert_string_equal(got_, (expected));                                             \
		free(got_);                                                                        \
	} while (0)

/* Names and rules ------------------------------------------------------------------------------ */

static void test_stage_names(void **state)
{
	struct error err = ERROR_INIT;
	enum store_stage s = STORE_STAGE_NONE;

	(void)state;
	assert_string_equal(store_stage_name(STORE_STAGE_NONE), "None");
	assert_string_equal(store_stage_name(STORE_STAGE_STAGING), "Staging");
	assert_string_equal(store_stage_name(STORE_STAGE_PRODUCTION), "Production");
	assert_string_equal(store_stage_name(STORE_STAGE_ARCHIVED), "Archived");
	assert_ok(store_stage_parse(&s, "production", &err));
	assert_int_equal(s, STORE_STAGE_PRODUCTION);
	assert_ok(store_stage_parse(&s, "STAGING", &err));
	assert_int_equal(s, STORE_STAGE_STAGING);
	assert_ok(store_stage_parse(&s, "none", &err));
	assert_int_equal(s, STORE_STAGE_NONE);
	/* MLflow's get_canonical_stage message. */
	assert_err(store_stage_parse(&s, "prod", &err), ERR_INVALID,
		   "Invalid Model Version stage: prod. Value must be one of None, Staging, "
		   "Production, Archived.");
	assert_int_equal(s, STORE_STAGE_NONE);
}

static void test_alias_rules(void **state)
{
	static const char *const good[] = { "champion", "a-b_c", "v", "V", "vx1",	"v1a",
					    "latest2",	"_",	 "-", "0", "Production" };
	static const char *const bad_chars[] = { "a b", "a.b", "a/b", "é", "a\n" };
	struct error err = ERROR_INIT;
	char name[300];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_ok(store_alias_check(good[i], &err));
	for (size_t i = 0; i < ARRAY_SIZE(bad_chars); i++)
		assert_err(store_alias_check(bad_chars[i], &err), ERR_INVALID,
			   "Names may only contain alphanumerics, underscores (_), and dashes");
	assert_err(store_alias_check("a b", &err), ERR_INVALID, "Invalid alias name: 'a b'");
	assert_err(store_alias_check("", &err), ERR_INVALID,
		   "Registered model alias name cannot be empty.");
	assert_err(store_alias_check(NULL, &err), ERR_INVALID, "cannot be empty");
	assert_err(store_alias_check("latest", &err), ERR_INVALID, "'latest'");
	assert_err(store_alias_check("LaTeSt", &err), ERR_INVALID, "'LaTeSt'");
	assert_err(store_alias_check("v3", &err), ERR_INVALID,
		   "Version alias name 'v3' is reserved");
	assert_err(store_alias_check("V12", &err), ERR_INVALID, "'V12'");
	memset(name, 'a', 255);
	name[255] = '\0';
	assert_ok(store_alias_check(name, &err));
	name[255] = 'a';
	name[256] = '\0';
	assert_err(store_alias_check(name, &err), ERR_INVALID, "had length 256");

	assert_ok(store_model_name_check("m", &err));
	assert_err(store_model_name_check("", &err), ERR_INVALID,
		   "Registered model name cannot be empty.");
	assert_err(store_model_name_check(NULL, &err), ERR_INVALID, "cannot be empty");
}

/* Registered models ---------------------------------------------------------------------------- */

static void test_model_crud(void **state)
{
	struct fixture *f = *state;
	struct store_kv tags[] = { { "team", "growth" }, { "tier", NULL } };
	struct store_model m = STORE_MODEL_INIT, m2 = STORE_MODEL_INIT;
	struct store_pairs p = STORE_PAIRS_INIT;
	struct store_info info = STORE_INFO_INIT;
	struct error err = ERROR_INIT;

	assert_ok(store_model_create(f->st, "churn", "predicts churn", tags, 2, &err));
	assert_err(store_model_create(f->st, "churn", NULL, NULL, 0, &err), ERR_EXISTS,
		   "Registered Model (name=churn) already exists.");
	assert_err(store_model_create(f->st, "", NULL, NULL, 0, &err), ERR_INVALID,
		   "Registered model name cannot be empty.");
	assert_ok(store_model_get(f->st, &m, "churn", &err));
	assert_string_equal(m.name, "churn");
	assert_string_equal(m.description, "predicts churn");
	assert_true(m.creation_time > 0);
	assert_int_equal(m.creation_time, m.last_updated_time);
	assert_ok(store_model_tags(f->st, &p, "churn", &err));
	assert_int_equal(p.nr, 2);
	assert_string_equal(p.items[0].key, "team");
	assert_string_equal(p.items[0].value, "growth");
	assert_string_equal(p.items[1].key, "tier");
	assert_null(p.items[1].value);
	store_pairs_release(&p);

	tick();
	assert_ok(store_model_update(f->st, "churn", NULL, &err));
	assert_ok(store_model_get(f->st, &m2, "churn", &err));
	assert_null(m2.description);
	assert_int_equal(m2.creation_time, m.creation_time);
	assert_true(m2.last_updated_time > m.last_updated_time);
	store_model_release(&m2);
	assert_err(store_model_update(f->st, "nope", "x", &err), ERR_NOTFOUND,
		   "Registered Model with name=nope not found");
	assert_err(store_model_get(f->st, &m2, "nope", &err), ERR_NOTFOUND,
		   "Registered Model with name=nope not found");
	assert_null(m2.name);

	assert_ok(store_info(f->st, &info, &err));
	assert_int_equal(info.registered_models, 1);
	store_info_release(&info);
	assert_ok(store_model_delete(f->st, "churn", &err));
	assert_err(store_model_delete(f->st, "churn", &err), ERR_NOTFOUND,
		   "Registered Model with name=churn not found");
	assert_err(store_model_tags(f->st, &p, "churn", &err), ERR_NOTFOUND, "name=churn");
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM registered_model_tags"), 0);
	store_model_release(&m);
	store_model_release(&m); /* a no-op after release */
}

static void test_model_tags(void **state)
{
	struct fixture *f = *state;
	struct store_model before = STORE_MODEL_INIT, after = STORE_MODEL_INIT;
	struct store_pairs p = STORE_PAIRS_INIT;
	struct error err = ERROR_INIT;

	assert_ok(store_model_create(f->st, "m", NULL, NULL, 0, &err));
	assert_ok(store_model_get(f->st, &before, "m", &err));
	tick();
	assert_ok(store_model_set_tag(f->st, "m", "owner", "me", &err));
	assert_ok(store_model_set_tag(f->st, "m", "owner", "you", &err));
	assert_ok(store_model_set_tag(f->st, "m", "a", "1", &err));
	assert_err(store_model_set_tag(f->st, "m", "", "x", &err), ERR_INVALID, "tag key");
	assert_err(store_model_set_tag(f->st, "missing", "k", "v", &err), ERR_NOTFOUND,
		   "Registered Model with name=missing not found");
	assert_ok(store_model_tags(f->st, &p, "m", &err));
	assert_int_equal(p.nr, 2);
	assert_string_equal(p.items[0].key, "a");
	assert_string_equal(p.items[1].key, "owner");
	assert_string_equal(p.items[1].value, "you");
	store_pairs_release(&p);
	/* The recorded set-tag left last_updated_timestamp alone, as MLflow's store does. */
	assert_ok(store_model_get(f->st, &after, "m", &err));
	assert_int_equal(after.last_updated_time, before.last_updated_time);

	assert_ok(store_model_delete_tag(f->st, "m", "a", &err));
	assert_err(store_model_delete_tag(f->st, "m", "a", &err), ERR_NOTFOUND,
		   "no tag 'a' on registered model 'm'");
	assert_err(store_model_delete_tag(f->st, "missing", "a", &err), ERR_NOTFOUND,
		   "Registered Model with name=missing not found");
	assert_ok(store_model_tags(f->st, &p, "m", &err));
	assert_int_equal(p.nr, 1);
	store_pairs_release(&p);
	store_model_release(&before);
	store_model_release(&after);
}

/* Model versions ------------------------------------------------------------------------------- */

static void test_version_create_and_get(void **state)
{
	struct fixture *f = *state;
	struct store_kv tags[] = { { "git", "abc" } };
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct store_model m = STORE_MODEL_INIT;
	struct store_pairs p = STORE_PAIRS_INIT;
	struct store_datasets ds = STORE_DATASETS_INIT;
	struct store_new_dataset d1 = { .path = "data/train.csv", .digest = "d1", .size = 10 };
	struct store_new_dataset d2 = { .path = "data/test.csv", .digest = "d2", .size = -1 };
	struct store_version_dataset links[2] = { { 0, "training" }, { 0, NULL } };
	struct error err = ERROR_INIT;
	char run[ID_HEX_LEN + 1], source[128];
	int64_t version = 0;

	new_run(f->st, run);
	snprintf(source, sizeof(source), "runs:/%s/model", run);
	assert_ok(store_dataset_record(f->st, &links[0].dataset_id, &d1, &err));
	assert_ok(store_dataset_record(f->st, &links[1].dataset_id, &d2, &err));
	{
		struct store_new_model_version nv = {
			.name = "churn",
			.source = source,
			.source_digest = "feed",
			.run_id = run,
			.run_link = "http://x/run",
			.description = "first",
			.user = "alice",
			.metrics_json = "{\"auc\": 0.9}",
			.signature_json = "{\"inputs\": []}",
			.tags = tags,
			.nr_tags = 1,
			.datasets = links,
			.nr_datasets = 2,
		};

		/* Without create_model a missing model is MLflow's not-found. */
		assert_err(store_model_version_create(f->st, &version, &nv, &err), ERR_NOTFOUND,
			   "Registered Model with name=churn not found");
		assert_int_equal(version, 0);
		assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM registered_models"), 0);
		nv.create_model = true;
		assert_ok(store_model_version_create(f->st, &version, &nv, &err));
	}
	assert_int_equal(version, 1);
	assert_ok(store_model_version_get(f->st, &v, "churn", 1, &err));
	assert_string_equal(v.name, "churn");
	assert_int_equal(v.version, 1);
	assert_int_equal(v.stage, STORE_STAGE_NONE);
	assert_string_equal(v.status, "READY");
	assert_null(v.status_message);
	assert_string_equal(v.source, source);
	assert_string_equal(v.source_digest, "feed");
	assert_string_equal(v.run_id, run);
	assert_string_equal(v.run_link, "http://x/run");
	assert_string_equal(v.description, "first");
	assert_string_equal(v.user, "alice");
	assert_string_equal(v.metrics_json, "{\"auc\": 0.9}");
	assert_string_equal(v.signature_json, "{\"inputs\": []}");
	assert_int_equal(v.creation_time, v.last_updated_time);
	/* MLflow sets the model's last_updated_time to the new version's creation time. */
	assert_ok(store_model_get(f->st, &m, "churn", &err));
	assert_int_equal(m.last_updated_time, v.creation_time);
	assert_ok(store_model_version_tags(f->st, &p, "churn", 1, &err));
	assert_int_equal(p.nr, 1);
	assert_string_equal(p.items[0].key, "git");
	assert_string_equal(p.items[0].value, "abc");
	store_pairs_release(&p);
	assert_ok(store_model_version_datasets(f->st, &ds, "churn", 1, &err));
	assert_int_equal(ds.nr, 2);
	assert_int_equal(ds.items[0].id, links[0].dataset_id);
	assert_string_equal(ds.items[0].path, "data/train.csv");
	assert_string_equal(ds.items[0].digest, "d1");
	assert_string_equal(ds.items[0].context, "training");
	assert_int_equal(ds.items[1].size, -1);
	assert_null(ds.items[1].context);
	store_datasets_release(&ds);
	store_model_version_release(&v);

	/* A bare version: NULLs stay NULL. */
	assert_int_equal(add_version(f->st, "churn", "file:///m"), 2);
	assert_ok(store_model_version_get(f->st, &v, "churn", 2, &err));
	assert_null(v.run_id);
	assert_null(v.description);
	assert_null(v.metrics_json);
	store_model_version_release(&v);

	assert_err(store_model_version_get(f->st, &v, "churn", 3, &err), ERR_NOTFOUND,
		   "Model Version (name=churn, version=3) not found");
	assert_err(store_model_version_get(f->st, &v, "churn", 0, &err), ERR_INVALID,
		   "versions start at 1");
	assert_err(store_model_version_datasets(f->st, &ds, "churn", 9, &err), ERR_NOTFOUND,
		   "version=9");
	{
		struct store_new_model_version nv = { .name = "churn", .source = "" };

		assert_err(store_model_version_create(f->st, &version, &nv, &err), ERR_INVALID,
			   "needs a source");
	}
	store_model_release(&m);
}

/* Failing writes leave nothing behind: each is one transaction. */
static void test_failed_writes_leave_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_kv bad_tags[] = { { "ok", "1" }, { "", "x" } };
	struct store_kv tags[] = { { "k", "v" } };
	struct store_version_dataset missing_ds = { 4242, "training" };
	struct error err = ERROR_INIT;
	int64_t version = 0;
	const char *missing_run = "0123456789abcdef0123456789abcdef";

	{
		struct store_new_model_version nv = {
			.name = "fresh",
			.create_model = true,
			.source = "s",
			.run_id = missing_run,
			.tags = tags,
			.nr_tags = 1,
		};

		assert_err(store_model_version_create(f->st, &version, &nv, &err), ERR_NOTFOUND,
			   "Run with id=0123456789abcdef0123456789abcdef not found");
	}
	/* Not even the model it would have created. */
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM registered_models"), 0);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_versions"), 0);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_version_tags"), 0);

	assert_int_equal(add_version(f->st, "m", "s1"), 1);
	{
		struct store_new_model_version nv = {
			.name = "m",
			.source = "s2",
			.tags = tags,
			.nr_tags = 1,
			.datasets = &missing_ds,
			.nr_datasets = 1,
		};

		assert_err(store_model_version_create(f->st, &version, &nv, &err), ERR_NOTFOUND,
			   "no dataset with id 4242");
	}
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_versions"), 1);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_version_tags"), 0);
	assert_int_equal(test_db_int(f->db, "SELECT last_version FROM registered_models"), 1);
	/* The failed attempts took no number. */
	assert_int_equal(add_version(f->st, "m", "s3"), 2);

	assert_err(store_model_create(f->st, "t", NULL, bad_tags, 2, &err), ERR_INVALID,
		   "tag key must not be empty");
	assert_err(store_model_create(f->st, "m", NULL, tags, 1, &err), ERR_EXISTS,
		   "Registered Model (name=m) already exists.");
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM registered_models"), 1);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM registered_model_tags"), 0);

	assert_err(store_model_version_transition(f->st, NULL, "m", 7, STORE_STAGE_PRODUCTION, true,
						  NULL, NULL, &err),
		   ERR_NOTFOUND, "Model Version (name=m, version=7) not found");
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_events"), 0);
	assert_int_equal(
	    test_db_int(f->db, "SELECT count(*) FROM model_versions WHERE current_stage <> 'None'"),
	    0);
}

static void test_version_numbers_never_reused(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;

	assert_int_equal(add_version(f->st, "m", "a"), 1);
	assert_int_equal(add_version(f->st, "m", "b"), 2);
	assert_int_equal(add_version(f->st, "m", "c"), 3);
	assert_int_equal(add_version(f->st, "other", "x"), 1);
	assert_ok(store_model_version_delete(f->st, "m", 3, &err));
	assert_int_equal(add_version(f->st, "m", "d"), 4);
	for (int64_t v = 1; v <= 4; v++)
		if (v != 3)
			assert_ok(store_model_version_delete(f->st, "m", v, &err));
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_versions WHERE name = 'm'"),
			 0);
	assert_int_equal(add_version(f->st, "m", "e"), 5);
	/* A new model of the same name starts again: its versions are another model's. */
	assert_ok(store_model_delete(f->st, "m", &err));
	assert_int_equal(add_version(f->st, "m", "f"), 1);
}

static void test_version_update_delete_tags(void **state)
{
	struct fixture *f = *state;
	struct store_model_version v = STORE_MODEL_VERSION_INIT, v2 = STORE_MODEL_VERSION_INIT;
	struct store_model m = STORE_MODEL_INIT, m2 = STORE_MODEL_INIT;
	struct store_pairs p = STORE_PAIRS_INIT;
	struct error err = ERROR_INIT;

	add_version(f->st, "churn", "a");
	add_version(f->st, "churn", "b");
	assert_ok(store_model_version_get(f->st, &v, "churn", 1, &err));
	assert_ok(store_model_get(f->st, &m, "churn", &err));
	tick();
	/* The recorded update: the version's time moves, the model's does not. */
	assert_ok(store_model_version_update(f->st, "churn", 1, "better", &err));
	assert_ok(store_model_version_get(f->st, &v2, "churn", 1, &err));
	assert_string_equal(v2.description, "better");
	assert_true(v2.last_updated_time > v.last_updated_time);
	assert_int_equal(v2.creation_time, v.creation_time);
	assert_ok(store_model_get(f->st, &m2, "churn", &err));
	assert_int_equal(m2.last_updated_time, m.last_updated_time);
	store_model_release(&m2);
	store_model_version_release(&v2);
	assert_ok(store_model_version_update(f->st, "churn", 1, NULL, &err));
	assert_ok(store_model_version_get(f->st, &v2, "churn", 1, &err));
	assert_null(v2.description);
	store_model_version_release(&v2);
	assert_err(store_model_version_update(f->st, "churn", 5, "x", &err), ERR_NOTFOUND,
		   "Model Version (name=churn, version=5) not found");

	assert_ok(store_model_version_set_tag(f->st, "churn", 1, "k", "v1", &err));
	assert_ok(store_model_version_set_tag(f->st, "churn", 1, "k", "v2", &err));
	assert_ok(store_model_version_set_tag(f->st, "churn", 2, "k", "other", &err));
	assert_err(store_model_version_set_tag(f->st, "churn", 9, "k", "v", &err), ERR_NOTFOUND,
		   "Model Version (name=churn, version=9) not found");
	assert_err(store_model_version_set_tag(f->st, "churn", 1, "", "v", &err), ERR_INVALID,
		   "tag key");
	assert_ok(store_model_version_tags(f->st, &p, "churn", 1, &err));
	assert_int_equal(p.nr, 1);
	assert_string_equal(p.items[0].value, "v2");
	store_pairs_release(&p);
	assert_ok(store_model_version_delete_tag(f->st, "churn", 1, "k", &err));
	assert_err(store_model_version_delete_tag(f->st, "churn", 1, "k", &err), ERR_NOTFOUND,
		   "no tag 'k' on version 1 of model 'churn'");
	assert_ok(store_model_version_tags(f->st, &p, "churn", 2, &err));
	assert_int_equal(p.nr, 1);
	store_pairs_release(&p);

	/* Deleting touches the model (MLflow), and refuses a version an alias points at. */
	assert_ok(set_alias(f->st, NULL, "churn", "production", 2, 0, &err));
	assert_ok(set_alias(f->st, NULL, "churn", "backup", 2, 0, &err));
	assert_ok(store_model_version_aliases(f->st, &p, "churn", 2, &err));
	assert_int_equal(p.nr, 2);
	assert_string_equal(p.items[0].key, "backup");
	assert_null(p.items[0].value);
	assert_string_equal(p.items[1].key, "production");
	store_pairs_release(&p);
	assert_err(store_model_version_delete(f->st, "churn", 2, &err), ERR_CONFLICT,
		   "version 2 of model 'churn' is the target of aliases 'backup', 'production': "
		   "move or delete the aliases first");
	assert_ok(set_alias(f->st, NULL, "churn", "backup", 0, 2, &err));
	assert_err(store_model_version_delete(f->st, "churn", 2, &err), ERR_CONFLICT,
		   "version 2 of model 'churn' is the target of alias 'production': move or "
		   "delete the alias first");
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_versions"), 2);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_version_tags"), 1);

	tick();
	assert_ok(store_model_version_delete(f->st, "churn", 1, &err));
	assert_ok(store_model_get(f->st, &m2, "churn", &err));
	assert_true(m2.last_updated_time > m.last_updated_time);
	store_model_release(&m2);
	assert_err(store_model_version_get(f->st, &v2, "churn", 1, &err), ERR_NOTFOUND,
		   "version=1");
	assert_err(store_model_version_delete(f->st, "churn", 1, &err), ERR_NOTFOUND,
		   "Model Version (name=churn, version=1) not found");
	assert_err(store_model_version_tags(f->st, &p, "churn", 1, &err), ERR_NOTFOUND,
		   "version=1");
	store_model_version_release(&v);
	store_model_release(&m);
}

/* Rename carries every row along (ON UPDATE CASCADE), history included. */
static void test_model_rename(void **state)
{
	struct fixture *f = *state;
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct store_registry_events h = STORE_REGISTRY_EVENTS_INIT;
	struct store_new_dataset d = { .path = "train.csv", .digest = "dd", .size = 1 };
	struct store_version_dataset link = { 0, "training" };
	struct store_model m = STORE_MODEL_INIT;
	struct store_pairs p = STORE_PAIRS_INIT;
	struct strbuf report = STRBUF_INIT;
	struct error err = ERROR_INIT;
	int64_t version = 0, before;

	assert_ok(store_dataset_record(f->st, &link.dataset_id, &d, &err));
	assert_ok(store_model_create(f->st, "old", "desc", NULL, 0, &err));
	assert_ok(store_model_set_tag(f->st, "old", "team", "a", &err));
	{
		struct store_new_model_version nv = {
			.name = "old", .source = "s", .datasets = &link, .nr_datasets = 1
		};

		assert_ok(store_model_version_create(f->st, &version, &nv, &err));
	}
	add_version(f->st, "old", "s2");
	assert_ok(store_model_version_set_tag(f->st, "old", 1, "k", "v", &err));
	assert_ok(set_alias(f->st, NULL, "old", "champion", 1, 0, &err));
	assert_ok(set_alias(f->st, NULL, "old", "champion", 2, 1, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "old", 2, STORE_STAGE_STAGING, false,
						 "bob", NULL, &err));
	add_version(f->st, "taken", "x");
	assert_err(store_model_rename(f->st, "old", "taken", &err), ERR_EXISTS,
		   "Registered Model (name=taken) already exists.");
	assert_err(store_model_rename(f->st, "nope", "x", &err), ERR_NOTFOUND,
		   "Registered Model with name=nope not found");
	assert_err(store_model_rename(f->st, "old", "", &err), ERR_INVALID, "cannot be empty");
	before = test_db_int(f->db, "SELECT max(last_updated_time) FROM model_versions WHERE "
				    "name = 'old'");

	tick();
	assert_ok(store_model_rename(f->st, "old", "new", &err));
	assert_err(store_model_get(f->st, &m, "old", &err), ERR_NOTFOUND, "name=old");
	assert_ok(store_model_get(f->st, &m, "new", &err));
	assert_string_equal(m.description, "desc");
	assert_ok(store_model_version_get(f->st, &v, "new", 1, &err));
	/* MLflow touches the model and every version on rename. */
	assert_true(v.last_updated_time > before);
	assert_int_equal(v.last_updated_time, m.last_updated_time);
	store_model_version_release(&v);
	assert_ok(store_model_tags(f->st, &p, "new", &err));
	assert_int_equal(p.nr, 1);
	store_pairs_release(&p);
	assert_ok(store_model_version_tags(f->st, &p, "new", 1, &err));
	assert_int_equal(p.nr, 1);
	assert_string_equal(p.items[0].value, "v");
	store_pairs_release(&p);
	assert_int_equal(alias_of(f->st, "new", "champion"), 2);
	assert_ok(store_model_history(f->st, &h, "new", &err));
	assert_int_equal(h.nr, 3);
	store_registry_events_release(&h);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_version_datasets WHERE "
					    "name = 'new'"),
			 1);
	/* Nothing is left under the old name, anywhere. */
	assert_int_equal(
	    test_db_int(f->db,
			"SELECT (SELECT count(*) FROM registered_model_tags WHERE name = 'old') "
			"+ (SELECT count(*) FROM model_versions WHERE name = 'old') "
			"+ (SELECT count(*) FROM model_version_tags WHERE name = 'old') "
			"+ (SELECT count(*) FROM model_version_datasets WHERE name = 'old') "
			"+ (SELECT count(*) FROM model_aliases WHERE name = 'old') "
			"+ (SELECT count(*) FROM model_events WHERE name = 'old')"),
	    0);
	/* The next number carries over too. */
	assert_int_equal(add_version(f->st, "new", "s3"), 3);
	assert_ok(store_check(f->st, &report, &err));
	strbuf_release(&report);
	store_model_release(&m);
}

static void test_model_delete_cascades(void **state)
{
	struct fixture *f = *state;
	struct store_new_dataset d = { .path = "train.csv", .digest = "dd", .size = 1 };
	struct store_version_dataset link = { 0, NULL };
	struct strbuf report = STRBUF_INIT;
	struct error err = ERROR_INIT;
	int64_t version = 0;

	assert_ok(store_dataset_record(f->st, &link.dataset_id, &d, &err));
	add_version(f->st, "keep", "k");
	{
		struct store_new_model_version nv = { .name = "gone",
						      .create_model = true,
						      .source = "s",
						      .datasets = &link,
						      .nr_datasets = 1 };

		assert_ok(store_model_version_create(f->st, &version, &nv, &err));
	}
	add_version(f->st, "gone", "s2");
	assert_ok(store_model_set_tag(f->st, "gone", "k", "v", &err));
	assert_ok(store_model_version_set_tag(f->st, "gone", 1, "k", "v", &err));
	assert_ok(set_alias(f->st, NULL, "gone", "a", 1, 0, &err));
	assert_ok(set_alias(f->st, NULL, "gone", "a", 2, 1, &err));
	assert_ok(store_alias_rollback(f->st, NULL, NULL, "gone", "a", NULL, NULL, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "gone", 2, STORE_STAGE_PRODUCTION,
						 false, NULL, NULL, &err));
	assert_ok(store_model_delete(f->st, "gone", &err));
	assert_int_equal(test_db_int(f->db, "SELECT (SELECT count(*) FROM registered_model_tags) "
					    "+ (SELECT count(*) FROM model_version_tags) "
					    "+ (SELECT count(*) FROM model_version_datasets) "
					    "+ (SELECT count(*) FROM model_aliases) "
					    "+ (SELECT count(*) FROM model_events)"),
			 0);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_versions"), 1);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM datasets"), 1);
	assert_ok(store_check(f->st, &report, &err));
	strbuf_release(&report);
}

/* Stages --------------------------------------------------------------------------------------- */

static void test_latest_versions(void **state)
{
	struct fixture *f = *state;
	struct store_model_versions l = STORE_MODEL_VERSIONS_INIT;
	enum store_stage prod_none[] = { STORE_STAGE_PRODUCTION, STORE_STAGE_NONE };
	enum store_stage staging[] = { STORE_STAGE_STAGING };
	struct error err = ERROR_INIT;

	assert_ok(store_model_create(f->st, "empty", NULL, NULL, 0, &err));
	assert_ok(store_model_latest_versions(f->st, &l, "empty", NULL, 0, &err));
	assert_int_equal(l.nr, 0);
	store_model_versions_release(&l);
	assert_err(store_model_latest_versions(f->st, &l, "missing", NULL, 0, &err), ERR_NOTFOUND,
		   "Registered Model with name=missing not found");

	for (int i = 0; i < 6; i++)
		add_version(f->st, "m", "s");
	/* 1 Archived, 2 Production, 3 Staging, 4 Production, 5 None, 6 None */
	assert_ok(store_model_version_transition(f->st, NULL, "m", 1, STORE_STAGE_ARCHIVED, false,
						 NULL, NULL, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 2, STORE_STAGE_PRODUCTION, false,
						 NULL, NULL, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 3, STORE_STAGE_STAGING, false,
						 NULL, NULL, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 4, STORE_STAGE_PRODUCTION, false,
						 NULL, NULL, &err));
	assert_ok(store_model_latest_versions(f->st, &l, "m", NULL, 0, &err));
	assert_int_equal(l.nr, 4);
	assert_int_equal(l.items[0].stage, STORE_STAGE_NONE);
	assert_int_equal(l.items[0].version, 6);
	assert_int_equal(l.items[1].stage, STORE_STAGE_STAGING);
	assert_int_equal(l.items[1].version, 3);
	assert_int_equal(l.items[2].stage, STORE_STAGE_PRODUCTION);
	assert_int_equal(l.items[2].version, 4);
	assert_int_equal(l.items[3].stage, STORE_STAGE_ARCHIVED);
	assert_int_equal(l.items[3].version, 1);
	store_model_versions_release(&l);
	/* Stage order, whatever order they were asked in. */
	assert_ok(store_model_latest_versions(f->st, &l, "m", prod_none, 2, &err));
	assert_int_equal(l.nr, 2);
	assert_int_equal(l.items[0].version, 6);
	assert_int_equal(l.items[1].version, 4);
	store_model_versions_release(&l);
	assert_ok(store_model_version_transition(f->st, NULL, "m", 3, STORE_STAGE_NONE, false, NULL,
						 NULL, &err));
	assert_ok(store_model_latest_versions(f->st, &l, "m", staging, 1, &err));
	assert_int_equal(l.nr, 0);
	store_model_versions_release(&l);
}

static void test_transition_archive_existing(void **state)
{
	struct fixture *f = *state;
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct store_registry_events h = STORE_REGISTRY_EVENTS_INIT;
	struct store_model m = STORE_MODEL_INIT;
	struct error err = ERROR_INIT;

	for (int i = 0; i < 4; i++)
		add_version(f->st, "m", "s");
	add_version(f->st, "other", "s");
	assert_ok(store_model_version_transition(f->st, NULL, "other", 1, STORE_STAGE_PRODUCTION,
						 false, NULL, NULL, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 1, STORE_STAGE_PRODUCTION, false,
						 "alice", "first", &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 2, STORE_STAGE_PRODUCTION, false,
						 "alice", "second", &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 4, STORE_STAGE_STAGING, false,
						 NULL, NULL, &err));
	/* Without archive_existing two versions can be in Production at once, as in MLflow. */
	assert_int_equal(stage_of(f->st, "m", 1), STORE_STAGE_PRODUCTION);
	assert_int_equal(stage_of(f->st, "m", 2), STORE_STAGE_PRODUCTION);

	tick();
	assert_ok(store_model_version_transition(f->st, &v, "m", 3, STORE_STAGE_PRODUCTION, true,
						 "bob", "promote v3", &err));
	assert_int_equal(v.version, 3);
	assert_int_equal(v.stage, STORE_STAGE_PRODUCTION);
	assert_int_equal(stage_of(f->st, "m", 1), STORE_STAGE_ARCHIVED);
	assert_int_equal(stage_of(f->st, "m", 2), STORE_STAGE_ARCHIVED);
	assert_int_equal(stage_of(f->st, "m", 4), STORE_STAGE_STAGING);
	assert_int_equal(stage_of(f->st, "other", 1), STORE_STAGE_PRODUCTION);
	/* The recorded transition-stage: the model's last_updated equals the version's. */
	assert_ok(store_model_get(f->st, &m, "m", &err));
	assert_int_equal(m.last_updated_time, v.last_updated_time);
	assert_true(v.last_updated_time > v.creation_time);
	assert_int_equal(test_db_int(f->db, "SELECT count(DISTINCT last_updated_time) FROM "
					    "model_versions WHERE name = 'm' AND version <= 3"),
			 1);
	store_model_release(&m);
	store_model_version_release(&v);

	assert_ok(store_model_history(f->st, &h, "m", &err));
	assert_int_equal(h.nr, 6);
	/* 1 and 2 None -> Production, 4 None -> Staging, then 1, 2 archived before 3 moves. */
	assert_int_equal(h.items[0].kind, STORE_EVENT_STAGE);
	assert_int_equal(h.items[0].version, 1);
	assert_int_equal(h.items[0].from_stage, STORE_STAGE_NONE);
	assert_int_equal(h.items[0].to_stage, STORE_STAGE_PRODUCTION);
	assert_string_equal(h.items[0].user, "alice");
	assert_string_equal(h.items[0].reason, "first");
	assert_int_equal(h.items[2].version, 4);
	assert_null(h.items[2].user);
	assert_null(h.items[2].reason);
	assert_int_equal(h.items[3].version, 1);
	assert_int_equal(h.items[3].from_stage, STORE_STAGE_PRODUCTION);
	assert_int_equal(h.items[3].to_stage, STORE_STAGE_ARCHIVED);
	assert_string_equal(h.items[3].user, "bob");
	assert_int_equal(h.items[4].version, 2);
	assert_int_equal(h.items[4].to_stage, STORE_STAGE_ARCHIVED);
	assert_int_equal(h.items[5].version, 3);
	assert_int_equal(h.items[5].from_stage, STORE_STAGE_NONE);
	assert_int_equal(h.items[5].to_stage, STORE_STAGE_PRODUCTION);
	assert_string_equal(h.items[5].reason, "promote v3");
	for (size_t i = 1; i < h.nr; i++)
		assert_true(h.items[i].id > h.items[i - 1].id);
	for (size_t i = 0; i < h.nr; i++)
		assert_null(h.items[i].alias);
	store_registry_events_release(&h);

	/* archive_existing is for the active stages only (MLflow's message). */
	assert_err(store_model_version_transition(f->st, NULL, "m", 4, STORE_STAGE_ARCHIVED, true,
						  NULL, NULL, &err),
		   ERR_INVALID,
		   "Model version transition cannot archive existing model versions because "
		   "'Archived' is not an Active stage. Valid stages are ['Staging', 'Production']");
	/* Staying in the stage records nothing. */
	assert_ok(store_model_version_transition(f->st, NULL, "m", 3, STORE_STAGE_PRODUCTION, true,
						 NULL, NULL, &err));
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM model_events WHERE name = 'm'"),
			 6);
	assert_err(store_model_version_transition(f->st, NULL, "nope", 1, STORE_STAGE_STAGING,
						  false, NULL, NULL, &err),
		   ERR_NOTFOUND, "Model Version (name=nope, version=1) not found");
}

/* Aliases -------------------------------------------------------------------------------------- */

static void test_alias_set_move_delete(void **state)
{
	struct fixture *f = *state;
	struct store_registry_events h = STORE_REGISTRY_EVENTS_INIT;
	struct store_model before = STORE_MODEL_INIT, after = STORE_MODEL_INIT;
	struct store_pairs p = STORE_PAIRS_INIT;
	struct error err = ERROR_INIT;
	int64_t from = -5, v = 0;

	for (int i = 0; i < 3; i++)
		add_version(f->st, "churn", "s");
	assert_ok(store_model_get(f->st, &before, "churn", &err));
	assert_err(store_alias_get(f->st, &v, "churn", "production", &err), ERR_NOTFOUND,
		   "Registered model alias production not found.");
	assert_err(store_alias_get(f->st, &v, "nope", "production", &err), ERR_NOTFOUND,
		   "Registered Model with name=nope not found");
	assert_int_equal(v, 0);

	tick();
	assert_ok(set_alias(f->st, &from, "churn", "production", 1, 0, &err));
	assert_int_equal(from, 0);
	assert_int_equal(alias_of(f->st, "churn", "production"), 1);
	/* The recorded alias call did not touch the model. */
	assert_ok(store_model_get(f->st, &after, "churn", &err));
	assert_int_equal(after.last_updated_time, before.last_updated_time);

	/* Compare-and-swap: every way of being wrong about the alias is a conflict. */
	assert_err(set_alias(f->st, &from, "churn", "production", 2, 0, &err), ERR_CONFLICT,
		   "alias 'production' of model 'churn' already exists (it points to version 1)");
	assert_err(set_alias(f->st, &from, "churn", "production", 3, 2, &err), ERR_CONFLICT,
		   "alias 'production' of model 'churn' points to version 1, not 2: someone moved "
		   "it meanwhile");
	assert_err(set_alias(f->st, &from, "churn", "staging", 3, 2, &err), ERR_CONFLICT,
		   "alias 'staging' of model 'churn' does not exist");
	assert_int_equal(alias_of(f->st, "churn", "production"), 1);

	assert_ok(set_alias(f->st, &from, "churn", "production", 2, 1, &err));
	assert_int_equal(from, 1);
	assert_ok(set_alias(f->st, &from, "churn", "production", 3, STORE_ALIAS_ANY, &err));
	assert_int_equal(from, 2);
	/* Moving to where it already points records nothing. */
	assert_ok(set_alias(f->st, &from, "churn", "production", 3, 3, &err));
	assert_int_equal(from, 3);
	assert_ok(set_alias(f->st, NULL, "churn", "production", 3, STORE_ALIAS_ANY, &err));
	assert_err(set_alias(f->st, &from, "churn", "production", 9, 3, &err), ERR_NOTFOUND,
		   "Model Version (name=churn, version=9) not found");
	assert_err(set_alias(f->st, &from, "nope", "production", 1, 0, &err), ERR_NOTFOUND,
		   "Registered Model with name=nope not found");
	assert_err(set_alias(f->st, &from, "churn", "v2", 1, 0, &err), ERR_INVALID,
		   "Version alias name 'v2' is reserved.");
	assert_err(set_alias(f->st, &from, "churn", "latest", 1, 0, &err), ERR_INVALID, "latest");
	assert_ok(set_alias(f->st, NULL, "churn", "shadow", 1, 0, &err));
	assert_ok(store_model_aliases(f->st, &p, "churn", &err));
	assert_int_equal(p.nr, 2);
	assert_string_equal(p.items[0].key, "production");
	assert_string_equal(p.items[0].value, "3");
	assert_string_equal(p.items[1].key, "shadow");
	assert_string_equal(p.items[1].value, "1");
	store_pairs_release(&p);

	/* Removing: version 0. */
	assert_err(set_alias(f->st, &from, "churn", "shadow", 0, 2, &err), ERR_CONFLICT,
		   "points to version 1, not 2");
	assert_ok(set_alias(f->st, &from, "churn", "shadow", 0, 1, &err));
	assert_int_equal(from, 1);
	assert_err(set_alias(f->st, &from, "churn", "shadow", 0, STORE_ALIAS_ANY, &err),
		   ERR_NOTFOUND, "Registered model alias shadow not found.");
	assert_err(store_alias_get(f->st, &v, "churn", "shadow", &err), ERR_NOTFOUND, "shadow");

	assert_ok(store_model_history(f->st, &h, "churn", &err));
	assert_int_equal(h.nr, 5);
	{
		static const struct {
			const char *alias;
			int64_t from, to;
		} want[] = { { "production", 0, 1 },
			     { "production", 1, 2 },
			     { "production", 2, 3 },
			     { "shadow", 0, 1 },
			     { "shadow", 1, 0 } };

		for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
			assert_int_equal(h.items[i].kind, STORE_EVENT_ALIAS_MOVE);
			assert_string_equal(h.items[i].alias, want[i].alias);
			assert_int_equal(h.items[i].from_version, want[i].from);
			assert_int_equal(h.items[i].to_version, want[i].to);
			assert_false(h.items[i].undone);
			assert_string_equal(h.items[i].user, "alice");
			assert_string_equal(h.items[i].reason, "test");
			assert_true(h.items[i].time >= before.creation_time);
		}
	}
	store_registry_events_release(&h);
	assert_err(store_model_history(f->st, &h, "nope", &err), ERR_NOTFOUND, "name=nope");
	store_model_release(&before);
	store_model_release(&after);
}

static void test_alias_rollback_chain(void **state)
{
	struct fixture *f = *state;
	struct store_registry_events h = STORE_REGISTRY_EVENTS_INIT;
	struct error err = ERROR_INIT;
	int64_t from = 0, to = 0;

	for (int i = 0; i < 4; i++)
		add_version(f->st, "m", "s");
	assert_err(store_alias_rollback(f->st, &from, &to, "m", "prod", NULL, NULL, &err),
		   ERR_NOTFOUND, "Registered model alias prod not found.");
	assert_err(store_alias_rollback(f->st, &from, &to, "nope", "prod", NULL, NULL, &err),
		   ERR_NOTFOUND, "Registered Model with name=nope not found");
	assert_ok(set_alias(f->st, NULL, "m", "prod", 1, 0, &err));
	assert_err(store_alias_rollback(f->st, &from, &to, "m", "prod", NULL, NULL, &err),
		   ERR_CONFLICT,
		   "nothing to roll back to: alias 'prod' of model 'm' was created at version 1");
	assert_ok(set_alias(f->st, NULL, "m", "prod", 2, 1, &err));
	assert_ok(set_alias(f->st, NULL, "m", "prod", 3, 2, &err));

	assert_ok(store_alias_rollback(f->st, &from, &to, "m", "prod", "carol", "bad v3", &err));
	assert_int_equal(from, 3);
	assert_int_equal(to, 2);
	assert_int_equal(alias_of(f->st, "m", "prod"), 2);
	assert_ok(store_alias_rollback(f->st, &from, &to, "m", "prod", NULL, NULL, &err));
	assert_int_equal(from, 2);
	assert_int_equal(to, 1);
	assert_int_equal(alias_of(f->st, "m", "prod"), 1);
	assert_err(store_alias_rollback(f->st, &from, &to, "m", "prod", NULL, NULL, &err),
		   ERR_CONFLICT, "nothing to roll back to");
	assert_int_equal(alias_of(f->st, "m", "prod"), 1);

	assert_ok(store_model_history(f->st, &h, "m", &err));
	assert_int_equal(h.nr, 5);
	assert_int_equal(h.items[0].kind, STORE_EVENT_ALIAS_MOVE);
	assert_false(h.items[0].undone);
	assert_int_equal(h.items[1].kind, STORE_EVENT_ALIAS_MOVE);
	assert_true(h.items[1].undone);
	assert_int_equal(h.items[2].kind, STORE_EVENT_ALIAS_MOVE);
	assert_true(h.items[2].undone);
	assert_int_equal(h.items[3].kind, STORE_EVENT_ALIAS_ROLLBACK);
	assert_int_equal(h.items[3].from_version, 3);
	assert_int_equal(h.items[3].to_version, 2);
	assert_string_equal(h.items[3].user, "carol");
	assert_string_equal(h.items[3].reason, "bad v3");
	assert_false(h.items[3].undone);
	assert_int_equal(h.items[4].kind, STORE_EVENT_ALIAS_ROLLBACK);
	assert_int_equal(h.items[4].from_version, 2);
	assert_int_equal(h.items[4].to_version, 1);
	store_registry_events_release(&h);
	/* Each rollback marks exactly the move it undid. */
	assert_int_equal(test_db_int(f->db,
				     "SELECT count(*) FROM model_events u JOIN model_events r "
				     "ON r.id = u.undone_by WHERE r.kind = 'alias_rollback' "
				     "AND u.kind = 'alias_move' AND r.from_version = "
				     "u.to_version AND r.to_version = u.from_version"),
			 2);

	/* A move after rollbacks is undone first, then the walk goes on below it. */
	assert_ok(set_alias(f->st, NULL, "m", "prod", 4, 1, &err));
	assert_ok(store_alias_rollback(f->st, &from, &to, "m", "prod", NULL, NULL, &err));
	assert_int_equal(from, 4);
	assert_int_equal(to, 1);
	assert_err(store_alias_rollback(f->st, &from, &to, "m", "prod", NULL, NULL, &err),
		   ERR_CONFLICT, "created at version 1");

	/* The version to go back to was deleted meanwhile. */
	assert_ok(set_alias(f->st, NULL, "m", "prod", 3, 1, &err));
	assert_ok(set_alias(f->st, NULL, "m", "prod", 4, 3, &err));
	assert_ok(set_alias(f->st, NULL, "m", "other", 2, 0, &err));
	assert_ok(set_alias(f->st, NULL, "m", "other", 4, 2, &err));
	assert_ok(store_model_version_delete(f->st, "m", 3, &err));
	assert_err(store_alias_rollback(f->st, &from, &to, "m", "prod", NULL, NULL, &err),
		   ERR_CONFLICT,
		   "cannot roll back alias 'prod' of model 'm' to version 3: version 3 has been "
		   "deleted");
	assert_int_equal(alias_of(f->st, "m", "prod"), 4);
	/* Rollback follows its own alias only. */
	assert_ok(store_alias_rollback(f->st, &from, &to, "m", "other", NULL, NULL, &err));
	assert_int_equal(to, 2);
	assert_int_equal(alias_of(f->st, "m", "prod"), 4);

	/* Changed outside the history (another program wrote the table): refuse to guess. */
	test_db_exec(f->db, "UPDATE model_aliases SET version = 1 WHERE alias = 'prod'");
	assert_err(store_alias_rollback(f->st, &from, &to, "m", "prod", NULL, NULL, &err),
		   ERR_CONFLICT, "changed outside the history");
	/* A removed alias has nothing to roll back. */
	assert_ok(set_alias(f->st, NULL, "m", "other", 0, 2, &err));
	assert_err(store_alias_rollback(f->st, &from, &to, "m", "other", NULL, NULL, &err),
		   ERR_NOTFOUND, "alias other not found");
}

/* Alias and stage events share one order, by id. */
static void test_history_order(void **state)
{
	struct fixture *f = *state;
	struct store_registry_events h = STORE_REGISTRY_EVENTS_INIT;
	struct error err = ERROR_INIT;

	add_version(f->st, "m", "s");
	add_version(f->st, "m", "s");
	add_version(f->st, "n", "s");
	assert_ok(store_model_create(f->st, "quiet", NULL, NULL, 0, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 1, STORE_STAGE_STAGING, false,
						 NULL, NULL, &err));
	assert_ok(set_alias(f->st, NULL, "m", "champ", 1, 0, &err));
	assert_ok(set_alias(f->st, NULL, "n", "champ", 1, 0, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 2, STORE_STAGE_PRODUCTION, false,
						 NULL, NULL, &err));
	assert_ok(set_alias(f->st, NULL, "m", "champ", 2, 1, &err));
	assert_ok(store_alias_rollback(f->st, NULL, NULL, "m", "champ", NULL, NULL, &err));
	assert_ok(store_model_version_transition(f->st, NULL, "m", 1, STORE_STAGE_PRODUCTION, true,
						 NULL, NULL, &err));

	assert_ok(store_model_history(f->st, &h, "m", &err));
	assert_int_equal(h.nr, 7);
	{
		static const enum store_event_kind kinds[] = {
			STORE_EVENT_STAGE,	    STORE_EVENT_ALIAS_MOVE,
			STORE_EVENT_STAGE,	    STORE_EVENT_ALIAS_MOVE,
			STORE_EVENT_ALIAS_ROLLBACK, STORE_EVENT_STAGE /* 2 archived */,
			STORE_EVENT_STAGE,
		};

		for (size_t i = 0; i < h.nr; i++) {
			assert_int_equal(h.items[i].kind, kinds[i]);
			if (i)
				assert_true(h.items[i].id > h.items[i - 1].id);
			if (i)
				assert_true(h.items[i].time >= h.items[i - 1].time);
		}
	}
	assert_int_equal(h.items[5].version, 2);
	assert_int_equal(h.items[5].to_stage, STORE_STAGE_ARCHIVED);
	assert_int_equal(h.items[6].version, 1);
	assert_int_equal(h.items[6].from_stage, STORE_STAGE_STAGING);
	store_registry_events_release(&h);
	assert_ok(store_model_history(f->st, &h, "quiet", &err));
	assert_int_equal(h.nr, 0);
	store_registry_events_release(&h);
	assert_ok(store_model_history(f->st, &h, "n", &err));
	assert_int_equal(h.nr, 1);
	store_registry_events_release(&h);
}

/* Searches ------------------------------------------------------------------------------------- */

static void test_model_search(void **state)
{
	struct fixture *f = *state;
	struct search_filter flt = SEARCH_FILTER_INIT;
	struct search_orders ord = SEARCH_ORDERS_INIT;
	struct store_model_search q = { 0 };
	struct store_models list = STORE_MODELS_INIT;
	struct error err = ERROR_INIT;
	char *token = NULL, *next = NULL;
	int64_t offset = 0;
	static const char *const names[] = { "churn-b", "fraud", "Churn-C", "churn-a", "churn_x" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		assert_ok(store_model_create(f->st, names[i], NULL, NULL, 0, &err));
		tick();
	}
	assert_ok(store_model_set_tag(f->st, "churn-a", "team", "growth", &err));
	assert_ok(store_model_set_tag(f->st, "Churn-C", "team", "Growth", &err));
	assert_ok(store_model_set_tag(f->st, "fraud", "team", "risk", &err));

	/* Default: name ascending, byte order (MLflow on SQLite). */
	assert_list(model_names(f->st, &q, NULL), "Churn-C,churn-a,churn-b,churn_x,fraud");
	q.filter = &flt;
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_EQ, "fraud");
	assert_list(model_names(f->st, &q, NULL), "fraud");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_NE, "fraud");
	assert_list(model_names(f->st, &q, NULL), "Churn-C,churn-a,churn-b,churn_x");
	search_filter_release(&flt);
	/* LIKE is case-sensitive and '_' is one character; ILIKE folds case. */
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_LIKE, "churn%");
	assert_list(model_names(f->st, &q, NULL), "churn-a,churn-b,churn_x");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_LIKE, "churn_a");
	assert_list(model_names(f->st, &q, NULL), "churn-a");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_ILIKE, "CHURN-%");
	assert_list(model_names(f->st, &q, NULL), "Churn-C,churn-a,churn-b");
	search_filter_release(&flt);
	/* Tags: only models that have the key, and every condition must hold. */
	add_str(&flt, SEARCH_TAG, SEARCH_ATTR_NONE, "team", SEARCH_OP_EQ, "growth");
	assert_list(model_names(f->st, &q, NULL), "churn-a");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_TAG, SEARCH_ATTR_NONE, "team", SEARCH_OP_NE, "growth");
	assert_list(model_names(f->st, &q, NULL), "Churn-C,fraud");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_TAG, SEARCH_ATTR_NONE, "team", SEARCH_OP_ILIKE, "g%");
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_LIKE, "churn%");
	assert_list(model_names(f->st, &q, NULL), "churn-a");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_TAG, SEARCH_ATTR_NONE, "team", SEARCH_OP_LIKE, "G%");
	assert_list(model_names(f->st, &q, NULL), "Churn-C");
	search_filter_release(&flt);
	/* Attributes registered models do not have are refused, not ignored. */
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_RUN_ID, "run_id", SEARCH_OP_EQ, "x");
	assert_err(store_model_search(f->st, &list, &next, &q, &err), ERR_INVALID, "run_id");
	search_filter_release(&flt);
	q.filter = NULL;

	/* Orders, with name ASC breaking ties. */
	q.order = &ord;
	add_order(&ord, SEARCH_ATTR_CREATION_TIME, "creation_timestamp", false);
	assert_list(model_names(f->st, &q, NULL), "churn_x,churn-a,Churn-C,fraud,churn-b");
	search_orders_release(&ord);
	add_order(&ord, SEARCH_ATTR_MODEL_NAME, "name", false);
	assert_list(model_names(f->st, &q, NULL), "fraud,churn_x,churn-b,churn-a,Churn-C");
	search_orders_release(&ord);
	test_db_exec(f->db, "UPDATE registered_models SET last_updated_time = 5 WHERE name IN "
			    "('fraud', 'churn-b')");
	add_order(&ord, SEARCH_ATTR_LAST_UPDATE_TIME, "last_updated_timestamp", true);
	assert_list(model_names(f->st, &q, NULL), "churn-b,fraud,Churn-C,churn-a,churn_x");
	search_orders_release(&ord);
	add_order(&ord, SEARCH_ATTR_VERSION_NUMBER, "version_number", true);
	assert_err(store_model_search(f->st, &list, &next, &q, &err), ERR_INVALID,
		   "Invalid order_by entity: version_number");
	search_orders_release(&ord);
	q.order = NULL;

	/* Paging: MLflow's tokens, the last page has none. */
	q.max_results = 2;
	assert_list(model_names(f->st, &q, &token), "Churn-C,churn-a");
	assert_non_null(token);
	assert_ok(search_page_token_decode(&offset, token, &err));
	assert_int_equal(offset, 2);
	free(token);
	q.offset = offset;
	assert_list(model_names(f->st, &q, &token), "churn-b,churn_x");
	assert_ok(search_page_token_decode(&offset, token, &err));
	free(token);
	q.offset = offset;
	assert_list(model_names(f->st, &q, &token), "fraud");
	assert_null(token);
	q.max_results = 5;
	q.offset = 0;
	assert_list(model_names(f->st, &q, &token), "Churn-C,churn-a,churn-b,churn_x,fraud");
	assert_null(token);

	q.max_results = 1001;
	assert_err(store_model_search(f->st, &list, &next, &q, &err), ERR_INVALID,
		   "Invalid value for request parameter max_results. It must be at most 1000, but "
		   "got value 1001");
	q.max_results = -1;
	assert_err(store_model_search(f->st, &list, &next, &q, &err), ERR_INVALID,
		   "It must be a positive integer, but got -1");
	q.max_results = 1000;
	q.offset = -1;
	assert_err(store_model_search(f->st, &list, &next, &q, &err), ERR_INVALID, "offset");
	assert_null(list.items);
	assert_null(next);
}

/* 101 models: max_results 0 is MLflow's default of 100. */
static void test_model_search_default_limit(void **state)
{
	struct fixture *f = *state;
	struct store_model_search q = { 0 };
	struct store_models list = STORE_MODELS_INIT;
	struct error err = ERROR_INIT;
	char *next = NULL, name[16];
	int64_t offset = 0;

	for (int i = 0; i < 101; i++) {
		snprintf(name, sizeof(name), "m%03d", i);
		assert_ok(store_model_create(f->st, name, NULL, NULL, 0, &err));
	}
	assert_ok(store_model_search(f->st, &list, &next, &q, &err));
	assert_int_equal(list.nr, 100);
	assert_string_equal(list.items[99].name, "m099");
	assert_ok(search_page_token_decode(&offset, next, &err));
	assert_int_equal(offset, 100);
	store_models_release(&list);
	free(next);
}

static void test_version_search(void **state)
{
	struct fixture *f = *state;
	struct search_filter flt = SEARCH_FILTER_INIT;
	struct search_orders ord = SEARCH_ORDERS_INIT;
	struct store_model_search q = { 0 };
	struct store_model_versions list = STORE_MODEL_VERSIONS_INIT;
	struct error err = ERROR_INIT;
	char run_a[ID_HEX_LEN + 1], run_b[ID_HEX_LEN + 1];
	char *token = NULL, *next = NULL;
	int64_t offset = 0, v = 0;

	new_run(f->st, run_a);
	new_run(f->st, run_b);
	/* a:1 (run_a), a:2 (run_b), a:3, b:1 (run_a), b:2, B:1 */
	{
		const char *names[] = { "a", "a", "a", "b", "b", "B" };
		const char *runs[] = { run_a, run_b, NULL, run_a, NULL, NULL };
		const char *sources[] = { "s3://bucket/a/1", "s3://bucket/a/2", "file:///A/3",
					  "S3://BUCKET/b/1", "file:///b/2",	"file:///B/1" };

		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			struct store_new_model_version nv = {
				.name = names[i],
				.create_model = true,
				.source = sources[i],
				.run_id = runs[i],
			};

			assert_ok(store_model_version_create(f->st, &v, &nv, &err));
			tick();
		}
	}
	assert_ok(store_model_version_set_tag(f->st, "a", 2, "stage", "canary", &err));
	assert_ok(store_model_version_set_tag(f->st, "b", 1, "stage", "Canary", &err));
	assert_ok(store_model_version_set_tag(f->st, "b", 2, "other", "canary", &err));

	/* Default: name ASC, then version DESC (MLflow's order). */
	assert_list(version_list(f->st, &q, NULL), "B:1,a:3,a:2,a:1,b:2,b:1");
	q.filter = &flt;
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_EQ, "a");
	assert_list(version_list(f->st, &q, NULL), "a:3,a:2,a:1");
	add_num(&flt, SEARCH_ATTR_VERSION_NUMBER, "version_number", SEARCH_OP_GT, 1);
	assert_list(version_list(f->st, &q, NULL), "a:3,a:2");
	search_filter_release(&flt);
	add_num(&flt, SEARCH_ATTR_VERSION_NUMBER, "version_number", SEARCH_OP_LE, 1);
	assert_list(version_list(f->st, &q, NULL), "B:1,a:1,b:1");
	search_filter_release(&flt);
	add_num(&flt, SEARCH_ATTR_VERSION_NUMBER, "version_number", SEARCH_OP_EQ, 2);
	assert_list(version_list(f->st, &q, NULL), "a:2,b:2");
	search_filter_release(&flt);
	add_num(&flt, SEARCH_ATTR_VERSION_NUMBER, "version_number", SEARCH_OP_NE, 1);
	add_num(&flt, SEARCH_ATTR_VERSION_NUMBER, "version_number", SEARCH_OP_LT, 3);
	add_num(&flt, SEARCH_ATTR_VERSION_NUMBER, "version_number", SEARCH_OP_GE, 2);
	assert_list(version_list(f->st, &q, NULL), "a:2,b:2");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_ILIKE, "b");
	assert_list(version_list(f->st, &q, NULL), "B:1,b:2,b:1");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_NE, "a");
	assert_list(version_list(f->st, &q, NULL), "B:1,b:2,b:1");
	search_filter_release(&flt);

	/* run_id: =, IN, NOT IN; versions without a run never match a run condition. */
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_RUN_ID, "run_id", SEARCH_OP_EQ, run_a);
	assert_list(version_list(f->st, &q, NULL), "a:1,b:1");
	search_filter_release(&flt);
	{
		const char *ids[] = { run_b, "0123456789abcdef0123456789abcdef" };

		add_list(&flt, SEARCH_ATTR_RUN_ID, "run_id", SEARCH_OP_IN, ids, 2);
		assert_list(version_list(f->st, &q, NULL), "a:2");
		search_filter_release(&flt);
		add_list(&flt, SEARCH_ATTR_RUN_ID, "run_id", SEARCH_OP_NOT_IN, ids, 1);
		assert_list(version_list(f->st, &q, NULL), "a:1,b:1");
		search_filter_release(&flt);
	}
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_RUN_ID, "run_id", SEARCH_OP_NE, run_a);
	assert_list(version_list(f->st, &q, NULL), "a:2");
	search_filter_release(&flt);

	/* source_path */
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_SOURCE_PATH, "source_path", SEARCH_OP_LIKE,
		"s3://%");
	assert_list(version_list(f->st, &q, NULL), "a:2,a:1");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_SOURCE_PATH, "source_path", SEARCH_OP_ILIKE,
		"s3://%");
	assert_list(version_list(f->st, &q, NULL), "a:2,a:1,b:1");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_SOURCE_PATH, "source_path", SEARCH_OP_EQ,
		"file:///A/3");
	assert_list(version_list(f->st, &q, NULL), "a:3");
	search_filter_release(&flt);

	/* tags */
	add_str(&flt, SEARCH_TAG, SEARCH_ATTR_NONE, "stage", SEARCH_OP_EQ, "canary");
	assert_list(version_list(f->st, &q, NULL), "a:2");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_TAG, SEARCH_ATTR_NONE, "stage", SEARCH_OP_ILIKE, "CAN%");
	assert_list(version_list(f->st, &q, NULL), "a:2,b:1");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_TAG, SEARCH_ATTR_NONE, "stage", SEARCH_OP_NE, "canary");
	assert_list(version_list(f->st, &q, NULL), "b:1");
	search_filter_release(&flt);

	/* Shapes the registry does not search are ERR_INVALID, not a crash. */
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_MODEL_NAME, "name", SEARCH_OP_LT, "a");
	assert_err(store_model_version_search(f->st, &list, &next, &q, &err), ERR_INVALID, "name");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_RUN_ID, "run_id", SEARCH_OP_LIKE, "%");
	assert_err(store_model_version_search(f->st, &list, &next, &q, &err), ERR_INVALID,
		   "run_id");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_ATTRIBUTE, SEARCH_ATTR_VERSION_NUMBER, "version_number", SEARCH_OP_EQ,
		"1");
	assert_err(store_model_version_search(f->st, &list, &next, &q, &err), ERR_INVALID,
		   "version_number");
	search_filter_release(&flt);
	add_str(&flt, SEARCH_PARAM, SEARCH_ATTR_NONE, "p", SEARCH_OP_EQ, "1");
	assert_err(store_model_version_search(f->st, &list, &next, &q, &err), ERR_INVALID, "p");
	search_filter_release(&flt);
	q.filter = NULL;

	/* Orders: the caller's terms, then name ASC and version DESC unless given. */
	q.order = &ord;
	add_order(&ord, SEARCH_ATTR_VERSION_NUMBER, "version_number", true);
	assert_list(version_list(f->st, &q, NULL), "B:1,a:1,b:1,a:2,b:2,a:3");
	search_orders_release(&ord);
	add_order(&ord, SEARCH_ATTR_CREATION_TIME, "creation_timestamp", false);
	assert_list(version_list(f->st, &q, NULL), "B:1,b:2,b:1,a:3,a:2,a:1");
	search_orders_release(&ord);
	add_order(&ord, SEARCH_ATTR_MODEL_NAME, "name", false);
	assert_list(version_list(f->st, &q, NULL), "b:2,b:1,a:3,a:2,a:1,B:1");
	search_orders_release(&ord);
	test_db_exec(f->db, "UPDATE model_versions SET last_updated_time = 7");
	add_order(&ord, SEARCH_ATTR_LAST_UPDATE_TIME, "last_updated_timestamp", true);
	assert_list(version_list(f->st, &q, NULL), "B:1,a:3,a:2,a:1,b:2,b:1");
	search_orders_release(&ord);
	q.order = NULL;

	/* Paging */
	q.max_results = 4;
	assert_list(version_list(f->st, &q, &token), "B:1,a:3,a:2,a:1");
	assert_ok(search_page_token_decode(&offset, token, &err));
	free(token);
	assert_int_equal(offset, 4);
	q.offset = offset;
	assert_list(version_list(f->st, &q, &token), "b:2,b:1");
	assert_null(token);

	q.offset = 0;
	q.max_results = 200001;
	assert_err(store_model_version_search(f->st, &list, &next, &q, &err), ERR_INVALID,
		   "It must be at most 200000, but got value 200001");
	q.max_results = 200000;
	assert_list(version_list(f->st, &q, &token), "B:1,a:3,a:2,a:1,b:2,b:1");
	assert_null(token);
	assert_null(list.items);
}

/* Backends without a registry ------------------------------------------------------------------ */

static void test_http_store_unsupported(void **state)
{
	struct store_model m = STORE_MODEL_INIT;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	int64_t v = 0;

	(void)state;
	/* Nothing is sent before the first call, and the registry never gets that far. */
	assert_ok(store_open(&st, "http://127.0.0.1:9", &err));
	assert_err(store_model_get(st, &m, "m", &err), ERR_UNSUPPORTED,
		   "the http store has no model registry");
	assert_err(set_alias(st, &v, "m", "prod", 1, 0, &err), ERR_UNSUPPORTED,
		   "no model registry");
	assert_err(store_model_history(st, NULL, "m", &err), ERR_UNSUPPORTED, "no model registry");
	/* Argument checks come first, the same for every backend. */
	assert_err(set_alias(st, &v, "m", "latest", 1, 0, &err), ERR_INVALID, "latest");
	store_close(st);
}

/* Concurrency ---------------------------------------------------------------------------------- */

#define NPROC 8
#define ROUNDS 4

enum child_outcome {
	CHILD_WON = 0,
	CHILD_FAILED = 1,
	CHILD_CONFLICT = 2,
};

/*
 * One promotion attempt: the same expectation as every other child, a target of its own that
 * no alias has pointed to yet (so no attempt is a no-op).
 */
static int child_promote(const char *uri, const char *log, int n, int64_t target, int64_t expect)
{
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	int64_t from = 0;
	int rc;

	if ((rc = store_open(&st, uri, &err)) == 0)
		rc = set_alias(st, &from, "m", "production", target, expect, &err);
	store_close(st);
	if (rc == 0 && from == expect)
		return CHILD_WON;
	if (rc == ERR_CONFLICT && strstr(err.msg, "someone moved it meanwhile"))
		return CHILD_CONFLICT;
	{
		FILE *fp = fopen(log, "w");

		if (fp) {
			fprintf(fp, "child %d: rc %d from %" PRId64 ": %s\n", n, rc, from, err.msg);
			fclose(fp);
		}
	}
	return CHILD_FAILED;
}

/* Forks NPROC children that start together; returns the winner's target. */
static int64_t promote_race(const char *dir, const char *uri, int round, int64_t expect)
{
	pid_t pids[NPROC];
	int gate[2], winner = -1, wins = 0;
	char *log = test_path(dir, "child.log");

	assert_int_equal(pipe(gate), 0);
	fflush(NULL);
	for (int n = 0; n < NPROC; n++) {
		pids[n] = fork();
		assert_true(pids[n] >= 0);
		if (pids[n] == 0) {
			char c;

			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(child_promote(uri, log, n, 2 + round * NPROC + n, expect));
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (int n = 0; n < NPROC; n++) {
		int status;

		assert_int_equal(waitpid(pids[n], &status, 0), pids[n]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == CHILD_WON) {
			winner = n;
			wins++;
		} else if (WEXITSTATUS(status) != CHILD_CONFLICT) {
			FILE *fp = fopen(log, "r");
			char line[600] = "";

			if (fp && !fgets(line, sizeof(line), fp))
				line[0] = '\0';
			if (fp)
				fclose(fp);
			fail_msg("child %d failed: %s", n, line);
		}
	}
	free(log);
	assert_int_equal(wins, 1);
	return 2 + round * NPROC + winner;
}

/* Many processes promote the same alias from the same expected version: exactly one wins. */
static void test_concurrent_alias_cas(void **state)
{
	struct fixture *f = *state;
	struct store_registry_events h = STORE_REGISTRY_EVENTS_INIT;
	struct error err = ERROR_INIT;
	int64_t expect = 1;

	for (int i = 0; i < 1 + ROUNDS * NPROC; i++)
		add_version(f->st, "m", "s");
	assert_ok(set_alias(f->st, NULL, "m", "production", 1, 0, &err));
	for (int round = 0; round < ROUNDS; round++) {
		expect = promote_race(f->dir, f->uri, round, expect);
		assert_int_equal(alias_of(f->st, "m", "production"), expect);
	}
	/* One event per successful move, each continuing from the one before. */
	assert_ok(store_model_history(f->st, &h, "m", &err));
	assert_int_equal(h.nr, 1 + ROUNDS);
	for (size_t i = 1; i < h.nr; i++) {
		assert_int_equal(h.items[i].kind, STORE_EVENT_ALIAS_MOVE);
		assert_int_equal(h.items[i].from_version, h.items[i - 1].to_version);
	}
	assert_int_equal(h.items[h.nr - 1].to_version, expect);
	store_registry_events_release(&h);
}

#define VERSIONS_PER_CHILD 10

/* Versions created from many processes at once: unique numbers 1..N without gaps. */
static void test_concurrent_version_numbers(void **state)
{
	struct fixture *f = *state;
	pid_t pids[NPROC];
	int gate[2];

	assert_int_equal(pipe(gate), 0);
	fflush(NULL);
	for (int n = 0; n < NPROC; n++) {
		pids[n] = fork();
		assert_true(pids[n] >= 0);
		if (pids[n] == 0) {
			struct store_new_model_version nv = { .name = "m",
							      .create_model = true,
							      .source = "s" };
			struct error err = ERROR_INIT;
			struct store *st = NULL;
			int64_t v = 0;
			int rc;
			char c;

			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			rc = store_open(&st, f->uri, &err);
			for (int i = 0; rc == 0 && i < VERSIONS_PER_CHILD; i++)
				rc = store_model_version_create(st, &v, &nv, &err);
			store_close(st);
			if (rc)
				fprintf(stderr, "child %d: %s\n", n, err.msg);
			_exit(rc ? 1 : 0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (int n = 0; n < NPROC; n++) {
		int status;

		assert_int_equal(waitpid(pids[n], &status, 0), pids[n]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(test_db_int(f->db, "SELECT count(DISTINCT version) FROM model_versions"),
			 NPROC * VERSIONS_PER_CHILD);
	assert_int_equal(test_db_int(f->db, "SELECT max(version) FROM model_versions"),
			 NPROC * VERSIONS_PER_CHILD);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM registered_models"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_names),
		cmocka_unit_test(test_alias_rules),
		cmocka_unit_test_setup_teardown(test_model_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_create_and_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_writes_leave_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_numbers_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_update_delete_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_delete_cascades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latest_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transition_archive_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_set_move_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_rollback_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_search_default_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_search, setup, teardown),
		cmocka_unit_test(test_http_store_unsupported),
		cmocka_unit_test_setup_teardown(test_concurrent_alias_cas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_version_numbers, setup, teardown),
	};

	return cmocka_run_group_tests_name("registry_store", tests, NULL, NULL);
}
