/* Starting, filling and ending runs in the store, with MLflow's naming and tag conventions. */
#include "util/common.h"
#include "track/tracking.h"
#include "util/parse.h"
#include "util/strbuf.h"
#include "util/versions.h"

#include <pwd.h>

/* MLflow's generator draws from lists like these (mlflow/utils/name_utils.py). */
static const char *const adjectives[] = {
	"abundant",    "able",	     "agreeable",   "amazing",	 "ambitious",  "auspicious",
	"awesome",     "bedecked",   "big",	    "bold",	 "brave",      "bright",
	"calm",	       "capable",    "carefree",    "classy",	 "clean",      "clever",
	"colorful",    "crawling",   "debonair",    "defiant",	 "delicate",   "dapper",
	"eager",       "enchanting", "exultant",    "fearless",	 "funny",      "gaudy",
	"gentle",      "glamorous",  "gregarious",  "handsome",	 "honorable",  "illustrious",
	"intelligent", "judicious",  "kindly",	    "learned",	 "legendary",  "likeable",
	"loud",	       "luminous",   "magnificent", "masked",	 "melodic",    "merciful",
	"mercurial",   "nebulous",   "omniscient",  "orderly",	 "overjoyed",  "peaceful",
	"polite",      "popular",    "powerful",    "puzzled",	 "redolent",   "resilient",
	"respected",   "rogue",	     "rumbling",    "salty",	 "sassy",      "secretive",
	"selective",   "sedate",     "serious",	    "shivering", "silent",     "skillful",
	"sneaky",      "spiffy",     "stately",	    "suave",	 "thoughtful", "traveling",
	"trusting",    "unequaled",  "upbeat",	    "valuable",	 "victorious", "vaunted",
	"welcoming",   "whimsical",  "wise",	    "youthful",	 "zealous",
};

static const char *const nouns[] = {
	"ant",	   "ape",    "asp",    "auk",	  "bass",   "bat",   "bear",	 "bee",	  "bird",
	"boar",	   "bug",    "calf",   "carp",	  "cat",    "chimp", "cod",	 "colt",  "conch",
	"cow",	   "crab",   "crane",  "croc",	  "crow",   "cub",   "deer",	 "doe",	  "dog",
	"dolphin", "donkey", "dove",   "duck",	  "eel",    "elk",   "fawn",	 "finch", "fish",
	"flea",	   "fly",    "foal",   "fowl",	  "fox",    "frog",  "gnat",	 "gnu",	  "goat",
	"goose",   "grouse", "grub",   "gull",	  "hare",   "hawk",  "hen",	 "hog",	  "horse",
	"hound",   "jay",    "kit",    "kite",	  "koi",    "lamb",  "lark",	 "loon",  "lynx",
	"mare",	   "midge",  "mink",   "mole",	  "moose",  "moth",  "mouse",	 "mule",  "newt",
	"owl",	   "ox",     "panda",  "penguin", "perch",  "pig",   "pug",	 "quail", "ram",
	"rat",	   "ray",    "robin",  "roo",	  "rook",   "seal",  "shad",	 "shark", "sheep",
	"shoat",   "shrew",  "shrike", "shrimp",  "skink",  "skunk", "sloth",	 "slug",  "smelt",
	"snail",   "snake",  "snipe",  "sow",	  "sponge", "squid", "squirrel", "stag",  "steed",
	"stoat",   "stork",  "swan",   "tern",	  "toad",   "trout", "turtle",	 "vole",  "wasp",
	"whale",   "wolf",   "worm",   "wren",	  "yak",    "zebra",
};

void track_run_name(char *out, size_t size, uint64_t seed)
{
	/* splitmix64 spreads nearby seeds (consecutive times) over the lists */
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	snprintf(out, size, "%s-%s-%u", adjectives[z % ARRAY_SIZE(adjectives)],
		 nouns[(z >> 16) % ARRAY_SIZE(nouns)], (unsigned)((z >> 40) % 1000));
}

const char *track_user_name(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u && *u)
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

/* The experiment named name, created when missing; its id into *out (caller frees). */
static int experiment_id(struct store *st, char **out, const char *name, struct error *err)
{
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	int ret;

	if (!name) {
		*out = xstrdup(STORE_DEFAULT_EXPERIMENT_ID);
		return 0;
	}
	ret = store_experiment_get_by_name(st, &exp, name, err);
	if (!ret) {
		if (exp.deleted)
			ret = error_set(err, ERR_INVALID,
					"experiment '%s' is deleted; restore it or choose another "
					"name",
					name);
		else
			*out = xstrdup(exp.id);
		store_experiment_release(&exp);
		return ret;
	}
	if (ret != ERR_NOTFOUND)
		return ret;
	ret = store_experiment_create(st, out, name, NULL, err);
	if (ret == ERR_EXISTS) /* created meanwhile by another process: use it */
		return experiment_id(st, out, name, err);
	return ret;
}

/* Flattens obj's leaves into "prefix.key" names, calling fn on each. */
static void flatten(const json_t *obj, struct strbuf *prefix,
		    void (*fn)(const char *key, const json_t *v, void *data), void *data)
{
	const char *key;
	json_t *v;
	size_t len = prefix->len;

	json_object_foreach((json_t *)obj, key, v) {
		if (len)
			strbuf_addch(prefix, '.');
		strbuf_addstr(prefix, key);
		if (json_is_object(v))
			flatten(v, prefix, fn, data);
		else
			fn(prefix->buf, v, data);
		strbuf_setlen(prefix, len);
	}
}

