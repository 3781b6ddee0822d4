/*
 * Run artifacts over MLflow's REST API: artifacts/list of the tracking API and the
 * mlflow-artifacts proxy (PUT, GET, DELETE and listings under <exp>/<run_id>/artifacts/<path>),
 * as the 2.10.2 server answers them (protocols.md 2.3, 2.4), on track/artifacts.h: bytes in the
 * object cache, rows in the store.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "track/artifacts.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <ctype.h>

/* What an mlflow-artifacts path names: <exp>/<run_id>/artifacts[/<rel>]. */
struct proxy_path {
	const char *exp, *run, *rel; /* rel: "" for the run's root; all point into buf */
	char *buf;		     /* owned */
};

static void proxy_path_release(struct proxy_path *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

static bool all_of(const char *s, size_t n, int (*is)(int))
{
	for (size_t i = 0; i < n; i++)
		if (!is((unsigned char)s[i]))
			return false;
	return n > 0;
}

static int is_lower_hex(int c)
{
	return isdigit(c) || (c >= 'a' && c <= 'f');
}

/*
 * Splits path (already checked safe, or "") into its parts; 1 if it has the shape ferry keeps
 * artifacts in, 0 if not (another layout, or a prefix of this one).
 */
static int proxy_path_parse(struct proxy_path *out, const char *path)
{
	char *buf = xstrdup(path), *exp = buf, *run, *rest;
	const char *rel;

	run = strchr(exp, '/');
	if (!run)
		goto no;
	*run++ = '\0';
	rest = strchr(run, '/');
	if (!rest)
		goto no;
	*rest++ = '\0';
	if (!all_of(exp, strlen(exp), isdigit) || strlen(run) != ID_HEX_LEN ||
	    !all_of(run, ID_HEX_LEN, is_lower_hex))
		goto no;
	if (!strcmp(rest, "artifacts"))
		rel = rest + strlen(rest);
	else if (!skip_prefix(rest, "artifacts/", &rel))
		goto no;
	out->buf = buf;
	out->exp = exp;
	out->run = run;
	out->rel = rel;
	return 1;
no:
	free(buf);
	return 0;
}

/* MLflow's validate_path_is_safe message; stricter than MLflow: "a//b" and "./a" too. */
static int invalid_path(struct error *err)
{
	return error_set(err, ERR_INVALID, "Invalid path");
}

static int no_artifacts(struct mlflow_call *c, struct error *err)
{
	return mlflow_fail(
	    c, err, "NOT_IMPLEMENTED", 501, "this server does not serve artifacts: %s",
	    c->no_artifacts_why ? c->no_artifacts_why : "it was started without an object cache");
}

/*
 * The run a proxy path names, which must exist and belong to that experiment (404 otherwise,
 * with MLflow's message for a missing run).
 */
static int proxy_run(struct mlflow_call *c, const struct proxy_path *p, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	int rc = mlflow_get_run(c, &run, p->run, err);

	if (!rc && strcmp(run.experiment_id, p->exp))
		rc = error_set(err, ERR_NOTFOUND, "Run with id=%s not found in experiment %s",
			       p->run, p->exp);
	store_run_release(&run);
	return rc;
}

/* route_rest of a file route as a proxy path of a run (400 "Invalid path" otherwise). */
static int file_path(struct mlflow_call *c, struct proxy_path *out, bool allow_root,
		     struct error *err)
{
	const char *rest = c->http->route_rest;

	if (!fs_relpath_is_safe(rest) || !proxy_path_parse(out, rest))
		return invalid_path(err);
	if (!allow_root && !*out->rel) {
		proxy_path_release(out);
		return invalid_path(err);
	}
	return proxy_run(c, out, err);
}

/* PUT ----------------------------------------------------------------------------------------- */

int mlflow_artifacts_proxy_put(struct mlflow_call *c, struct error *err)
{
	struct proxy_path p = { 0 };
	int rc;

	if (!c->cas)
		return no_artifacts(c, err);
	if ((rc = file_path(c, &p, false, err)) < 0)
		goto out;
	rc = track_artifact_put_buffer(c->st, c->cas, p.run, p.rel, c->http->body,
				       c->http->body_len, NULL, err);
out:
	proxy_path_release(&p);
	return rc;
}

/* GET a file ---------------------------------------------------------------------------------- */

/* mlflow/server/handlers.py _guess_mime_type: its TEXT_EXTENSIONS, then Python's mimetypes. */
static const char *guess_mime_type(const char *name)
{
	static const char *const text[] = {
		"txt", "log",	     "err",	"cfg",	     "conf", "cnf",  "cf",
		"ini", "properties", "prop",	"hocon",     "toml", "yaml", "yml",
		"xml", "json",	     "js",	"py",	     "py3",  "csv",  "tsv",
		"md",  "rst",	     "MLmodel", "MLproject",
	};
	static const struct {
		const char *ext, *type;
	} known[] = {
		{ "png", "image/png" },	      { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },     { "gif", "image/gif" },
		{ "svg", "image/svg+xml" },   { "html", "text/html" },
		{ "htm", "text/html" },	      { "pdf", "application/pdf" },
		{ "zip", "application/zip" }, { "tar", "application/x-tar" },
	};
	const char *dot = strrchr(name, '.');
	const char *ext = dot && dot != name ? dot + 1 : name;

	for (size_t i = 0; i < ARRAY_SIZE(text); i++)
		if (!strcmp(ext, text[i]))
			return "text/plain";
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcasecmp(ext, known[i].ext))
			return known[i].type;
	return "application/octet-stream";
}

