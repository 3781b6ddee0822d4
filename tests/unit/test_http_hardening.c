/*
 * Unit tests for http/ facing hostile clients: raw requests over plain sockets (request
 * smuggling, slow clients, huge headers, connection caps), then headers, tokens, TLS, request
 * ids and a draining stop through libcurl. Every server listens on 127.0.0.1, port 0.
 */
#include "util/common.h"
#include "helpers.h"
#include "http/http.h"
#include "util/strbuf.h"
#include "util/subprocess.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#define TOKEN "s3cret-token-0123456789abcdef"

/* What the slow handler and the test share: it runs until released. */
struct ctx {
	atomic_int slow_entered;
	atomic_int slow_release;
};

struct fixture {
	struct http_server *srv;
	uint16_t port;
	struct ctx ctx;
};

/* ---- handlers ---- */

static int h_echo(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	char len[32];

	(void)data;
	(void)err;
	resp->content_type = "application/octet-stream";
	strbuf_add(&resp->body, req->body, req->body_len);
	snprintf(len, sizeof(len), "%zu", req->body_len);
	http_response_header(resp, "X-Body-Len", len);
	return 0;
}

static int h_info(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)data;
	(void)err;
	resp->content_type = "text/plain";
	strbuf_addf(&resp->body, "%s %s", req->method, req->path);
	return 0;
}

/* What the handler sees of the request's headers and id. */
static int h_headers(const struct http_request *req, struct http_response *resp, void *data,
		     struct error *err)
{
	static const char *const names[] = { "user-agent",    "X-MULTI",	  "accept",
					     "Authorization", "Content-Encoding", "X-Absent" };

	(void)data;
	(void)err;
	resp->content_type = "text/plain";
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *v = http_header_get(req, names[i]);

		strbuf_addf(&resp->body, "%s=%s\n", names[i], v ? v : "(null)");
	}
	strbuf_addf(&resp->body, "id=%s\n", http_request_id(req));
	return 0;
}

static int h_slow(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	struct ctx *ctx = data;

	(void)req;
	(void)err;
	atomic_store(&ctx->slow_entered, 1);
	for (int i = 0; i < 10000 && !atomic_load(&ctx->slow_release); i++) {
		struct timespec ms = { 0, 1000000L };

		nanosleep(&ms, NULL);
	}
	strbuf_addstr(&resp->body, "{\"slow\":true}");
	return 0;
}

static int h_fail(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)req;
	(void)resp;
	(void)data;
	return error_set(err, ERR_NOTFOUND, "nothing here");
}

/* A handler doing its own authorisation: ERR_AUTH is a 401 too. */
static int h_deny(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)req;
	(void)resp;
	(void)data;
	return error_set(err, ERR_AUTH, "model 'm' is not yours");
}

static const struct http_route routes[] = {
	{ "POST", "/echo", 0, h_echo },
	{ "GET", "/info", 0, h_info },
	{ NULL, "/headers", 0, h_headers },
	{ "GET", "/slow", 0, h_slow },
	{ "GET", "/fail", 0, h_fail },
	{ "GET", "/deny", 0, h_deny },
	{ "GET", "/health", HTTP_ROUTE_PUBLIC, h_info },
	{ "GET", "/public/", HTTP_ROUTE_PREFIX | HTTP_ROUTE_PUBLIC, h_info },
};

/* An MLflow-like mapper, to check that 401s keep the route table's error shape. */
static void mapped_errors(struct http_response *resp, int code, const char *message)
{
	resp->status = 400;
	strbuf_addf(&resp->body, "{\"error_code\":\"%s\",\"message\":\"%s\"}",
		    code == ERR_AUTH ? "UNAUTHENTICATED" : "OTHER", message);
}

/* ---- fixture ---- */

static void start_mapped(struct fixture *f, const struct http_options *opts, int mapped)
{
	struct http_routes r = { routes, ARRAY_SIZE(routes), &f->ctx, NULL };
	struct error err = ERROR_INIT;

	if (mapped)
		r.map_error = mapped_errors;
	if (http_server_start(&f->srv, opts, &r, &err))
		fail_msg("http_server_start: %s", err.msg);
	f->port = http_server_port(f->srv);
}

static void start(struct fixture *f, const struct http_options *opts)
{
	start_mapped(f, opts, 0);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct http_options opts = HTTP_OPTIONS_INIT;

	opts.threads = 2;
	opts.max_body = 4096;
	start(f, &opts);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_stop(f->srv);
	free(f);
	return 0;
}

