/*
 * Parsing and formatting of model references: models:/ URIs with MLflow 2.10.2's rules, paths,
 * and ferry's NAME/3, NAME@alias shorthand (model_uri.h has the rules and the deviations).
 */
#include "util/common.h"
#include "registry/model_uri.h"
#include "util/strbuf.h"

#include <ctype.h>

/* Inputs are echoed in messages up to this many bytes, so the message's end still fits. */
#define ECHO_MAX 200

#define SHORT_FORMS "NAME/VERSION, NAME/STAGE, NAME/latest or NAME@ALIAS"

/* What a reference says after the model name, before any checks: MLflow's split. */
struct ref_parts {
	const char *name, *suffix, *alias; /* borrowed spans of the input */
	size_t name_len, suffix_len, alias_len;
	bool has_suffix, has_alias;
};

static int echo_len(const char *s)
{
	size_t n = strlen(s);

	return (int)(n > ECHO_MAX ? ECHO_MAX : n);
}

static const char *echo_more(const char *s)
{
	return strlen(s) > ECHO_MAX ? "..." : "";
}

static int improper_uri(const char *uri, struct error *err)
{
	return error_set(
	    err, ERR_INVALID,
	    "Not a proper models:/ URI: %.*s%s. Models URIs must be of the form "
	    "'models:/model_name/suffix' or 'models:/model_name@alias' where suffix is "
	    "a model version, stage, or the string 'latest' and where alias is a "
	    "registered model alias. Only one of suffix or alias can be defined at a "
	    "time.",
	    echo_len(uri), uri, echo_more(uri));
}

static int improper_short(const char *text, bool allow_bare_name, struct error *err)
{
	return error_set(err, ERR_INVALID, "model reference '%.*s%s': expected %s" SHORT_FORMS,
			 echo_len(text), text, echo_more(text), allow_bare_name ? "NAME, " : "");
}

/* A bare name where a version is needed: show the forms with the user's name in them. */
static int no_version(const char *text, struct error *err)
{
	int n = echo_len(text) > 60 ? 60 : echo_len(text);
	const char *more = strlen(text) > 60 ? "..." : "";

	return error_set(err, ERR_INVALID,
			 "model reference '%.*s%s' names no version: expected %.*s%s/VERSION, "
			 "%.*s%s/STAGE, %.*s%s/latest or %.*s%s@ALIAS",
			 echo_len(text), text, echo_more(text), n, text, more, n, text, more, n,
			 text, more, n, text, more);
}

/* Python's str.strip() == "" on the ASCII whitespace a command line or URI can carry. */
static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!s[i] || !strchr(" \t\n\r\v\f", s[i]))
			return false;
	return true;
}

/*
 * Splits "NAME/SUFFIX" or "NAME@ALIAS" (at the last '@') the way MLflow does. Returns false
 * for what MLflow calls improper: more than one '/', a blank name, suffix or alias, or a bare
 * name (which the short form may accept: has_suffix and has_alias both false).
 */
static bool split_ref(struct ref_parts *out, const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len), *at = NULL;

	memset(out, 0, sizeof(*out));
	out->name = s;
	out->name_len = len;
	if (slash) {
		if (memchr(slash + 1, '/', len - (size_t)(slash + 1 - s)))
			return false;
		out->has_suffix = true;
		out->name_len = (size_t)(slash - s);
		out->suffix = slash + 1;
		out->suffix_len = len - out->name_len - 1;
		return !blank(out->name, out->name_len) && !blank(out->suffix, out->suffix_len);
	}
	for (size_t i = 0; i < len; i++)
		if (s[i] == '@')
			at = s + i;
	if (at) {
		out->has_alias = true;
		out->name_len = (size_t)(at - s);
		out->alias = at + 1;
		out->alias_len = len - out->name_len - 1;
		if (blank(out->alias, out->alias_len))
			return false;
	}
	return !blank(out->name, out->name_len);
}

