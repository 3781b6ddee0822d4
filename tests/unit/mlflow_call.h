/*
 * Calling an http route table's handler the way the server does, for the MLflow API tests
 * (test_mlflow_api.c, test_mlflow_registry_api.c): the exact-path route for method and path,
 * its error mapped through the table's map_error, the answer kept with its body parsed.
 */
#ifndef FERRY_TEST_MLFLOW_CALL_H
#define FERRY_TEST_MLFLOW_CALL_H

#include <jansson.h>

#include "http/http.h"

/* One call's answer; the strings are owned and replaced by the next call. */
struct mlflow_answer {
	int status;
	char *body;
	json_t *json; /* NULL when the body is not JSON */
};

/* Fails the test when routes have no exact route for method and path. */
void mlflow_test_call(const struct http_routes *routes, struct mlflow_answer *ans,
		      const char *method, const char *path, const char *ctype, const char *body,
		      const struct http_param *query, size_t nquery);
void mlflow_answer_release(struct mlflow_answer *ans);

#endif