static bool is_tchar(unsigned char ch)
{
	return isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch);
}

/* "attachment; filename=..." as werkzeug's send_file writes it (quoted, or RFC 5987). */
static void content_disposition(struct strbuf *sb, const char *name)
{
	bool token = true, ascii = true;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		token = token && is_tchar(*p);
		ascii = ascii && *p < 0x80;
	}
	strbuf_addstr(sb, "attachment; filename=");
	if (token) {
		strbuf_addstr(sb, name);
		return;
	}
	strbuf_addch(sb, '"');
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *p < 0x80 ? *p : '_');
	}
	strbuf_addch(sb, '"');
	if (ascii)
		return;
	strbuf_addstr(sb, "; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (isalnum(*p) || strchr("!#$&+^`|~-._", *p))
			strbuf_addch(sb, *p);
		else
			strbuf_addf(sb, "%%%02X", *p);
	}
}

/* Answers with the bytes of artifact rel of run_id (verified), as a download. */
static int send_artifact(struct mlflow_call *c, const char *run_id, const char *rel,
			 struct error *err)
{
	struct store_artifact a = STORE_ARTIFACT_INIT;
	struct strbuf disp = STRBUF_INIT;
	const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	int fd = -1, rc;

	/* MLflow 2.10.2 answers a missing file with 500, which its client retries: 404 here */
	if ((rc = store_artifact_get(c->st, &a, run_id, rel, err)) < 0)
		goto out;
	store_artifact_release(&a);
	if ((rc = track_artifact_open(&fd, &a, c->st, c->cas, run_id, rel, err)) < 0) {
		rc = mlflow_fail(c, err, "DATA_LOSS", 500, "%s", err->msg);
		goto out;
	}
	content_disposition(&disp, name);
	c->resp->content_type = guess_mime_type(name);
	http_response_header(c->resp, "Content-Disposition", disp.buf);
	http_response_header(c->resp, "X-Content-Type-Options", "nosniff");
	c->resp->file_fd = fd;
	c->resp->file_size = (uint64_t)a.size;
	c->raw = true;
out:
	store_artifact_release(&a);
	strbuf_release(&disp);
	return rc;
}

int mlflow_artifacts_proxy_get(struct mlflow_call *c, struct error *err)
{
	struct proxy_path p = { 0 };
	int rc;

	if (!c->cas)
		return no_artifacts(c, err);
	if ((rc = file_path(c, &p, false, err)) < 0)
		goto out;
	rc = send_artifact(c, p.run, p.rel, err);
out:
	proxy_path_release(&p);
	return rc;
}

