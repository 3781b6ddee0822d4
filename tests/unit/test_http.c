/*
 * Unit tests for http/: a real server on 127.0.0.1 driven with libcurl: routing, query and path
 * decoding, bodies and their cap, error mapping, headers, files, keep-alive, concurrency, stop.
 */
#include "util/common.h"
#include "helpers.h"
#include "http/http.h"
#include "util/strbuf.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_BODY 4096
#define NTHREADS 16
#define NREQUESTS 200

struct ctx {
	char *file_path;
	size_t file_size;
	atomic_int slow_entered;
};

struct fixture {
	char *dir;
	struct ctx ctx;
	struct http_server *srv;
	char base[64];
};

/* ---- handlers ---- */

static int h_info(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)data;
	(void)err;
	resp->content_type = "text/plain";
	strbuf_addf(&resp->body, "method=%s\npath=%s\nrest=%s\nctype=%s\nq=", req->method,
		    req->path, req->route_rest, req->content_type ? req->content_type : "");
	for (size_t i = 0; i < req->nquery; i++)
		strbuf_addf(&resp->body, "%s%s:%s", i ? "|" : "", req->query[i].key,
			    req->query[i].value);
	strbuf_addf(&resp->body, "\nfirst_stages=%s\n",
		    http_query_get(req, "stages") ? http_query_get(req, "stages") : "(null)");
	return 0;
}

static int h_echo(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	char len[32];

	(void)data;
	if (req->body[req->body_len] != '\0')
		return error_set(err, ERR_INTERNAL, "body is not NUL-terminated");
	resp->content_type = "application/octet-stream";
	strbuf_add(&resp->body, req->body, req->body_len);
	snprintf(len, sizeof(len), "%zu", req->body_len);
	http_response_header(resp, "X-Body-Len", len);
	http_response_header(resp, "X-Content-Type",
			     req->content_type ? req->content_type : "(none)");
	return 0;
}

static int h_rest(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)data;
	(void)err;
	resp->content_type = "text/plain";
	strbuf_addf(&resp->body, "rest=%s", req->route_rest);
	return 0;
}

static int h_fail(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)data;
	strbuf_addstr(&resp->body, "partial output that must not be sent");
	http_response_header(resp, "X-Partial", "1");
	return error_set(err, ERR_NOTFOUND, "model '%s' not found",
			 http_query_get(req, "name") ? http_query_get(req, "name") : "?");
}

static int h_boom(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)req;
	(void)resp;
	(void)data;
	return error_set(err, ERR_STORE, "database \"x\" is locked\n");
}

static int h_headers(const struct http_request *req, struct http_response *resp, void *data,
		     struct error *err)
{
	(void)req;
	(void)data;
	(void)err;
	resp->status = 201;
	resp->content_type = "text/plain; charset=utf-8";
	strbuf_addstr(&resp->body, "created");
	http_response_header(resp, "X-A", "1");
	http_response_header(resp, "X-B", "two words");
	return 0;
}

static int h_file(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	struct ctx *ctx = data;
	int fd = open(ctx->file_path, O_RDONLY | O_CLOEXEC);

	(void)req;
	if (fd < 0)
		return error_errno(err, ERR_IO, errno, "cannot open '%s'", ctx->file_path);
	resp->content_type = "application/octet-stream";
	resp->file_fd = fd;
	resp->file_size = ctx->file_size;
	return 0;
}

static int h_double(const struct http_request *req, struct http_response *resp, void *data,
		    struct error *err)
{
	char *end;
	long n;

	(void)data;
	n = strtol(req->body, &end, 10);
	if (end == req->body || *end)
		return error_set(err, ERR_INVALID, "not a number: '%s'", req->body);
	strbuf_addf(&resp->body, "{\"n\":%ld}", 2 * n);
	return 0;
}

static int h_slow(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	struct ctx *ctx = data;
	struct timespec ts = { 0, 300 * 1000000L };

	(void)req;
	(void)err;
	atomic_store(&ctx->slow_entered, 1);
	nanosleep(&ts, NULL);
	strbuf_addstr(&resp->body, "{\"slow\":true}");
	return 0;
}

static int h_bad_status(const struct http_request *req, struct http_response *resp, void *data,
			struct error *err)
{
	(void)req;
	(void)data;
	(void)err;
	resp->status = 42;
	return 0;
}