/*
 * A digit-only suffix is a version, as MLflow's isdigit() test; one that starts like a number
 * but is not all digits ("1x", "-1", "+2") is a bad version rather than a stage named "1x".
 */
static bool version_shaped(const char *suffix)
{
	return isdigit((unsigned char)suffix[0]) || suffix[0] == '-' || suffix[0] == '+';
}

static int version_error(const char *what, const char *text, const char *suffix,
			 const char *problem, struct error *err)
{
	return error_set(err, ERR_INVALID, "%s '%.*s%s': version '%.40s%s' %s", what,
			 echo_len(text), text, echo_more(text), suffix,
			 strlen(suffix) > 40 ? "..." : "", problem);
}

static int parse_version(int64_t *out, const char *what, const char *text, const char *suffix,
			 struct error *err)
{
	int64_t v = 0;

	if (suffix[strspn(suffix, "0123456789")])
		return version_error(what, text, suffix, "is not a positive integer", err);
	for (const char *p = suffix; *p; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return version_error(what, text, suffix, "is too large", err);
		v = v * 10 + (*p - '0');
	}
	if (!v)
		return version_error(what, text, suffix, "is not a positive integer", err);
	*out = v;
	return 0;
}

/*
 * Turns checked parts into *out: the suffix into a version, "latest" or a stage; the alias
 * through store_alias_check. what and text name the input in messages.
 */
static int build_ref(struct model_ref *out, const struct ref_parts *parts, const char *what,
		     const char *text, struct error *err)
{
	struct model_ref ref = MODEL_REF_INIT;
	char *suffix = NULL;
	int rc = 0;

	ref.name = xstrndup(parts->name, parts->name_len);
	if (parts->has_suffix) {
		suffix = xstrndup(parts->suffix, parts->suffix_len);
		if (version_shaped(suffix)) {
			ref.kind = MODEL_REF_VERSION;
			rc = parse_version(&ref.version, what, text, suffix, err);
		} else if (!strcasecmp(suffix, "latest")) {
			ref.kind = MODEL_REF_LATEST;
		} else {
			ref.kind = MODEL_REF_STAGE;
			rc = store_stage_parse(&ref.stage, suffix, err);
		}
	} else if (parts->has_alias) {
		ref.kind = MODEL_REF_ALIAS;
		ref.alias = xstrndup(parts->alias, parts->alias_len);
		rc = store_alias_check(ref.alias, err);
	} else {
		ref.kind = MODEL_REF_NAME_ONLY;
	}
	if (rc < 0)
		goto out;
	*out = ref;
	ref = (struct model_ref)MODEL_REF_INIT;
out:
	free(suffix);
	model_ref_release(&ref);
	return rc;
}

static bool has_scheme(const char *s)
{
	return !strncasecmp(s, MODEL_URI_SCHEME, strlen(MODEL_URI_SCHEME));
}

/*
 * After "models:", as urlparse sees it: an optional "//registry" up to the next '/' or '?', the
 * path up to '?', and a query. MLflow checks the path first and ignores the rest; ferry then
 * refuses a registry or a query rather than ignore them.
 */
static int parse_models_uri(struct model_ref *out, const char *uri, struct error *err)
{
	const char *rest = uri + strlen(MODEL_URI_SCHEME), *path = rest, *query;
	size_t reg_len = 0, path_len;
	struct ref_parts parts;

	if (rest[0] == '/' && rest[1] == '/') {
		reg_len = strcspn(rest + 2, "/?");
		path = rest + 2 + reg_len;
	}
	path_len = strcspn(path, "?");
	query = path + path_len;
	if (path[0] != '/' || path_len <= 1)
		return improper_uri(uri, err);
	/* MLflow strips every leading '/' of the path: "models:////m/1" is "m/1" there too */
	while (path[0] == '/' && path_len > 0) {
		path++;
		path_len--;
	}
	if (!split_ref(&parts, path, path_len) || (!parts.has_suffix && !parts.has_alias))
		return improper_uri(uri, err);
	if (reg_len)
		return error_set(err, ERR_UNSUPPORTED,
				 "model uri '%.*s%s': a registry in the uri ('%.*s') is not "
				 "supported: ferry reads its own store",
				 echo_len(uri), uri, echo_more(uri),
				 (int)(reg_len > 64 ? 64 : reg_len), rest + 2);
	if (*query)
		return error_set(err, ERR_INVALID,
				 "model uri '%.*s%s': a query ('%.*s') is not supported",
				 echo_len(uri), uri, echo_more(uri), echo_len(query), query);
	return build_ref(out, &parts, "model uri", uri, err);
}