/* The UI's GET /get-artifact?run_id=...&path=... */
int mlflow_artifacts_get_artifact(struct mlflow_call *c, struct error *err)
{
	const char *run_id = http_query_get(c->http, "run_id");
	const char *path = http_query_get(c->http, "path");
	struct store_run run = STORE_RUN_INIT;
	int rc;

	if (!c->cas)
		return no_artifacts(c, err);
	if (!run_id)
		run_id = http_query_get(c->http, "run_uuid");
	if (!run_id)
		return mlflow_missing(err, "run_id");
	if (!path)
		return mlflow_missing(err, "path");
	if (!fs_relpath_is_safe(path))
		return invalid_path(err);
	if ((rc = mlflow_get_run(c, &run, run_id, err)) < 0)
		return rc;
	store_run_release(&run);
	return send_artifact(c, run_id, path, err);
}

/* DELETE -------------------------------------------------------------------------------------- */

int mlflow_artifacts_proxy_delete(struct mlflow_call *c, struct error *err)
{
	struct proxy_path p = { 0 };
	int rc;

	if ((rc = file_path(c, &p, true, err)) < 0)
		goto out;
	rc = store_artifact_delete(c->st, NULL, p.run, p.rel, err);
out:
	proxy_path_release(&p);
	return rc;
}

/* Listings ------------------------------------------------------------------------------------ */

/* files[{path, is_dir, file_size}] of directory dir of a run; path is prefix + name. */
static int render_files(struct mlflow_call *c, const char *run_id, const char *dir,
			const char *prefix, struct error *err)
{
	struct store_artifacts list = STORE_ARTIFACTS_INIT;
	json_t *files;
	int rc;

	if ((rc = store_artifact_list(c->st, &list, run_id, dir, err)) < 0)
		return rc;
	files = json_array();
	for (size_t i = 0; i < list.nr; i++) {
		const struct store_artifact *a = &list.items[i];
		char *path = *prefix ? xstrfmt("%s/%s", prefix, a->path) : xstrdup(a->path);
		json_t *f = json_pack("{s:s,s:b}", "path", path, "is_dir", a->is_dir);

		if (f && !a->is_dir)
			json_object_set_new(f, "file_size", json_integer(a->size));
		if (f)
			json_array_append_new(files, f);
		free(path);
	}
	/* proto3 JSON: an empty list is left out */
	if (json_array_size(files))
		json_object_set(c->out, "files", files);
	json_decref(files);
	store_artifacts_release(&list);
	return 0;
}

/*
 * GET mlflow-artifacts/artifacts?path=<exp>/<run_id>/artifacts[/<dir>]: names relative to dir.
 * Paths above a run's artifacts (the experiment's directory...) list nothing.
 */
int mlflow_artifacts_proxy_list(struct mlflow_call *c, struct error *err)
{
	const char *arg = http_query_get(c->http, "path");
	struct proxy_path p = { 0 };
	char *path = xstrdup(arg ? arg : "");
	size_t len = strlen(path);
	int rc = 0;

	if (len && path[len - 1] == '/')
		path[--len] = '\0';
	if (len && !fs_relpath_is_safe(path)) {
		rc = invalid_path(err);
		goto out;
	}
	if (!len || !proxy_path_parse(&p, path))
		goto out;
	if ((rc = proxy_run(c, &p, err)) == ERR_NOTFOUND) {
		rc = 0; /* nothing is stored there */
		goto out;
	}
	if (!rc)
		rc = render_files(c, p.run, p.rel, "", err);
out:
	proxy_path_release(&p);
	free(path);
	return rc;
}

char *mlflow_run_root_uri(const struct store_run *run)
{
	if (run->artifact_uri && *run->artifact_uri)
		return xstrdup(run->artifact_uri);
	return xstrfmt("mlflow-artifacts:/%s/%s/artifacts", run->experiment_id, run->id);
}

/* GET artifacts/list?run_id=...&path=...: paths relative to the run's artifact root. */
int mlflow_artifacts_list(struct mlflow_call *c, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL, *path = NULL;
	char *dir = NULL, *root = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "path", &path, false, err)) < 0)
		goto out;
	dir = xstrdup(path ? path : "");
	if (*dir && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	if (*dir && !fs_relpath_is_safe(dir)) {
		rc = invalid_path(err);
		goto out;
	}
	if ((rc = mlflow_get_run(c, &run, run_id, err)) < 0)
		goto out;
	root = mlflow_run_root_uri(&run);
	json_object_set_new(c->out, "root_uri", json_string(root));
	rc = render_files(c, run.id, dir, dir, err);
out:
	store_run_release(&run);
	free(dir);
	free(root);
	return rc;
}