static const struct http_route routes[] = {
	{ "GET", "/info", 0, h_info },	{ "DELETE", "/info", 0, h_info },
	{ "POST", "/echo", 0, h_echo }, { "GET", "/files/", 1, h_rest },
	{ NULL, "/any", 0, h_info },	{ "GET", "/fail", 0, h_fail },
	{ "GET", "/boom", 0, h_boom },	{ "GET", "/headers", 0, h_headers },
	{ "GET", "/file", 0, h_file },	{ "POST", "/double", 0, h_double },
	{ "GET", "/slow", 0, h_slow },	{ "GET", "/bad-status", 0, h_bad_status },
};

/* An MLflow-like mapper: {"error_code", "message"}; its statuses are overridden for 404/405. */
static void mlflow_errors(struct http_response *resp, int code, const char *message)
{
	const char *name = code == ERR_NOTFOUND ? "RESOURCE_DOES_NOT_EXIST" : "INVALID_PARAMETER";

	resp->status = code == ERR_NOTFOUND ? 404 : 400;
	strbuf_addf(&resp->body, "{\"error_code\":\"%s\",\"message\":\"%s\"}", name, message);
	http_response_header(resp, "X-Mapped", "yes");
}

/* ---- fixture and client ---- */

static void start(struct fixture *f, const struct http_options *opts, int mapped)
{
	struct http_routes r = { routes, ARRAY_SIZE(routes), &f->ctx, NULL };
	struct error err = ERROR_INIT;

	if (mapped)
		r.map_error = mlflow_errors;
	if (http_server_start(&f->srv, opts, &r, &err))
		fail_msg("http_server_start: %s", err.msg);
	assert_true(http_server_port(f->srv) != 0);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", http_server_port(f->srv));
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct strbuf content = STRBUF_INIT;
	char *path;

	f->dir = test_tmpdir();
	path = test_path(f->dir, "artifact.bin");
	for (size_t i = 0; i < 300000; i++)
		strbuf_addch(&content, (int)(i * 7 % 251));
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, content.buf, content.len), (ssize_t)content.len);
		close(fd);
	}
	f->ctx.file_path = path;
	f->ctx.file_size = content.len;
	strbuf_release(&content);
	return f;
}

static int setup(void **state)
{
	struct fixture *f = fixture_new();
	struct http_options opts = HTTP_OPTIONS_INIT;

	opts.threads = 2;
	opts.max_body = MAX_BODY;
	start(f, &opts, 0);
	*state = f;
	return 0;
}

static int setup_mapped(void **state)
{
	struct fixture *f = fixture_new();
	struct http_options opts = HTTP_OPTIONS_INIT;

	opts.threads = 1;
	opts.max_body = MAX_BODY;
	start(f, &opts, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_stop(f->srv);
	free(f->ctx.file_path);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

struct reply {
	CURLcode rc;
	long status;
	long connects;
	struct strbuf body;
	struct strbuf headers;
};

/* A generated upload of total bytes of 'x', handed out in chunks of at most chunk bytes. */
struct upload {
	size_t total, pos, chunk;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	strbuf_add(ud, p, size * n);
	return size * n;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t len = size * n;

	if (len > u->chunk)
		len = u->chunk;
	if (len > u->total - u->pos)
		len = u->total - u->pos;
	memset(buf, 'x', len);
	u->pos += len;
	return len;
}

static void reply_release(struct reply *r)
{
	strbuf_release(&r->body);
	strbuf_release(&r->headers);
}

/* One request on h (reset first, so its connection cache is kept); body NULL: none. */
static void request_full(CURL *h, const char *method, const char *url, const void *body,
			 size_t body_len, struct curl_slist *hdrs, struct upload *up,
			 struct reply *r)
{
	curl_easy_reset(h);
	strbuf_init(&r->body, 0);
	strbuf_init(&r->headers, 0);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->headers);
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (up) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, up);
	} else if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, body || up ? "POST" : "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	r->rc = curl_easy_perform(h);
	r->status = 0;
	r->connects = -1;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->connects);
}

static void request(struct fixture *f, const char *method, const char *path, const void *body,
		    size_t body_len, struct reply *r)
{
	CURL *h = curl_easy_init();
	char *url = xstrfmt("%s%s", f->base, path);

	assert_non_null(h);
	request_full(h, method, url, body, body_len, NULL, NULL, r);
	if (r->rc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(r->rc));
	free(url);
	curl_easy_cleanup(h);
}