/* ---- raw client ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A connected socket, or -1 with errno set (ECONNREFUSED when nothing listens). */
static int raw_connect(uint16_t port)
{
	struct sockaddr_in sa = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Sends all of s with plain send(); 0, or -1 once the server has closed or reset. */
static int raw_send(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Waits up to ms for fd to be readable; 1 if it is (data or EOF). */
static int raw_wait(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) > 0;
}

/*
 * Reads into out until the peer closes, resets, or nothing arrives for quiet_ms; 1 if the
 * connection was closed by the server (EOF or reset), 0 if it was still open.
 */
static int raw_read(int fd, struct strbuf *out, int quiet_ms)
{
	char buf[4096];

	for (;;) {
		ssize_t n;

		if (!raw_wait(fd, quiet_ms))
			return 0;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		strbuf_add(out, buf, (size_t)n);
	}
}

/*
 * How many whole responses out holds, each framed by its Content-Length (every response of
 * this server has one), with the status of the first in *first (0 if none).
 */
static int count_responses(const struct strbuf *out, int *first)
{
	const char *p = out->buf, *end = out->buf + out->len;
	int n = 0;

	*first = 0;
	while (p < end && !strncmp(p, "HTTP/1.", 7)) {
		const char *hdr_end = strstr(p, "\r\n\r\n"), *cl;
		unsigned long len = 0;

		if (!hdr_end)
			break;
		cl = strcasestr(p, "\r\nContent-Length: ");
		if (cl && cl < hdr_end)
			len = strtoul(cl + 18, NULL, 10);
		if (!n++)
			*first = (int)strtol(p + 9, NULL, 10);
		p = hdr_end + 4 + len;
	}
	return n;
}

struct exchange {
	struct strbuf out;
	int closed; /* the server closed the connection */
	int nresp;  /* responses received */
	int status; /* status of the first one */
};

/* Sends a raw request on a new connection and collects what comes back. */
static void raw_exchange(struct fixture *f, const char *req, struct exchange *x)
{
	int fd = raw_connect(f->port);

	assert_true(fd >= 0);
	strbuf_init(&x->out, 0);
	(void)raw_send(fd, req, strlen(req));
	x->closed = raw_read(fd, &x->out, 1000);
	x->nresp = count_responses(&x->out, &x->status);
	close(fd);
}

/* A raw request must be refused with 400 and its connection closed: nothing smuggled. */
static void expect_refused(struct fixture *f, const char *req)
{
	struct exchange x;

	raw_exchange(f, req, &x);
	if (x.status != 400 || x.nresp != 1 || !x.closed)
		fail_msg("expected one 400 and a closed connection for\n%s\ngot %d response(s), "
			 "first %d, %s:\n%s",
			 req, x.nresp, x.status, x.closed ? "closed" : "open", x.out.buf);
	strbuf_release(&x.out);
}

/* The value of header name in the first response of out (a new string), or NULL. */
static char *header_value(const struct strbuf *out, const char *name)
{
	const char *end = strstr(out->buf, "\r\n\r\n");
	char *want = xstrfmt("\r\n%s: ", name);
	const char *p = strcasestr(out->buf, want);
	char *v = NULL;

	if (p && end && p < end) {
		p += strlen(want);
		v = xstrndup(p, strcspn(p, "\r"));
	}
	free(want);
	return v;
}

/* The body of the first response of out. */
static const char *body_of(const struct strbuf *out)
{
	const char *p = strstr(out->buf, "\r\n\r\n");

	return p ? p + 4 : "";
}

/* ---- tests: request smuggling ---- */

static void test_smuggling_content_length(void **state)
{
	struct fixture *f = *state;

	/* two lengths: which one a proxy in front used is unknowable */
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			  "Content-Length: 40\r\n\r\nhelloGET /info HTTP/1.1\r\nHost: x\r\n\r\n");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			  "content-length: 5\r\n\r\nhello");
	/* not a plain decimal */
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nhello");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\nhello");
}