struct kv_list {
	struct store_kv *v;
	size_t nr, alloc;
};

static void add_kv(struct kv_list *l, const char *key, const char *value)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr].key = xstrdup(key);
	l->v[l->nr].value = value ? xstrdup(value) : NULL;
	l->nr++;
}

static void kv_list_release(struct kv_list *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		free((char *)l->v[i].key);
		free((char *)l->v[i].value);
	}
	free(l->v);
}

static void add_env_leaf(const char *key, const json_t *v, void *data)
{
	struct strbuf name = STRBUF_INIT;

	strbuf_addf(&name, "ferry.env.%s", key);
	if (json_is_string(v))
		add_kv(data, name.buf, json_string_value(v));
	strbuf_release(&name);
}

int track_run_start(struct store *st, char run_id[ID_HEX_LEN + 1],
		    const struct track_run_options *o, struct error *err)
{
	struct store_new_run run = { 0 };
	struct kv_list tags = { NULL, 0, 0 };
	struct strbuf prefix = STRBUF_INIT;
	char name[96], *exp = NULL;
	json_t *env = versions_environment();
	int ret;

	ret = experiment_id(st, &exp, o->experiment, err);
	if (ret)
		goto out;
	if (o->name)
		snprintf(name, sizeof(name), "%s", o->name);
	else
		track_run_name(name, sizeof(name), (uint64_t)time_now_ms() ^ (uint64_t)getpid());
	add_kv(&tags, "mlflow.runName", name);
	add_kv(&tags, "mlflow.user", track_user_name());
	add_kv(&tags, "mlflow.source.type", "LOCAL");
	if (o->source_name)
		add_kv(&tags, "mlflow.source.name", o->source_name);
	if (o->git_commit) {
		add_kv(&tags, "mlflow.source.git.commit", o->git_commit);
		add_kv(&tags, "ferry.source.dirty", o->git_dirty ? "true" : "false");
	}
	flatten(env, &prefix, add_env_leaf, &tags);
	run.experiment_id = exp;
	run.name = name;
	run.user = track_user_name();
	run.status = STORE_RUN_RUNNING;
	run.source_git_commit = o->git_commit;
	run.source_dirty = o->git_dirty;
	run.command = o->command;
	run.tags = tags.v;
	run.nr_tags = tags.nr;
	ret = store_run_create(st, run_id, &run, err);
out:
	kv_list_release(&tags);
	strbuf_release(&prefix);
	json_decref(env);
	free(exp);
	return ret;
}

int track_run_end(struct store *st, const char *run_id, enum store_run_status status,
		  struct error *err)
{
	return store_run_set_status(st, run_id, status, time_now_ms(), err);
}

struct metric_list {
	struct store_metric *v;
	char **keys;
	size_t nr, alloc, kalloc;
	int64_t step, now;
};

static void add_metric_leaf(const char *key, const json_t *v, void *data)
{
	struct metric_list *l = data;
	double x;

	if (json_is_number(v))
		x = json_number_value(v);
	else if (json_is_boolean(v))
		x = json_is_true(v);
	else
		return;
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	ALLOC_GROW(l->keys, l->nr + 1, l->kalloc);
	l->keys[l->nr] = xstrdup(key);
	l->v[l->nr] = (struct store_metric){ l->keys[l->nr], x, l->now, l->step };
	l->nr++;
}

int track_log_metrics_json(struct store *st, const char *run_id, const json_t *obj, int64_t step,
			   struct error *err)
{
	struct metric_list l = { NULL, NULL, 0, 0, 0, step, time_now_ms() };
	struct strbuf prefix = STRBUF_INIT;
	int ret = 0;

	flatten(obj, &prefix, add_metric_leaf, &l);
	if (l.nr)
		ret = store_run_log_metrics(st, run_id, l.v, l.nr, err);
	for (size_t i = 0; i < l.nr; i++)
		free(l.keys[i]);
	free(l.keys);
	free(l.v);
	strbuf_release(&prefix);
	return ret;
}

static void add_param_leaf(const char *key, const json_t *v, void *data)
{
	char *text;

	if (json_is_string(v)) {
		add_kv(data, key, json_string_value(v));
		return;
	}
	if (json_is_array(v) || json_is_null(v))
		return;
	if (json_is_real(v)) { /* 0.2, not 0.20000000000000001 */
		char buf[FORMAT_DOUBLE_SIZE];

		format_double(buf, json_real_value(v));
		add_kv(data, key, buf);
		return;
	}
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (text)
		add_kv(data, key, text);
	free(text);
}

int track_log_params_json(struct store *st, const char *run_id, const json_t *obj,
			  struct error *err)
{
	struct kv_list l = { NULL, 0, 0 };
	struct strbuf prefix = STRBUF_INIT;
	int ret = 0;

	flatten(obj, &prefix, add_param_leaf, &l);
	if (l.nr)
		ret = store_run_log_params(st, run_id, l.v, l.nr, err);
	kv_list_release(&l);
	strbuf_release(&prefix);
	return ret;
}