static int has_header(const struct reply *r, const char *line)
{
	char *want = xstrfmt("\r\n%s\r\n", line);
	int found = strcasestr(r->headers.buf, want) != NULL;

	free(want);
	return found;
}

/* Checks status and exact body of one request. */
static void expect(struct fixture *f, const char *method, const char *path, long status,
		   const char *body)
{
	struct reply r;

	request(f, method, path, NULL, 0, &r);
	if (r.status != status)
		fail_msg("%s %s: status %ld, expected %ld (%s)", method, path, r.status, status,
			 r.body.buf);
	if (body)
		assert_string_equal(r.body.buf, body);
	reply_release(&r);
}

/* ---- tests ---- */

static void test_routing(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	expect(f, "GET", "/info", 200,
	       "method=GET\npath=/info\nrest=\nctype=\nq=\nfirst_stages=(null)\n");
	expect(f, "DELETE", "/info", 200, NULL);
	expect(f, "GET", "/files/a/b.txt", 200, "rest=a/b.txt");
	expect(f, "GET", "/files/", 200, "rest=");
	expect(f, "GET", "/files", 404, NULL);
	expect(f, "GET", "/info/", 404, NULL);
	expect(f, "PATCH", "/any", 200, NULL);
	expect(f, "GET", "/nope", 404,
	       "{\"error\":{\"code\":\"not_found\",\"message\":\"no endpoint '/nope'\"}}");

	request(f, "PUT", "/info", NULL, 0, &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: GET, DELETE"));
	assert_true(strstr(r.body.buf, "\"code\":\"unsupported\"") != NULL);
	reply_release(&r);

	request(f, "HEAD", "/info", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	reply_release(&r);

	request(f, "POST", "/info", "x", 1, &r);
	assert_int_equal(r.status, 405);
	reply_release(&r);
}

static void test_query(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	request(f, "GET",
		"/info?a=1&b=x%20y&stages=Staging&stages=Production&plus=a+b&flag&empty="
		"&k%26=v%3D%2F&utf=%C3%A9",
		NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.buf, "method=GET\npath=/info\nrest=\nctype=\n"
					"q=a:1|b:x y|stages:Staging|stages:Production|plus:a b|"
					"flag:|empty:|k&:v=/|utf:\xc3\xa9\n"
					"first_stages=Staging\n");
	reply_release(&r);

	/* the path is decoded; '+' in a path is a plus */
	expect(f, "GET", "/files/hello%20world+x", 200, "rest=hello world+x");
	expect(f, "GET", "/files/a%2Fb", 200, "rest=a/b");
	expect(f, "GET", "/files/%41", 200, "rest=A");

	/* what must never reach a handler */
	expect(f, "GET", "/files/../etc/passwd", 400, NULL);
	expect(f, "GET", "/files/..", 400, NULL);
	expect(f, "GET", "/files/%2e%2e/x", 400, NULL);
	expect(f, "GET", "/files/a/..%2F..%2Fx", 400, NULL);
	expect(f, "GET", "/files/a%00b", 400, NULL);
	expect(f, "GET", "/info?k=a%00b", 400, NULL);
	expect(f, "GET", "/info?a%00=1", 400, NULL);
	/* dots that are not whole segments are fine */
	expect(f, "GET", "/files/a..b/.c", 200, "rest=a..b/.c");
}

static void test_body(void **state)
{
	struct fixture *f = *state;
	char bin[256];
	struct reply r;
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/x-thing");
	char *url = xstrfmt("%s/echo", f->base);

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(255 - i);
	request_full(h, "POST", url, bin, sizeof(bin), hdrs, NULL, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, sizeof(bin));
	assert_memory_equal(r.body.buf, bin, sizeof(bin));
	assert_true(has_header(&r, "X-Body-Len: 256"));
	assert_true(has_header(&r, "X-Content-Type: application/x-thing"));
	assert_true(has_header(&r, "Content-Type: application/octet-stream"));
	reply_release(&r);

	/* empty body, then exactly the cap */
	request_full(h, "POST", url, "", 0, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "X-Body-Len: 0"));
	reply_release(&r);
	{
		char *big = xmalloc(MAX_BODY);

		memset(big, 'b', MAX_BODY);
		request_full(h, "POST", url, big, MAX_BODY, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body.len, MAX_BODY);
		assert_memory_equal(r.body.buf, big, MAX_BODY);
		reply_release(&r);
		free(big);
	}
	/* a chunked body of exactly the cap */
	{
		struct upload up = { MAX_BODY, 0, 1000 };
		struct curl_slist *te = curl_slist_append(NULL, "Transfer-Encoding: chunked");

		request_full(h, "POST", url, NULL, 0, te, &up, &r);
		assert_int_equal(r.status, 200);
		assert_true(has_header(&r, "X-Body-Len: 4096"));
		reply_release(&r);
		curl_slist_free_all(te);
	}
	curl_slist_free_all(hdrs);
	free(url);
	curl_easy_cleanup(h);
}

static void expect_413(struct fixture *f, const void *body, size_t len, struct upload *up)
{
	CURL *h = curl_easy_init();
	char *url = xstrfmt("%s/echo", f->base);
	struct curl_slist *te = up ? curl_slist_append(NULL, "Transfer-Encoding: chunked") : NULL;
	struct reply r;

	request_full(h, "POST", url, body, len, te, up, &r);
	if (r.rc != CURLE_OK)
		fail_msg("POST %zu bytes: %s", up ? up->total : len, curl_easy_strerror(r.rc));
	assert_int_equal(r.status, 413);
	assert_true(strstr(r.body.buf, "\"code\":\"too_big\"") != NULL);
	reply_release(&r);
	/* the server is still fine, on a new or the same connection */
	request_full(h, "POST", url, "ok", 2, NULL, NULL, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.buf, "ok");
	reply_release(&r);
	curl_slist_free_all(te);
	free(url);
	curl_easy_cleanup(h);
}

static void test_body_cap(void **state)
{
	struct fixture *f = *state;
	size_t big_len = 2u << 20;
	char *big = xmalloc(big_len);

	memset(big, 'z', big_len);
	expect_413(f, big, MAX_BODY + 1, NULL);
	expect_413(f, big, 3 * MAX_BODY, NULL);
	expect_413(f, big, big_len, NULL); /* curl sends Expect: 100-continue: refused unread */
	{
		struct upload up = { MAX_BODY + 1, 0, 4096 };

		expect_413(f, NULL, 0, &up);
	}
	{
		struct upload up = { 64 * MAX_BODY, 0, 1000 };

		expect_413(f, NULL, 0, &up);
	}
	/* an endless chunked upload is cut off rather than drained for ever */
	{
		CURL *h = curl_easy_init();
		char *url = xstrfmt("%s/echo", f->base);
		struct curl_slist *te = curl_slist_append(NULL, "Transfer-Encoding: chunked");
		struct upload up = { 64u << 20, 0, 65536 };
		struct reply r;

		request_full(h, "POST", url, NULL, 0, te, &up, &r);
		assert_true(r.rc != CURLE_OK || r.status == 413);
		assert_true(up.pos < up.total);
		reply_release(&r);
		curl_slist_free_all(te);
		free(url);
		curl_easy_cleanup(h);
	}
	free(big);
}

static void test_errors_default(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	request(f, "GET", "/fail?name=m1", NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(
	    r.body.buf,
	    "{\"error\":{\"code\":\"not_found\",\"message\":\"model 'm1' not found\"}}");
	assert_false(has_header(&r, "X-Partial: 1"));
	assert_true(has_header(&r, "Content-Type: application/json"));
	reply_release(&r);

	request(f, "GET", "/boom", NULL, 0, &r);
	assert_int_equal(r.status, 500);
	assert_string_equal(
	    r.body.buf,
	    "{\"error\":{\"code\":\"store\",\"message\":\"database \\\"x\\\" is locked\\u000a\"}}");
	reply_release(&r);

	expect(f, "GET", "/bad-status", 500, NULL);
	expect(f, "POST", "/double", 400, NULL); /* ERR_INVALID from the handler */
}

static void test_error_mapper(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	request(f, "GET", "/fail?name=m2", NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body.buf, "{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\","
					"\"message\":\"model 'm2' not found\"}");
	assert_true(has_header(&r, "X-Mapped: yes"));
	assert_false(has_header(&r, "X-Partial: 1"));
	reply_release(&r);

	request(f, "GET", "/nope", NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_true(strstr(r.body.buf, "RESOURCE_DOES_NOT_EXIST") != NULL);
	reply_release(&r);

	/* the mapper says 400 for ERR_UNSUPPORTED; the server forces 405 */
	request(f, "PUT", "/echo", NULL, 0, &r);
	assert_int_equal(r.status, 405);
	assert_true(strstr(r.body.buf, "INVALID_PARAMETER") != NULL);
	assert_true(has_header(&r, "X-Mapped: yes"));
	assert_true(has_header(&r, "Allow: POST"));
	reply_release(&r);

	{
		char big[MAX_BODY + 10];

		memset(big, 'q', sizeof(big));
		request(f, "POST", "/echo", big, sizeof(big), &r);
		assert_int_equal(r.status, 413);
		assert_true(has_header(&r, "X-Mapped: yes"));
		reply_release(&r);
	}
	expect(f, "GET", "/files/../x", 400, NULL);
}

static void test_headers(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	request(f, "GET", "/headers", NULL, 0, &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body.buf, "created");
	assert_true(has_header(&r, "X-A: 1"));
	assert_true(has_header(&r, "X-B: two words"));
	assert_true(has_header(&r, "Content-Type: text/plain; charset=utf-8"));
	reply_release(&r);
}

static void test_file(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	struct strbuf want = STRBUF_INIT;

	for (size_t i = 0; i < f->ctx.file_size; i++)
		strbuf_addch(&want, (int)(i * 7 % 251));
	for (int round = 0; round < 3; round++) {
		request(f, "GET", "/file", NULL, 0, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body.len, want.len);
		assert_memory_equal(r.body.buf, want.buf, want.len);
		assert_true(has_header(&r, "Content-Type: application/octet-stream"));
		reply_release(&r);
	}
	/* a failing file handler (the file is gone) answers an error, no fd leaks */
	unlink(f->ctx.file_path);
	expect(f, "GET", "/file", 500, NULL);
	strbuf_release(&want);
}

static void test_keepalive(void **state)
{
	struct fixture *f = *state;
	CURL *h = curl_easy_init();
	char *info = xstrfmt("%s/info", f->base), *dbl = xstrfmt("%s/double", f->base);
	struct reply r;

	request_full(h, "GET", info, NULL, 0, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.connects, 1);
	reply_release(&r);
	for (int i = 0; i < 5; i++) {
		request_full(h, i % 2 ? "GET" : "POST", i % 2 ? info : dbl, i % 2 ? NULL : "21", 2,
			     NULL, NULL, &r);
		assert_int_equal(r.rc, CURLE_OK);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.connects, 0); /* the same connection again */
		if (!(i % 2))
			assert_string_equal(r.body.buf, "{\"n\":42}");
		reply_release(&r);
	}
	free(info);
	free(dbl);
	curl_easy_cleanup(h);
}

static void test_idle_timeout(void **state)
{
	struct fixture *f = fixture_new();
	struct http_options opts = HTTP_OPTIONS_INIT;
	CURL *h = curl_easy_init();
	char *url;
	struct reply r;
	struct timespec ts = { 2, 500 * 1000000L };

	(void)state;
	opts.threads = 1;
	opts.timeout_seconds = 1;
	start(f, &opts, 0);
	url = xstrfmt("%s/info", f->base);
	request_full(h, "GET", url, NULL, 0, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_release(&r);
	nanosleep(&ts, NULL);
	request_full(h, "GET", url, NULL, 0, NULL, NULL, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.connects, 1); /* the server closed the idle one */
	reply_release(&r);
	free(url);
	curl_easy_cleanup(h);
	*state = f;
	teardown(state);
}

struct client {
	const char *base;
	int id;
	atomic_int *ok;
	long connects;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();
	char *url = xstrfmt("%s/double", c->base);

	for (int i = 0; i < NREQUESTS && h; i++) {
		char body[32], want[48];
		struct reply r;
		long n = (long)c->id * 100000 + i;

		snprintf(body, sizeof(body), "%ld", n);
		snprintf(want, sizeof(want), "{\"n\":%ld}", 2 * n);
		request_full(h, "POST", url, body, strlen(body), NULL, NULL, &r);
		if (r.rc == CURLE_OK && r.status == 200 && !strcmp(r.body.buf, want))
			atomic_fetch_add(c->ok, 1);
		if (r.connects > 0)
			c->connects += r.connects;
		reply_release(&r);
	}
	free(url);
	curl_easy_cleanup(h);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	pthread_t tids[NTHREADS];
	struct client clients[NTHREADS];
	atomic_int ok;
	long connects = 0;

	atomic_init(&ok, 0);
	for (int i = 0; i < NTHREADS; i++) {
		clients[i] = (struct client){ f->base, i, &ok, 0 };
		assert_int_equal(pthread_create(&tids[i], NULL, client_main, &clients[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(tids[i], NULL);
		connects += clients[i].connects;
	}
	assert_int_equal(atomic_load(&ok), NTHREADS * NREQUESTS);
	assert_int_equal(connects, NTHREADS); /* one keep-alive connection per client */
}

static void test_connection_limit(void **state)
{
	struct fixture *f = fixture_new();
	struct http_options opts = HTTP_OPTIONS_INIT;
	CURL *h[3];
	char *url;
	struct reply r;

	(void)state;
	opts.threads = 1;
	opts.max_connections = 2;
	start(f, &opts, 0);
	url = xstrfmt("%s/info", f->base);
	for (int i = 0; i < 3; i++)
		h[i] = curl_easy_init();
	for (int i = 0; i < 2; i++) {
		request_full(h[i], "GET", url, NULL, 0, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		reply_release(&r);
	}
	/* both connections are kept open by their handles: a third is not served */
	{
		struct strbuf body = STRBUF_INIT;

		curl_easy_setopt(h[2], CURLOPT_URL, url);
		curl_easy_setopt(h[2], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h[2], CURLOPT_TIMEOUT, 2L);
		curl_easy_setopt(h[2], CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(h[2], CURLOPT_WRITEDATA, &body);
		assert_true(curl_easy_perform(h[2]) != CURLE_OK);
		strbuf_release(&body);
	}
	for (int i = 0; i < 3; i++)
		curl_easy_cleanup(h[i]);
	free(url);
	*state = f;
	teardown(state);
}

struct slow_client {
	const char *base;
	struct reply r;
};

static void *slow_main(void *arg)
{
	struct slow_client *c = arg;
	CURL *h = curl_easy_init();
	char *url = xstrfmt("%s/slow", c->base);

	request_full(h, "GET", url, NULL, 0, NULL, NULL, &c->r);
	free(url);
	curl_easy_cleanup(h);
	return NULL;
}

static void test_stop_finishes_requests(void **state)
{
	struct fixture *f = *state;
	struct slow_client c = { f->base, { 0 } };
	pthread_t tid;
	struct timespec ms = { 0, 1000000L };
	int i;

	assert_int_equal(pthread_create(&tid, NULL, slow_main, &c), 0);
	for (i = 0; i < 10000 && !atomic_load(&f->ctx.slow_entered); i++)
		nanosleep(&ms, NULL);
	assert_true(atomic_load(&f->ctx.slow_entered));
	http_server_stop(f->srv);
	f->srv = NULL;
	pthread_join(tid, NULL);
	assert_int_equal(c.r.rc, CURLE_OK);
	assert_int_equal(c.r.status, 200);
	assert_string_equal(c.r.body.buf, "{\"slow\":true}");
	reply_release(&c.r);
}

static void test_bind_errors(void **state)
{
	struct fixture *f = *state;
	struct http_options opts = HTTP_OPTIONS_INIT;
	struct http_routes r = { routes, ARRAY_SIZE(routes), NULL, NULL };
	struct http_server *other = NULL;
	struct error err = ERROR_INIT;

	opts.port = http_server_port(f->srv);
	assert_int_equal(http_server_start(&other, &opts, &r, &err), ERR_IO);
	assert_null(other);
	assert_true(strstr(err.msg, "cannot listen on '127.0.0.1'") != NULL);

	opts.port = 0;
	opts.host = "no-such-host.invalid";
	error_clear(&err);
	assert_int_equal(http_server_start(&other, &opts, &r, &err), ERR_IO);
	assert_null(other);

	http_server_stop(NULL);
}

static void test_path_is_safe(void **state)
{
	static const char *const good[] = { "a",       "a/b",	"model/MLmodel", "a..b/c.d",
					    ".hidden", "x/..y", "a b/c" };
	static const char *const bad[] = { "",	     "/a", "a/",  "a//b",  "..",   "../a", "a/..",
					   "a/../b", ".",  "./a", "a/./b", "a\\b", "a\nb", "\\" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!http_path_is_safe(good[i]))
			fail_msg("'%s' should be safe", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (http_path_is_safe(bad[i]))
			fail_msg("'%s' should be refused", bad[i]);
	assert_false(http_path_is_safe(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_mapper, setup_mapped, teardown),
		cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test(test_connection_limit),
		cmocka_unit_test_setup_teardown(test_stop_finishes_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_errors, setup, teardown),
		cmocka_unit_test(test_path_is_safe),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