static void test_smuggling_transfer_encoding(void **state)
{
	struct fixture *f = *state;

	/* CL.TE: a proxy using Content-Length forwards the GET as part of this body */
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 38\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n"
			  "0\r\n\r\nGET /info HTTP/1.1\r\nHost: x\r\n\r\n");
	/* TE.CL: the other order of the headers changes nothing */
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
			  "Content-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
	/* codings other than chunked: the body's end is unknowable */
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxx");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
			  "\r\n0\r\n\r\n");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked \r\n"
			  "\r\n0\r\n\r\n");
	/* HTTP/1.0 has no chunked coding (RFC 9112 6.1) */
	expect_refused(f, "POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "5\r\nhello\r\n0\r\n\r\n");
	/* a name MHD would not recognise but a proxy might: whitespace before the colon */
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			  "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			  "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n");
	/* obs-fold: libmicrohttpd would drop the length and serve the body as a request */
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\n x\r\n\r\n"
			  "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
	expect_refused(f, "POST /echo HTTP/1.1\r\nHost: x\r\nX-A: b\r\n Transfer-Encoding: "
			  "chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
}

/* What is still fine: one length, chunked alone (any case), and keep-alive after them. */
static void test_framing_accepted(void **state)
{
	struct fixture *f = *state;
	struct exchange x;

	raw_exchange(f,
		     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
		     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
		     "5\r\nhello\r\n0\r\n\r\n"
		     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\nabcdefg"
		     "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		     &x);
	if (x.nresp != 4 || x.status != 200)
		fail_msg("expected 4 answers, got %d: %s", x.nresp, x.out.buf);
	assert_true(strstr(x.out.buf, "X-Body-Len: 7\r\n") != NULL);
	assert_true(strstr(x.out.buf, "\r\n\r\nGET /info") != NULL);
	assert_true(x.closed);
	strbuf_release(&x.out);
}

/* ---- tests: limits ---- */

/*
 * A client trickling one byte a second resets an idle timer for ever: the request as a whole
 * must arrive within timeout_seconds.
 */
static void test_slow_headers(void **state)
{
	static const char req[] =
	    "GET /info HTTP/1.1\r\nHost: x\r\nX-Slow: abcdefghijklmnop\r\n\r\n";
	struct fixture f = { 0 };
	struct http_options opts = HTTP_OPTIONS_INIT;
	int64_t t0;
	int fd, cut = 0;
	size_t i;

	(void)state;
	opts.threads = 1;
	opts.timeout_seconds = 2;
	start(&f, &opts);
	fd = raw_connect(f.port);
	assert_true(fd >= 0);
	t0 = now_ms();
	for (i = 0; i < sizeof(req) - 1 && !cut; i++) {
		struct strbuf sb = STRBUF_INIT;

		cut = raw_send(fd, req + i, 1) || (raw_wait(fd, 500) && raw_read(fd, &sb, 10));
		if (!cut)
			sleep_ms(500);
		strbuf_release(&sb);
	}
	if (!cut)
		fail_msg("a client sending 2 bytes a second was served for %" PRId64 " ms",
			 now_ms() - t0);
	/*
	 * Cut before the whole request was sent (about 30 s at this pace against a 2 s deadline):
	 * no wall-clock bound here, which a loaded machine could break.
	 */
	close(fd);
	http_server_stop(f.srv);
}

/* The same for a body: headers on time, then one byte a second. */
static void test_slow_body(void **state)
{
	static const char head[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
	struct fixture f = { 0 };
	struct http_options opts = HTTP_OPTIONS_INIT;
	int64_t t0;
	int fd, cut = 0;

	(void)state;
	opts.threads = 1;
	opts.timeout_seconds = 2;
	start(&f, &opts);
	fd = raw_connect(f.port);
	assert_true(fd >= 0);
	assert_int_equal(raw_send(fd, head, sizeof(head) - 1), 0);
	t0 = now_ms();
	for (int i = 0; i < 100 && !cut; i++) {
		struct strbuf sb = STRBUF_INIT;

		cut = raw_send(fd, "x", 1) || (raw_wait(fd, 500) && raw_read(fd, &sb, 10));
		if (!cut)
			sleep_ms(500);
		strbuf_release(&sb);
	}
	if (!cut)
		fail_msg("a body sent at 2 bytes a second was read for %" PRId64 " ms",
			 now_ms() - t0);
	/* cut before the 100 bytes (50 s at this pace) were in; no wall-clock bound */
	close(fd);
	http_server_stop(f.srv);
}

/* Limits that libmicrohttpd enforces itself: what they answer, and that the server lives on. */
static void test_header_limits(void **state)
{
	struct fixture *f = *state;
	struct strbuf req = STRBUF_INIT;
	struct exchange x;

	/* 6 KiB of headers fit (about 7.5 KiB do; nginx and Apache take 8 KiB a line) */
	strbuf_addstr(&req, "GET /info HTTP/1.1\r\nHost: x\r\nX-Big: ");
	strbuf_addchars(&req, 'a', 6 << 10);
	strbuf_addstr(&req, "\r\nConnection: close\r\n\r\n");
	raw_exchange(f, req.buf, &x);
	assert_int_equal(x.status, 200);
	strbuf_release(&x.out);

	/* 100 KiB in one header, then in many */
	strbuf_reset(&req);
	strbuf_addstr(&req, "GET /info HTTP/1.1\r\nHost: x\r\nX-Big: ");
	strbuf_addchars(&req, 'a', 100 << 10);
	strbuf_addstr(&req, "\r\n\r\n");
	raw_exchange(f, req.buf, &x);
	assert_int_equal(x.status, 431);
	assert_true(x.closed);
	strbuf_release(&x.out);
	strbuf_reset(&req);
	strbuf_addstr(&req, "GET /info HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 10000; i++)
		strbuf_addf(&req, "X-H%d: v\r\n", i);
	strbuf_addstr(&req, "\r\n");
	raw_exchange(f, req.buf, &x);
	assert_int_equal(x.status, 431);
	strbuf_release(&x.out);

	/* a 100 KiB request line */
	strbuf_reset(&req);
	strbuf_addstr(&req, "GET /info?q=");
	strbuf_addchars(&req, 'q', 100 << 10);
	strbuf_addstr(&req, " HTTP/1.1\r\nHost: x\r\n\r\n");
	raw_exchange(f, req.buf, &x);
	assert_int_equal(x.status, 414);
	strbuf_release(&x.out);

	/* HTTP/1.1 without Host, garbage */
	expect_refused(f, "GET /info HTTP/1.1\r\n\r\n");
	expect_refused(f, "GET /info HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n");

	raw_exchange(f, "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &x);
	assert_int_equal(x.status, 200);
	strbuf_release(&x.out);
	strbuf_release(&req);
}

/* A chunked body over max_body gets 413 like a declared one; absurd chunk sizes do no harm. */
static void test_chunked_body_cap(void **state)
{
	struct fixture *f = *state;
	struct strbuf req = STRBUF_INIT;
	struct exchange x;

	strbuf_addstr(&req, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 5; i++) {
		strbuf_addstr(&req, "3e8\r\n");
		strbuf_addchars(&req, 'c', 1000);
		strbuf_addstr(&req, "\r\n");
	}
	strbuf_addstr(&req, "0\r\n\r\n");
	raw_exchange(f, req.buf, &x);
	if (x.status != 413)
		fail_msg("chunked body of 5000 bytes over a 4096 cap: %s", x.out.buf);
	assert_true(strstr(body_of(&x.out), "\"too_big\"") != NULL);
	strbuf_release(&x.out);

	raw_exchange(f,
		     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
		     &x);
	assert_true(x.status >= 400 && x.status < 500);
	strbuf_release(&x.out);
	raw_exchange(f,
		     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "7fffffffffffffff\r\nabc",
		     &x);
	assert_true(x.status == 413 || x.nresp == 0);
	strbuf_release(&x.out);

	raw_exchange(f, "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &x);
	assert_int_equal(x.status, 200);
	strbuf_release(&x.out);
	strbuf_release(&req);
}

/* Sends a keep-alive GET on fd and checks the answer; the connection stays open. */
static void keepalive_get(int fd, const char *path, int status)
{
	struct strbuf out = STRBUF_INIT;
	char *req = xstrfmt("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	int first = 0;

	assert_int_equal(raw_send(fd, req, strlen(req)), 0);
	assert_true(raw_wait(fd, 5000));
	for (int i = 0; i < 50 && count_responses(&out, &first) < 1; i++)
		if (raw_read(fd, &out, 100))
			break;
	if (first != status)
		fail_msg("GET %s: expected %d, got: %s", path, status, out.buf);
	free(req);
	strbuf_release(&out);
}

/*
 * Beyond max_connections a connection is not served, while the others are; it is served once
 * one of them closes (libmicrohttpd stops accepting at the limit: it waits in the backlog).
 */
static void test_connection_cap(void **state)
{
	struct fixture f = { 0 };
	struct http_options opts = HTTP_OPTIONS_INIT;
	int fd[3];
	struct strbuf out = STRBUF_INIT;
	int first;

	(void)state;
	opts.threads = 1;
	opts.max_connections = 2;
	start(&f, &opts);
	for (int i = 0; i < 2; i++) {
		fd[i] = raw_connect(f.port);
		assert_true(fd[i] >= 0);
		keepalive_get(fd[i], "/info", 200);
	}
	fd[2] = raw_connect(f.port); /* the kernel completes the handshake */
	assert_true(fd[2] >= 0);
	assert_int_equal(raw_send(fd[2], "GET /info HTTP/1.1\r\nHost: x\r\n\r\n", 32), 0);
	assert_false(raw_wait(fd[2], 1000));
	keepalive_get(fd[0], "/info", 200);
	keepalive_get(fd[1], "/info", 200);
	assert_false(raw_wait(fd[2], 200));
	close(fd[0]);
	assert_true(raw_wait(fd[2], 5000));
	raw_read(fd[2], &out, 300);
	assert_int_equal(count_responses(&out, &first), 1);
	assert_int_equal(first, 200);
	strbuf_release(&out);
	close(fd[1]);
	close(fd[2]);
	http_server_stop(f.srv);
}

/* ---- tests: headers and request ids ---- */

static void test_headers_for_handlers(void **state)
{
	struct fixture *f = *state;
	struct exchange x;
	struct http_request fake = { "GET", "/headers", "", NULL, 0, NULL, "", 0 };

	raw_exchange(f,
		     "GET /headers HTTP/1.1\r\nHost: x\r\nUser-Agent: ua/1.0\r\n"
		     "x-multi: first\r\nX-Multi: second\r\nACCEPT:  application/json\r\n"
		     "Authorization: Bearer abc\r\nContent-Encoding: gzip\r\n"
		     "X-Request-Id: req-42\r\nConnection: close\r\n\r\n",
		     &x);
	assert_int_equal(x.status, 200);
	assert_string_equal(body_of(&x.out), "user-agent=ua/1.0\nX-MULTI=first\n"
					     "accept=application/json\n"
					     "Authorization=Bearer abc\nContent-Encoding=gzip\n"
					     "X-Absent=(null)\nid=req-42\n");
	strbuf_release(&x.out);
	/* outside a handler call, or for a request the server is not handling: nothing */
	assert_null(http_header_get(&fake, "Host"));
	assert_null(http_request_id(&fake));
	assert_null(http_header_get(NULL, "Host"));
}

/* A handler's ERR_AUTH is a 401 by default, token or not. */
static void test_handler_auth_error(void **state)
{
	struct fixture *f = *state;
	struct exchange x;

	raw_exchange(f, "GET /deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &x);
	assert_int_equal(x.status, 401);
	assert_string_equal(body_of(&x.out), "{\"error\":{\"code\":\"unauthorized\","
					     "\"message\":\"model 'm' is not yours\"}}");
	strbuf_release(&x.out);
}

/* The id a request gets for its X-Request-Id header line hdr ("" for none), checked. */
static char *id_for(struct fixture *f, const char *hdr)
{
	char *req = xstrfmt("GET /headers HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", hdr);
	struct exchange x;
	char *sent, *seen;

	raw_exchange(f, req, &x);
	assert_int_equal(x.status, 200);
	sent = header_value(&x.out, "X-Request-Id");
	assert_non_null(sent);
	seen = xstrfmt("id=%s\n", sent);
	/* the handler saw the id the response carries */
	assert_non_null(strstr(body_of(&x.out), seen));
	free(seen);
	free(req);
	strbuf_release(&x.out);
	return sent;
}

static int is_generated(const char *id)
{
	return strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
}

static void test_request_ids(void **state)
{
	static const char *const bad[] = { "X-Request-Id: a b\r\n", "X-Request-Id: \xc3\xa9\r\n",
					   "X-Request-Id: \r\n" };
	static const char *const errs[] = {
		"GET /fail HTTP/1.1\r\nHost: x\r\nX-Request-Id: e1\r\n\r\n",
		"GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: e1\r\n\r\n",
		("POST /echo HTTP/1.1\r\nHost: x\r\nX-Request-Id: e1\r\nContent-Length: 1\r\n"
		 "Content-Length: 2\r\n\r\nab"),
		"POST /echo HTTP/1.1\r\nHost: x\r\nX-Request-Id: e1\r\nContent-Length: "
		"99999\r\n\r\n",
	};
	struct fixture *f = *state;
	struct strbuf longest = STRBUF_INIT, hdr = STRBUF_INIT;
	char *a, *b;
	struct exchange x;

	a = id_for(f, "X-Request-Id: abc-123_XYZ.~!\r\n");
	assert_string_equal(a, "abc-123_XYZ.~!");
	free(a);
	a = id_for(f, "x-request-id: lower\r\n");
	assert_string_equal(a, "lower");
	free(a);
	strbuf_addchars(&longest, 'L', HTTP_REQUEST_ID_MAX);
	strbuf_addf(&hdr, "X-Request-Id: %s\r\n", longest.buf);
	a = id_for(f, hdr.buf);
	assert_string_equal(a, longest.buf);
	free(a);

	/* none, too long, a blank inside, non-ASCII, empty: a new random one */
	a = id_for(f, "");
	b = id_for(f, "");
	assert_true(is_generated(a) && is_generated(b));
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	strbuf_reset(&hdr);
	strbuf_addf(&hdr, "X-Request-Id: %sL\r\n", longest.buf);
	a = id_for(f, hdr.buf);
	assert_true(is_generated(a));
	free(a);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		a = id_for(f, bad[i]);
		assert_true(is_generated(a));
		free(a);
	}

	/* errors carry it too: from a handler, the router, the framing checks, the body cap */
	for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
		raw_exchange(f, errs[i], &x);
		a = header_value(&x.out, "X-Request-Id");
		if (!a || strcmp(a, "e1"))
			fail_msg("no X-Request-Id in the answer to\n%s\n%s", errs[i], x.out.buf);
		free(a);
		strbuf_release(&x.out);
	}
	strbuf_release(&longest);
	strbuf_release(&hdr);
}

/* ---- tests: bearer tokens ---- */

static int setup_token(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct http_options opts = HTTP_OPTIONS_INIT;

	opts.threads = 2;
	opts.max_body = 4096;
	opts.token = TOKEN;
	start(f, &opts);
	*state = f;
	return 0;
}

static int setup_token_mapped(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct http_options opts = HTTP_OPTIONS_INIT;

	opts.threads = 1;
	opts.token = TOKEN;
	start_mapped(f, &opts, 1);
	*state = f;
	return 0;
}

/* A GET of path with header line hdr ("" for none): its exchange. */
static void get_with(struct fixture *f, const char *path, const char *hdr, struct exchange *x)
{
	char *req = xstrfmt("GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", path, hdr);

	raw_exchange(f, req, x);
	free(req);
}

static void expect_401(struct fixture *f, const char *path, const char *hdr, const char *error)
{
	struct exchange x;
	char *challenge;

	get_with(f, path, hdr, &x);
	if (x.status != 401)
		fail_msg("GET %s with '%s': expected 401: %s", path, hdr, x.out.buf);
	challenge = header_value(&x.out, "WWW-Authenticate");
	assert_non_null(challenge);
	assert_true(!strncmp(challenge, "Bearer ", 7));
	if (error)
		assert_non_null(strstr(challenge, error));
	else
		assert_null(strstr(challenge, "error="));
	assert_non_null(strstr(body_of(&x.out), "\"code\":\"unauthorized\""));
	free(challenge);
	challenge = header_value(&x.out, "X-Request-Id");
	assert_non_null(challenge);
	free(challenge);
	strbuf_release(&x.out);
}

static void expect_status_with(struct fixture *f, const char *path, const char *hdr, int status)
{
	struct exchange x;

	get_with(f, path, hdr, &x);
	if (x.status != status)
		fail_msg("GET %s with '%s': expected %d: %s", path, hdr, status, x.out.buf);
	strbuf_release(&x.out);
}

static void test_token(void **state)
{
	struct fixture *f = *state;
	struct exchange x;

	expect_401(f, "/info", "", NULL);
	expect_401(f, "/info", "Authorization: Bearer wrong\r\n", "invalid_token");
	expect_401(f, "/info", "Authorization: Bearer " TOKEN "x\r\n", "invalid_token");
	expect_401(f, "/info", "Authorization: Bearer s3cret\r\n", "invalid_token");
	expect_401(f, "/info", "Authorization: Basic dXNlcjpwYXNz\r\n", "invalid_request");
	expect_401(f, "/info", "Authorization: Bearer\r\n", "invalid_request");
	expect_401(f, "/info", "Authorization: " TOKEN "\r\n", "invalid_request");
	expect_401(f, "/info", "X-Authorization: Bearer " TOKEN "\r\n", NULL);
	/* unknown paths and other methods are not revealed without the token */
	expect_401(f, "/nope", "", NULL);
	expect_401(f, "/echo", "", NULL);

	expect_status_with(f, "/info", "Authorization: Bearer " TOKEN "\r\n", 200);
	expect_status_with(f, "/info", "authorization: bearer   " TOKEN "  \r\n", 200);
	expect_status_with(f, "/nope", "Authorization: Bearer " TOKEN "\r\n", 404);
	/* public routes need nothing, and ignore a wrong token */
	expect_status_with(f, "/health", "", 200);
	expect_status_with(f, "/health", "Authorization: Bearer wrong\r\n", 200);
	expect_status_with(f, "/public/a/b", "", 200);

	/* the 401 comes before the body, which is never read: the connection closes */
	raw_exchange(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n", &x);
	assert_int_equal(x.status, 401);
	assert_true(x.closed);
	strbuf_release(&x.out);
	/* framing is checked before credentials */
	raw_exchange(f,
		     "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN "\r\n"
		     "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		     &x);
	assert_int_equal(x.status, 400);
	strbuf_release(&x.out);
	raw_exchange(f,
		     "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN "\r\n"
		     "Content-Length: 5\r\nConnection: close\r\n\r\nhello",
		     &x);
	assert_int_equal(x.status, 200);
	assert_string_equal(body_of(&x.out), "hello");
	strbuf_release(&x.out);
}

/* The 401 goes through the route table's mapper, with its status forced. */
static void test_token_mapped(void **state)
{
	struct fixture *f = *state;
	struct exchange x;

	get_with(f, "/info", "", &x);
	assert_int_equal(x.status, 401);
	assert_string_equal(body_of(&x.out),
			    "{\"error_code\":\"UNAUTHENTICATED\",\"message\":\"this endpoint needs "
			    "'Authorization: Bearer <token>'\"}");
	strbuf_release(&x.out);
}

static void test_token_start_errors(void **state)
{
	struct http_options opts = HTTP_OPTIONS_INIT;
	struct http_routes r = { routes, ARRAY_SIZE(routes), NULL, NULL };
	struct http_server *s = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	opts.token = "";
	assert_int_equal(http_server_start(&s, &opts, &r, &err), ERR_INVALID);
	assert_null(s);
}

static void test_token_file(void **state)
{
	char *dir = test_tmpdir(), *path = test_path(dir, "token"), *tok = NULL;
	struct error err = ERROR_INIT;
	static const struct {
		const char *content, *want;
	} good[] = {
		{ TOKEN, TOKEN },
		{ TOKEN "\n", TOKEN },
		{ "  " TOKEN " \t\r\nsecond line\n", TOKEN },
		{ "\t" TOKEN "\r\n", TOKEN },
	};
	static const char *const bad[] = {
		"", "\n" TOKEN "\n", "   \n", "two words\n", "ctl\x01here\n", "caf\xc3\xa9\n"
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		test_write_file(path, good[i].content);
		if (http_token_read(&tok, path, &err))
			fail_msg("'%s': %s", good[i].content, err.msg);
		assert_string_equal(tok, good[i].want);
		free(tok);
		tok = NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		test_write_file(path, bad[i]);
		assert_int_equal(http_token_read(&tok, path, &err), ERR_INVALID);
		assert_null(tok);
		assert_non_null(strstr(err.msg, path));
	}
	/* world-readable is a warning, not a refusal (container secrets are mounted so) */
	test_write_file(path, TOKEN);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(http_token_read(&tok, path, &err), 0);
	free(tok);
	tok = NULL;
	{
		struct strbuf big = STRBUF_INIT;

		strbuf_addchars(&big, 'a', 5000);
		test_write_file(path, big.buf);
		assert_int_equal(http_token_read(&tok, path, &err), ERR_TOOBIG);
		strbuf_release(&big);
	}
	unlink(path);
	assert_int_equal(http_token_read(&tok, path, &err), ERR_NOTFOUND);
	assert_null(tok);
	free(path);
	test_tmpdir_remove(dir);
}

/* ---- tests: TLS ---- */

struct tls_files {
	char *dir, *cert, *key, *other_key;
};

/* A self-signed certificate for 127.0.0.1 and localhost, made by the openssl CLI. */
static int make_cert(struct tls_files *t)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	struct error err = ERROR_INIT;
	int rc;

	t->dir = test_tmpdir();
	t->cert = test_path(t->dir, "cert.pem");
	t->key = test_path(t->dir, "key.pem");
	t->other_key = test_path(t->dir, "other.pem");
	{
		const char *const argv[] = { "openssl",
					     "req",
					     "-x509",
					     "-newkey",
					     "ec",
					     "-pkeyopt",
					     "ec_paramgen_curve:prime256v1",
					     "-nodes",
					     "-keyout",
					     t->key,
					     "-out",
					     t->cert,
					     "-days",
					     "2",
					     "-subj",
					     "/CN=localhost",
					     "-addext",
					     "subjectAltName=IP:127.0.0.1,DNS:localhost",
					     NULL };

		rc = subprocess_run(&r, argv, NULL, NULL, 1 << 20, &err);
	}
	if (rc == ERR_NOTFOUND)
		return -1;
	if (rc || r.exit_code)
		fail_msg("openssl req: %s%s", err.msg, r.err.buf);
	subprocess_result_release(&r);
	{
		const char *const argv[] = { "openssl",	   "genpkey",
					     "-algorithm", "EC",
					     "-pkeyopt",   "ec_paramgen_curve:prime256v1",
					     "-out",	   t->other_key,
					     NULL };

		rc = subprocess_run(&r, argv, NULL, NULL, 1 << 20, &err);
	}
	if (rc || r.exit_code)
		fail_msg("openssl genpkey: %s%s", err.msg, r.err.buf);
	subprocess_result_release(&r);
	return 0;
}

static void tls_files_release(struct tls_files *t)
{
	free(t->cert);
	free(t->key);
	free(t->other_key);
	test_tmpdir_remove(t->dir);
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	strbuf_add(ud, p, size * n);
	return size * n;
}

/* GET url with curl trusting ca (NULL: the system's); the status, or -curl's error. */
static long curl_get(const char *url, const char *ca, struct strbuf *body)
{
	CURL *h = curl_easy_init();
	CURLcode rc;
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return rc == CURLE_OK ? status : -(long)rc;
}

static void test_tls(void **state)
{
	struct tls_files t = { 0 };
	struct fixture f = { 0 };
	struct http_options opts = HTTP_OPTIONS_INIT;
	struct strbuf body = STRBUF_INIT;
	char *url;
	struct exchange x;

	(void)state;
	if (make_cert(&t))
		skip();
	opts.threads = 2;
	opts.tls_cert = t.cert;
	opts.tls_key = t.key;
	start(&f, &opts);
	url = xstrfmt("https://127.0.0.1:%u/info", f.port);
	assert_int_equal(curl_get(url, t.cert, &body), 200);
	assert_string_equal(body.buf, "GET /info");
	strbuf_reset(&body);
	free(url);
	url = xstrfmt("https://localhost:%u/info", f.port);
	assert_int_equal(curl_get(url, t.cert, &body), 200);
	free(url);
	/* without trusting the certificate, or in plain HTTP, nothing is served */
	url = xstrfmt("https://127.0.0.1:%u/info", f.port);
	assert_int_equal(curl_get(url, NULL, &body), -(long)CURLE_PEER_FAILED_VERIFICATION);
	free(url);
	raw_exchange(&f, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n", &x);
	assert_int_equal(x.nresp, 0);
	strbuf_release(&x.out);
	http_server_stop(f.srv);
	strbuf_release(&body);
	tls_files_release(&t);
}

static void expect_start_error(const char *cert, const char *key, int code, const char *msg)
{
	struct http_options opts = HTTP_OPTIONS_INIT;
	struct http_routes r = { routes, ARRAY_SIZE(routes), NULL, NULL };
	struct http_server *s = NULL;
	struct error err = ERROR_INIT;

	opts.tls_cert = cert;
	opts.tls_key = key;
	assert_int_equal(http_server_start(&s, &opts, &r, &err), code);
	assert_null(s);
	if (!strstr(err.msg, msg))
		fail_msg("expected '%s' in '%s'", msg, err.msg);
}

static void test_tls_errors(void **state)
{
	struct tls_files t = { 0 };
	char *garbage, *missing;

	(void)state;
	if (make_cert(&t))
		skip();
	garbage = test_path(t.dir, "garbage.pem");
	missing = test_path(t.dir, "missing.pem");
	test_write_file(garbage, "not a pem file\n");
	expect_start_error(t.cert, NULL, ERR_USAGE, "both");
	expect_start_error(NULL, t.key, ERR_USAGE, "both");
	expect_start_error(missing, t.key, ERR_NOTFOUND, "missing.pem");
	expect_start_error(t.cert, missing, ERR_NOTFOUND, "missing.pem");
	expect_start_error(garbage, t.key, ERR_INVALID, "no PEM certificate");
	expect_start_error(t.cert, garbage, ERR_INVALID, "no unencrypted PEM private key");
	expect_start_error(t.key, t.cert, ERR_INVALID, "no PEM certificate");
	expect_start_error(t.cert, t.other_key, ERR_INVALID, "does not belong");
	free(garbage);
	free(missing);
	tls_files_release(&t);
}

/* ---- tests: graceful stop ---- */

static void wait_for(atomic_int *flag)
{
	for (int i = 0; i < 10000 && !atomic_load(flag); i++)
		sleep_ms(1);
	assert_true(atomic_load(flag));
}

/*
 * After quiesce: new connections are refused; the request in flight completes, and its
 * keep-alive connection is closed after it; an idle keep-alive connection still gets its next
 * request answered, then is closed too.
 */
static void test_quiesce(void **state)
{
	struct fixture *f = *state;
	int busy = raw_connect(f->port), idle = raw_connect(f->port), late;
	struct strbuf out = STRBUF_INIT;
	char *conn_hdr;
	int first;

	assert_true(busy >= 0 && idle >= 0);
	keepalive_get(idle, "/info", 200);
	assert_int_equal(raw_send(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", 32), 0);
	wait_for(&f->ctx.slow_entered);

	http_server_quiesce(f->srv);
	http_server_quiesce(f->srv); /* idempotent */
	late = raw_connect(f->port);
	assert_int_equal(late, -1);
	assert_int_equal(errno, ECONNREFUSED);

	atomic_store(&f->ctx.slow_release, 1);
	assert_int_equal(raw_read(busy, &out, 5000), 1); /* answered, then closed */
	assert_int_equal(count_responses(&out, &first), 1);
	assert_int_equal(first, 200);
	assert_string_equal(body_of(&out), "{\"slow\":true}");
	conn_hdr = header_value(&out, "Connection");
	assert_non_null(conn_hdr);
	assert_string_equal(conn_hdr, "close");
	free(conn_hdr);
	strbuf_reset(&out);

	assert_int_equal(raw_send(idle, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n", 32), 0);
	assert_int_equal(raw_read(idle, &out, 5000), 1);
	assert_int_equal(count_responses(&out, &first), 1);
	assert_int_equal(first, 200);
	strbuf_release(&out);
	close(busy);
	close(idle);
}

static void *stop_main(void *srv)
{
	http_server_stop(srv);
	return NULL;
}

/* stop drains too: a request in flight when it is called completes with 200. */
static void test_stop_drains(void **state)
{
	struct fixture *f = *state;
	int busy = raw_connect(f->port);
	struct strbuf out = STRBUF_INIT;
	pthread_t tid;
	int first;

	assert_true(busy >= 0);
	assert_int_equal(raw_send(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", 32), 0);
	wait_for(&f->ctx.slow_entered);
	assert_int_equal(pthread_create(&tid, NULL, stop_main, f->srv), 0);
	sleep_ms(200);
	assert_int_equal(raw_connect(f->port), -1); /* stop has begun: refused */
	atomic_store(&f->ctx.slow_release, 1);
	assert_int_equal(raw_read(busy, &out, 5000), 1);
	assert_int_equal(count_responses(&out, &first), 1);
	assert_int_equal(first, 200);
	pthread_join(tid, NULL);
	f->srv = NULL;
	strbuf_release(&out);
	close(busy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_smuggling_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smuggling_transfer_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing_accepted, setup, teardown),
		cmocka_unit_test(test_slow_headers),
		cmocka_unit_test(test_slow_body),
		cmocka_unit_test_setup_teardown(test_header_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_body_cap, setup, teardown),
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test_setup_teardown(test_headers_for_handlers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_auth_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token, setup_token, teardown),
		cmocka_unit_test_setup_teardown(test_token_mapped, setup_token_mapped, teardown),
		cmocka_unit_test(test_token_start_errors),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_errors),
		cmocka_unit_test_setup_teardown(test_quiesce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_drains, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