int model_uri_parse(struct model_ref *out, const char *uri, struct error *err)
{
	if (!uri || !*uri)
		return error_set(err, ERR_INVALID, "model uri is empty");
	if (has_scheme(uri))
		return parse_models_uri(out, uri, err);
	*out = (struct model_ref)MODEL_REF_INIT;
	out->path = xstrdup(uri);
	return 0;
}

int model_ref_parse_short(struct model_ref *out, const char *text, bool allow_bare_name,
			  struct error *err)
{
	struct ref_parts parts;

	if (!text || !*text)
		return error_set(err, ERR_INVALID,
				 "model reference is empty: expected %s" SHORT_FORMS,
				 allow_bare_name ? "NAME, " : "");
	if (has_scheme(text))
		return parse_models_uri(out, text, err);
	if (!split_ref(&parts, text, strlen(text)))
		return improper_short(text, allow_bare_name, err);
	if (!parts.has_suffix && !parts.has_alias && !allow_bare_name)
		return no_version(text, err);
	return build_ref(out, &parts, "model reference", text, err);
}

void model_ref_release(struct model_ref *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->alias);
	free(r->path);
	*r = (struct model_ref)MODEL_REF_INIT;
}

/* The part after the name, shared by both forms: "/3", "@alias", "/Production", "/latest". */
static void format_tail(const struct model_ref *r, struct strbuf *out)
{
	switch (r->kind) {
	case MODEL_REF_VERSION:
		strbuf_addf(out, "/%" PRId64, r->version);
		break;
	case MODEL_REF_ALIAS:
		strbuf_addf(out, "@%s", r->alias);
		break;
	case MODEL_REF_STAGE:
		strbuf_addf(out, "/%s", store_stage_name(r->stage));
		break;
	case MODEL_REF_LATEST:
		strbuf_addstr(out, "/latest");
		break;
	case MODEL_REF_NAME_ONLY:
	case MODEL_REF_PATH:
		break;
	}
}

void model_ref_format(const struct model_ref *r, struct strbuf *out)
{
	if (r->kind == MODEL_REF_PATH) {
		strbuf_addstr(out, r->path);
		return;
	}
	if (r->kind != MODEL_REF_NAME_ONLY)
		strbuf_addstr(out, MODEL_URI_SCHEME "/");
	strbuf_addstr(out, r->name);
	format_tail(r, out);
}

void model_ref_format_short(const struct model_ref *r, struct strbuf *out)
{
	if (r->kind == MODEL_REF_PATH) {
		strbuf_addstr(out, r->path);
		return;
	}
	strbuf_addstr(out, r->name);
	format_tail(r, out);
}

static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool model_ref_equal(const struct model_ref *a, const struct model_ref *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case MODEL_REF_PATH:
		return str_equal(a->path, b->path);
	case MODEL_REF_VERSION:
		return str_equal(a->name, b->name) && a->version == b->version;
	case MODEL_REF_ALIAS:
		return str_equal(a->name, b->name) && str_equal(a->alias, b->alias);
	case MODEL_REF_STAGE:
		return str_equal(a->name, b->name) && a->stage == b->stage;
	case MODEL_REF_LATEST:
	case MODEL_REF_NAME_ONLY:
		return str_equal(a->name, b->name);
	}
	return false;
}
