/*
 * MLflow's artifacts/list: the run's artifact root. ferry keeps no artifact files behind
 * mlflow-artifacts:/ yet, so the listing is the root without files (MLflow omits an empty list).
 */
#include "util/common.h"
#include "api/mlflow_internal.h"

/* MLflow's validate_path_is_safe: no "..", no absolute paths. */
static bool path_is_safe(const char *path)
{
	const char *p = path;

	if (*path == '/' || strstr(path, "\\"))
		return false;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += len;
		p += strspn(p, "/");
	}
	return true;
}

int mlflow_artifacts_list(struct mlflow_call *c, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL, *path = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "path", &path, false, err)) < 0)
		goto out;
	if (path && !path_is_safe(path)) {
		rc = error_set(err, ERR_INVALID, "Invalid path");
		goto out;
	}
	if ((rc = mlflow_get_run(c, &run, run_id, err)) < 0)
		goto out;
	if (run.artifact_uri)
		json_object_set_new(c->out, "root_uri", json_string(run.artifact_uri));
out:
	store_run_release(&run);
	return rc;
}
