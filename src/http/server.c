/*
 * The HTTP server on libmicrohttpd: one accept thread of ours hands each new connection to the
 * least-loaded of N daemons, each one epoll thread without a listening socket (libmicrohttpd's
 * own thread pool keeps a connection on whichever worker accepted it, and a burst of clients
 * connecting at once often lands on one worker, halving throughput while they stay). A request
 * is assembled in its connection's context (reused by every keep-alive request on it), checked
 * (framing, token, size) as soon as its headers are in, routed, handed to a handler, and the
 * handler's struct http_response becomes an MHD response carrying the request's id.
 */
#include "util/common.h"
#include "http/http_internal.h"
#include "util/id.h"
#include "util/log.h"
#include "util/workpool.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

/* Bytes of an over-long chunked body read and dropped before the connection is cut instead. */
#define DRAIN_MAX (1u << 20)
/* Buffers bigger than this are freed after their request rather than kept for the next one. */
#define KEEP_BODY_MAX (64u << 10)
/* At most this much of a declared Content-Length is allocated before the bytes arrive. */
#define PREALLOC_MAX (256u << 10)
/*
 * libmicrohttpd's memory per connection: the request line and headers must fit in it, else 414
 * or 431 (up to about 7.5 KiB of them fit; nginx and Apache take 8 KiB a line, Tomcat 8 KiB in
 * all). libmicrohttpd 0.9.75 zeroes the whole pool between two requests of a keep-alive
 * connection: at its own default of 32 KiB that memset was 3.5% of a 1-row prediction's CPU,
 * and 32 connections' pools streamed 1 MiB through the caches. At 8 KiB a 1-row prediction
 * costs about 5% less CPU than at 16 KiB (bench/README.md).
 */
#define CONN_MEMORY (8u << 10)
/* TLS 1.2 and 1.3 only, whatever the system's GnuTLS defaults allow. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

enum req_phase {
	PHASE_IDLE,
	PHASE_HEADERS, /* request line and headers read; the handler has not been called yet */
	PHASE_BODY,    /* reading the body */
	PHASE_DONE,    /* a response is queued */
};

enum req_flags {
	REQ_PATH_NUL = 1 << 0,	/* the raw path encodes a NUL byte */
	REQ_TOOBIG = 1 << 1,	/* the body passed max_body: the rest is dropped, then 413 */
	REQ_QUERY_NUL = 1 << 2, /* a query key or value encodes a NUL byte */
};

/* A connection's request state: only its worker thread touches it, but for the deadline. */
struct conn {
	enum req_phase phase;
	unsigned flags;
	uint64_t received;
	int64_t body_start_ms;
	struct strbuf body;
	struct http_param *params;
	size_t nparams, alloc_params;
	struct http_header *headers; /* strings in MHD's memory for the request */
	size_t nheaders, alloc_headers;
	char request_id[HTTP_REQUEST_ID_MAX + 1];
	struct http_deadline deadline;
};

/* One worker thread: a libmicrohttpd daemon without a listening socket of its own. */
struct worker {
	struct http_server *s;
	struct MHD_Daemon *daemon;
	atomic_uint conns; /* handed to it and not yet closed */
};

struct http_server {
	struct worker *workers;
	unsigned nworkers;
	int listen_fd;
	int wake_fd; /* eventfd: quiesce, or a connection closed while at the limit */
	pthread_t acceptor;
	int acceptor_running;
	unsigned max_connections;
	atomic_uint conns; /* all workers' connections */
	struct http_reaper *reaper;
	struct http_routes routes;
	size_t max_body;
	int64_t timeout_ms;
	uint16_t port;
	int has_token;
	unsigned char token_digest[32];
	struct http_tls tls;
	atomic_int in_flight;	  /* requests between their request line and their completion */
	atomic_int draining;	  /* quiesced: responses close their connection */
	atomic_uint_fast64_t ids; /* for request ids when the random source fails */
};

/*
 * MHD's diagnostics are mostly about one misbehaving client ("connection reset", "bad header"):
 * those are info. Resource trouble (connection limit, memory, accept, threads) and anything
 * during start-up are warnings.
 */
static _Thread_local int starting;

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	static const char *const serious[] = { "limit", "memory", "accept", "too many", "thread" };
	/* a client's oversized headers exhaust its connection's pool, not the process's memory */
	static const char *const client[] = { "Error processing request", "memory in pool" };
	enum log_level level = LOG_INFO;
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(serious) && level == LOG_INFO; i++)
		if (starting || strcasestr(msg, serious[i]))
			level = LOG_WARN;
	for (size_t i = 0; i < ARRAY_SIZE(client) && !starting; i++)
		if (strstr(msg, client[i]))
			level = LOG_INFO;
	log_at(level, "http: %s", msg);
}

/* The connection's time to deliver its whole next request line and headers starts now. */
static void await_request(struct http_server *s, struct conn *conn)
{
	http_deadline_set(&conn->deadline, http_now_ms() + s->timeout_ms);
}

static void wake_acceptor(struct http_server *s)
{
	uint64_t one = 1;

	if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("http: cannot wake the accept thread: %s", strerror(errno));
}

/* A connection handed to w has gone: its slot is free again. */
static void connection_gone(struct worker *w)
{
	struct http_server *s = w->s;

	atomic_fetch_sub(&w->conns, 1);
	if (atomic_fetch_sub(&s->conns, 1) == s->max_connections)
		wake_acceptor(s);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct worker *w = cls;
	struct http_server *s = w->s;
	struct conn *conn = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		conn = xcalloc(1, sizeof(*conn));
		strbuf_init(&conn->body, 0);
		http_reaper_add(s->reaper, &conn->deadline, info ? info->connect_fd : -1);
		if (info)
			await_request(s, conn);
		*socket_context = conn;
		return;
	}
	/* MHD notifies the end of every connection it notified the start of, and only those */
	connection_gone(w);
	if (!conn)
		return;
	/* before MHD closes the fd: the reaper must not shut down a reused one */
	http_reaper_remove(s->reaper, &conn->deadline);
	strbuf_release(&conn->body);
	free(conn->params);
	free(conn->headers);
	free(conn);
	*socket_context = NULL;
}

/* True if the path part of a raw request target holds "%00", which decoding would cut at. */
static int raw_path_has_nul(const char *uri)
{
	for (const char *p = uri; *p && *p != '?'; p++)
		if (p[0] == '%' && p[1] == '0' && p[2] == '0')
			return 1;
	return 0;
}

/*
 * Called with the raw request target before MHD decodes it; what it returns becomes the
 * request's con_cls, so this is where a keep-alive connection starts its next request.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *conn = info ? info->socket_context : NULL;

	if (!conn)
		return NULL;
	conn->phase = PHASE_HEADERS;
	conn->flags = raw_path_has_nul(uri) ? REQ_PATH_NUL : 0;
	conn->received = 0;
	conn->nparams = 0;
	conn->nheaders = 0;
	conn->request_id[0] = '\0';
	strbuf_reset(&conn->body);
	atomic_fetch_add(&s->in_flight, 1);
	return conn;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct conn *conn = *con_cls;

	(void)c;
	if (!conn)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug("http: request ended early (%d)", (int)toe);
	if (conn->body.alloc > KEEP_BODY_MAX)
		strbuf_release(&conn->body);
	if (conn->alloc_params > 64) {
		free(conn->params);
		conn->params = NULL;
		conn->alloc_params = 0;
	}
	if (conn->alloc_headers > 64) {
		free(conn->headers);
		conn->headers = NULL;
		conn->alloc_headers = 0;
	}
	conn->nparams = 0;
	conn->nheaders = 0;
	conn->phase = PHASE_IDLE;
	*con_cls = NULL;
	await_request(s, conn);
	atomic_fetch_sub(&s->in_flight, 1);
}

/* True if resp already has a header called name. */
static int has_header(const struct http_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (!strcasecmp(resp->header_names[i], name))
			return 1;
	return 0;
}

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
	if (MHD_add_response_header(r, name, value) != MHD_YES)
		log_warn("http: invalid response header '%s'", name);
}

/* What the server adds to every response of its own: the request id, and closing when draining. */
static void add_server_headers(struct http_server *s, struct conn *conn, struct MHD_Response *r,
			       const struct http_response *resp)
{
	if (conn->request_id[0] && !has_header(resp, "X-Request-Id"))
		add_header(r, "X-Request-Id", conn->request_id);
	if (atomic_load(&s->draining) && !has_header(resp, "Connection"))
		add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result send_response(struct http_server *s, struct conn *conn,
				     struct MHD_Connection *c, struct http_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned status = resp->status ? (unsigned)resp->status : 200;

	if (resp->file_fd >= 0) {
		r = MHD_create_response_from_fd64(resp->file_size, resp->file_fd);
		if (r)
			resp->file_fd = -1; /* MHD closes it with the response */
	} else if (!resp->body.len) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len;
		char *buf = strbuf_detach(&resp->body, &len);

		r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(buf);
	}
	if (!r) {
		log_error("http: cannot create a response");
		http_response_release(resp);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				    resp->content_type ? resp->content_type : "application/json") !=
	    MHD_YES)
		log_warn("http: invalid content type '%s'", resp->content_type);
	for (size_t i = 0; i < resp->nheaders; i++)
		add_header(r, resp->header_names[i], resp->header_values[i]);
	add_server_headers(s, conn, r, resp);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	http_response_release(resp);
	return ret;
}

static enum MHD_Result send_error(struct http_server *s, struct conn *conn,
				  struct MHD_Connection *c, int code, int status,
				  const char *message)
{
	struct http_response resp;

	http_response_init(&resp);
	http_error_response(&s->routes, &resp, code, message, status);
	return send_response(s, conn, c, &resp);
}

static enum MHD_Result add_param(void *cls, enum MHD_ValueKind kind, const char *key,
				 size_t key_size, const char *value, size_t value_size)
{
	struct conn *conn = cls;

	(void)kind;
	if (memchr(key, '\0', key_size) || (value && memchr(value, '\0', value_size))) {
		conn->flags |= REQ_QUERY_NUL;
		return MHD_NO;
	}
	ALLOC_GROW(conn->params, conn->nparams + 1, conn->alloc_params);
	conn->params[conn->nparams].key = key;
	conn->params[conn->nparams].value = value ? value : "";
	conn->nparams++;
	return MHD_YES;
}

/* Runs a handler that failed: its partial response is dropped for the mapped error. */
static void handler_failed(struct http_server *s, const struct conn *conn, const char *method,
			   const char *path, int code, struct error *err,
			   struct http_response *resp)
{
	const char *msg = err->msg[0] ? err->msg : error_code_name(code);

	if (http_status_of(code) >= 500)
		log_warn("http: %s %s (request %s): %s", method, path, conn->request_id, msg);
	else
		log_debug("http: %s %s (request %s): %s", method, path, conn->request_id, msg);
	http_error_response(&s->routes, resp, code, msg, 0);
}

static void route_missing(struct http_server *s, const char *method, const char *path,
			  const struct strbuf *allow, struct http_response *resp)
{
	struct error err = ERROR_INIT;

	if (!allow->len) {
		error_set(&err, ERR_NOTFOUND, "no endpoint '%s'", path);
		http_error_response(&s->routes, resp, ERR_NOTFOUND, err.msg, 404);
		return;
	}
	error_set(&err, ERR_UNSUPPORTED, "method %s not allowed for '%s' (allowed: %s)", method,
		  path, allow->buf);
	http_error_response(&s->routes, resp, ERR_UNSUPPORTED, err.msg, 405);
	if (resp->nheaders < HTTP_MAX_HEADERS)
		http_response_header(resp, "Allow", allow->buf);
}

/* Calls the route's handler with the request's headers and id at hand for it. */
static void call_handler(struct http_server *s, struct conn *conn, const struct http_route *route,
			 struct http_request *req, struct http_response *resp)
{
	struct error err = ERROR_INIT;
	int ret;

	http_request_bind(req, conn->headers, conn->nheaders, conn->request_id);
	ret = route->fn(req, resp, s->routes.data, &err);
	http_request_unbind();
	if (ret < 0) {
		handler_failed(s, conn, req->method, req->path, ret, &err, resp);
	} else if (resp->status && (resp->status < 200 || resp->status > 599)) {
		error_set(&err, ERR_INTERNAL, "handler for '%s' set invalid status %d", req->path,
			  resp->status);
		handler_failed(s, conn, req->method, req->path, ERR_INTERNAL, &err, resp);
	}
}

static enum MHD_Result dispatch(struct http_server *s, struct conn *conn, struct MHD_Connection *c,
				const char *path, const char *method)
{
	struct http_request req = { .method = method, .path = path };
	struct http_response resp;
	struct strbuf allow = STRBUF_INIT;
	const struct http_route *route;
	const char *problem = http_request_path_problem(path);

	http_response_init(&resp);
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, add_param, conn);
	if (conn->flags & REQ_PATH_NUL)
		problem = "request path must not contain NUL bytes";
	else if (!problem && (conn->flags & REQ_QUERY_NUL))
		problem = "query parameters must not contain NUL bytes";
	if (problem) {
		http_error_response(&s->routes, &resp, ERR_INVALID, problem, 400);
		goto out;
	}
	route = http_route_find(&s->routes, method, path, &req.route_rest, &allow);
	if (!route) {
		route_missing(s, method, path, &allow, &resp);
		goto out;
	}
	req.query = conn->params;
	req.nquery = conn->nparams;
	req.content_type =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req.body = conn->body.buf;
	req.body_len = conn->body.len;
	call_handler(s, conn, route, &req, &resp);
out:
	strbuf_release(&allow);
	return send_response(s, conn, c, &resp);
}

/* The declared Content-Length (digits only, checked before), or -1 if none. */
static int64_t content_length(struct MHD_Connection *c)
{
	const char *v =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!v)
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno == ERANGE || n > INT64_MAX)
		return INT64_MAX;
	return (int64_t)n;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      size_t key_size, const char *value, size_t value_size)
{
	struct conn *conn = cls;

	(void)kind;
	(void)key_size;
	(void)value_size;
	ALLOC_GROW(conn->headers, conn->nheaders + 1, conn->alloc_headers);
	conn->headers[conn->nheaders].name = key;
	conn->headers[conn->nheaders].value = value ? value : "";
	conn->nheaders++;
	return MHD_YES;
}

static const char *find_header(const struct conn *conn, const char *name)
{
	for (size_t i = 0; i < conn->nheaders; i++)
		if (!strcasecmp(conn->headers[i].name, name))
			return conn->headers[i].value;
	return NULL;
}

/* The client's X-Request-Id if it is acceptable, else a new random one. */
static void set_request_id(struct http_server *s, struct conn *conn)
{
	const char *theirs = find_header(conn, "X-Request-Id");
	char id[ID_HEX_LEN + 1];

	if (theirs && http_request_id_is_valid(theirs)) {
		snprintf(conn->request_id, sizeof(conn->request_id), "%s", theirs);
		return;
	}
	/* unique within the process is enough when the random source fails */
	if (id_new(id, NULL) < 0)
		snprintf(id, sizeof(id), "%032" PRIxFAST64, atomic_fetch_add(&s->ids, 1));
	memcpy(conn->request_id, id, sizeof(id));
}

/*
 * True if the request may go on: its route is public or it carries the token. The route is
 * looked up again at dispatch; a path refused there (400) or unknown (404) needs the token
 * too, so that an anonymous client learns nothing about what exists. Else *why and
 * *challenge say what to answer.
 */
static int token_ok(const struct http_server *s, const struct conn *conn, const char *url,
		    const char *method, const char **why, const char **challenge)
{
	struct strbuf allow = STRBUF_INIT;
	const struct http_route *route;
	const char *auth = find_header(conn, "Authorization"), *cred = NULL, *rest;
	size_t len = 0;

	route = http_route_find(&s->routes, method, url, &rest, &allow);
	strbuf_release(&allow);
	if (route && (route->flags & HTTP_ROUTE_PUBLIC))
		return 1;
	if (auth)
		cred = http_bearer_credentials(auth, &len);
	if (cred && http_token_matches(s->token_digest, cred, len))
		return 1;
	if (!auth) {
		*why = "this endpoint needs 'Authorization: Bearer <token>'";
		*challenge = "Bearer realm=\"ferry\"";
	} else if (!cred) {
		*why = "the Authorization header is not 'Bearer <token>'";
		*challenge = "Bearer realm=\"ferry\", error=\"invalid_request\"";
	} else {
		*why = "the bearer token is not valid";
		*challenge = "Bearer realm=\"ferry\", error=\"invalid_token\"";
	}
	return 0;
}

static enum MHD_Result send_401(struct http_server *s, struct conn *conn, struct MHD_Connection *c,
				const char *why, const char *challenge)
{
	struct http_response resp;

	http_response_init(&resp);
	http_error_response(&s->routes, &resp, ERR_AUTH, why, 401);
	if (resp.nheaders < HTTP_MAX_HEADERS)
		http_response_header(&resp, "WWW-Authenticate", challenge);
	return send_response(s, conn, c, &resp);
}

/*
 * First call of a request, with its headers read and its body not: refuse what must not reach
 * a handler before reading any of the body. A response queued now makes MHD close the
 * connection after it, so the unread body is never taken for the next request.
 */
static enum MHD_Result on_headers(struct http_server *s, struct conn *conn,
				  struct MHD_Connection *c, const char *url, const char *method,
				  const char *version)
{
	const char *problem, *challenge;
	int64_t len;

	MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, conn);
	set_request_id(s, conn);
	conn->phase = PHASE_BODY;
	problem = http_headers_problem(conn->headers, conn->nheaders,
				       !strcmp(version, MHD_HTTP_VERSION_1_0));
	if (problem) {
		log_info("http: %s %s (request %s): 400: %s", method, url, conn->request_id,
			 problem);
		conn->phase = PHASE_DONE;
		return send_error(s, conn, c, ERR_INVALID, 400, problem);
	}
	if (s->has_token && !token_ok(s, conn, url, method, &problem, &challenge)) {
		log_info("http: %s %s (request %s): 401: %s", method, url, conn->request_id,
			 problem);
		conn->phase = PHASE_DONE;
		return send_401(s, conn, c, problem, challenge);
	}
	len = content_length(c);
	if (len > 0 && (uint64_t)len > s->max_body) {
		char msg[128];

		conn->phase = PHASE_DONE;
		snprintf(msg, sizeof(msg), "request body of %" PRId64 " bytes exceeds %zu", len,
			 s->max_body);
		return send_error(s, conn, c, ERR_TOOBIG, 413, msg);
	}
	if (len > 0)
		strbuf_grow(&conn->body, (size_t)len < PREALLOC_MAX ? (size_t)len : PREALLOC_MAX);
	conn->body_start_ms = http_now_ms();
	http_deadline_set(&conn->deadline, conn->body_start_ms + s->timeout_ms);
	return MHD_YES;
}

/* The body's deadline grows by a second for every HTTP_MIN_BODY_RATE bytes received. */
static void extend_deadline(struct http_server *s, struct conn *conn)
{
	int64_t earned = (int64_t)(conn->received / HTTP_MIN_BODY_RATE) * 1000;

	http_deadline_set(&conn->deadline, conn->body_start_ms + s->timeout_ms + earned);
}

static enum MHD_Result on_body(struct http_server *s, struct conn *conn, const char *data, size_t n)
{
	conn->received += n;
	extend_deadline(s, conn);
	if (conn->flags & REQ_TOOBIG) {
		if (conn->received - s->max_body <= DRAIN_MAX)
			return MHD_YES;
		log_info("http: dropping a connection still uploading past %zu bytes", s->max_body);
		return MHD_NO;
	}
	if (conn->received > s->max_body) {
		conn->flags |= REQ_TOOBIG;
		strbuf_release(&conn->body);
		return MHD_YES;
	}
	strbuf_add(&conn->body, data, n);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct conn *conn = *con_cls;
	char msg[128];

	if (!conn)
		return MHD_NO; /* no connection context: cannot happen, close the connection */
	switch (conn->phase) {
	case PHASE_HEADERS:
		return on_headers(s, conn, c, url, method, version);
	case PHASE_BODY:
		if (*upload_data_size) {
			size_t n = *upload_data_size;

			*upload_data_size = 0;
			return on_body(s, conn, upload_data, n);
		}
		/* the whole request is in: the handler's time is not the client's */
		http_deadline_set(&conn->deadline, 0);
		conn->phase = PHASE_DONE;
		if (!(conn->flags & REQ_TOOBIG))
			return dispatch(s, conn, c, url, method);
		snprintf(msg, sizeof(msg), "request body exceeds %zu bytes", s->max_body);
		return send_error(s, conn, c, ERR_TOOBIG, 413, msg);
	default:
		return MHD_NO;
	}
}

/* Without this a client closing early could kill the process from a non-MHD thread. */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) || (sa.sa_flags & SA_SIGINFO) || sa.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

static int try_listen(int *out, const struct addrinfo *ai)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	int on = 1;

	if (fd < 0)
		return -1;
	/* SO_REUSEADDR (not SO_REUSEPORT): restart over TIME_WAIT, still refuse a live server */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN)) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	*out = fd;
	return 0;
}

/* Binds and listens on host:port ourselves, so that failures say why. */
static int listen_socket(int *out, int *family, const char *host, uint16_t port, struct error *err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char service[8];
	int rc, saved = 0, ret = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc)
		return error_set(err, ERR_IO, "cannot resolve '%s': %s", host, gai_strerror(rc));
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (!try_listen(out, ai)) {
			*family = ai->ai_family;
			goto out;
		}
		saved = errno;
	}
	ret = error_errno(err, ERR_IO, saved ? saved : EADDRNOTAVAIL,
			  "cannot listen on '%s' port %u", host, (unsigned)port);
out:
	freeaddrinfo(res);
	return ret;
}

static void options_resolve(struct http_options *o, const struct http_options *opts)
{
	const struct http_options defaults = HTTP_OPTIONS_INIT;

	*o = opts ? *opts : defaults;
	if (!o->host || !*o->host)
		o->host = defaults.host;
	if (!o->max_body)
		o->max_body = defaults.max_body;
	if (!o->max_connections)
		o->max_connections = defaults.max_connections;
	if (!o->timeout_seconds)
		o->timeout_seconds = defaults.timeout_seconds;
	if (!o->threads)
		o->threads = (unsigned)workpool_cpus();
}

/* Checks what options_resolve cannot default, and loads the TLS files and the token digest. */
static int setup_security(struct http_server *s, const struct http_options *o, struct error *err)
{
	int rc;

	if (!o->tls_cert != !o->tls_key)
		return error_set(err, ERR_USAGE, "TLS needs both a certificate and a key file");
	if (o->token && !*o->token)
		return error_set(err, ERR_INVALID, "the bearer token is empty");
	if (o->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
			return error_set(err, ERR_UNSUPPORTED,
					 "this libmicrohttpd was built without TLS support");
		if ((rc = http_tls_load(&s->tls, o->tls_cert, o->tls_key, err)) < 0)
			return rc;
	}
	if (o->token) {
		http_token_digest(s->token_digest, o->token, strlen(o->token));
		s->has_token = 1;
	}
	return 0;
}

/* Options that depend on the configuration, ended by MHD_OPTION_END; items holds 4. */
static void optional_items(struct MHD_OptionItem *items, const struct http_server *s)
{
	size_t n = 0;

	if (s->tls.cert) {
		items[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls.cert };
		items[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls.key };
		items[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
						      (void *)TLS_PRIORITIES };
	}
	items[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

/*
 * A worker: one internal epoll thread, no listening socket (connections come from the accept
 * thread through MHD_add_connection, which MHD_USE_ITC makes it notice at once). The accept
 * thread keeps the total under max_connections; the daemon's own limit is only a backstop,
 * with room because the daemon counts a connection a moment past its close notification
 * (a slot freed there and refilled at once would otherwise be refused).
 */
static struct MHD_Daemon *worker_start(struct worker *w, unsigned flags,
				       const struct http_options *o)
{
	struct http_server *s = w->s;
	struct MHD_OptionItem items[4];
	unsigned backstop = o->max_connections > UINT_MAX / 2 ? UINT_MAX : 2 * o->max_connections;

	optional_items(items, s);
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
				mhd_log, s, MHD_OPTION_ARRAY, items, MHD_OPTION_CONNECTION_LIMIT,
				backstop, MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_seconds,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_NOTIFY_CONNECTION,
				on_connection, w, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_END);
}

/* The worker with the fewest connections; ties go to the lowest index. */
static struct worker *least_loaded(struct http_server *s)
{
	struct worker *best = &s->workers[0];
	unsigned best_n = atomic_load(&best->conns);

	for (unsigned i = 1; i < s->nworkers && best_n; i++) {
		unsigned n = atomic_load(&s->workers[i].conns);

		if (n < best_n) {
			best = &s->workers[i];
			best_n = n;
		}
	}
	return best;
}

static void hand_over(struct http_server *s, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct worker *w = least_loaded(s);

	atomic_fetch_add(&w->conns, 1);
	atomic_fetch_add(&s->conns, 1);
	/*
	 * on failure MHD has closed fd and will not notify: the slot is ours to give back (one
	 * that MHD drops later, before notifying its start, is lost: that takes an allocation
	 * failure in the worker)
	 */
	if (MHD_add_connection(w->daemon, fd, addr, len) != MHD_YES) {
		log_warn("http: cannot serve a new connection: %s", strerror(errno));
		connection_gone(w);
	}
}

/*
 * Accepts what is waiting, while under the connection limit. 0 when the backlog is empty or
 * the limit reached, -1 after an error that retrying at once would repeat (no fds left).
 */
static int accept_pending(struct http_server *s)
{
	while (atomic_load(&s->conns) < s->max_connections && !atomic_load(&s->draining)) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int fd = accept4(s->listen_fd, (struct sockaddr *)&addr, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			hand_over(s, fd, (struct sockaddr *)&addr, len);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		log_warn("http: cannot accept a connection: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The accept thread. At the connection limit it stops polling the listening socket, so that
 * further connections wait in the kernel's backlog until a close wakes it.
 */
static void *acceptor_main(void *arg)
{
	struct http_server *s = arg;

	while (!atomic_load(&s->draining)) {
		struct pollfd p[2] = { { s->wake_fd, POLLIN, 0 }, { s->listen_fd, POLLIN, 0 } };
		int full = atomic_load(&s->conns) >= s->max_connections;
		uint64_t n;

		if (poll(p, full ? 1 : 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents && read(s->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			break;
		if (!full && p[1].revents && accept_pending(s) < 0)
			poll(NULL, 0, 100); /* out of fds: let closes free some */
	}
	return NULL;
}

static void server_free(struct http_server *s)
{
	/* MHD's last connection notifications use the reaper and wake_fd: they go after it */
	for (unsigned i = 0; i < s->nworkers; i++)
		if (s->workers[i].daemon)
			MHD_stop_daemon(s->workers[i].daemon);
	free(s->workers);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	http_reaper_stop(s->reaper);
	http_tls_release(&s->tls);
	OPENSSL_cleanse(s->token_digest, sizeof(s->token_digest));
	free(s);
}

static int bound_port(uint16_t *out, int fd, struct error *err)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len))
		return error_errno(err, ERR_IO, errno, "cannot read the listening address");
	if (addr.ss_family == AF_INET6)
		*out = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	else
		*out = ntohs(((struct sockaddr_in *)&addr)->sin_port);
	return 0;
}

/* Starts the workers, then the accept thread that feeds them. */
static int start_threads(struct http_server *s, const struct http_options *o, int family,
			 struct error *err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
	int rc;

	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (s->tls.cert)
		flags |= MHD_USE_TLS;
	s->workers = xcalloc(o->threads, sizeof(*s->workers));
	for (unsigned i = 0; i < o->threads; i++) {
		s->workers[i].s = s;
		atomic_init(&s->workers[i].conns, 0);
		starting = 1;
		s->workers[i].daemon = worker_start(&s->workers[i], flags, o);
		starting = 0;
		if (!s->workers[i].daemon)
			return error_set(err, ERR_INTERNAL,
					 "cannot start the http server on '%s' port %u", o->host,
					 (unsigned)o->port);
		s->nworkers = i + 1;
	}
	rc = pthread_create(&s->acceptor, NULL, acceptor_main, s);
	if (rc)
		return error_errno(err, ERR_INTERNAL, rc, "cannot start the http accept thread");
	s->acceptor_running = 1;
	pthread_setname_np(s->acceptor, "http-accept");
	return 0;
}

int http_server_start(struct http_server **out, const struct http_options *opts,
		      const struct http_routes *routes, struct error *err)
{
	struct http_options o;
	struct http_server *s = xcalloc(1, sizeof(*s));
	int family = AF_INET, ret;

	options_resolve(&o, opts);
	s->routes = *routes;
	s->max_body = o.max_body;
	s->timeout_ms = (int64_t)o.timeout_seconds * 1000;
	s->max_connections = o.max_connections;
	s->listen_fd = -1;
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	atomic_init(&s->conns, 0);
	atomic_init(&s->in_flight, 0);
	atomic_init(&s->draining, 0);
	atomic_init(&s->ids, 1);
	if (s->wake_fd < 0) {
		ret = error_errno(err, ERR_INTERNAL, errno, "cannot create an eventfd");
		goto fail;
	}
	if ((ret = setup_security(s, &o, err)) < 0 ||
	    (ret = http_reaper_start(&s->reaper, err)) < 0)
		goto fail;
	ignore_sigpipe();
	if ((ret = listen_socket(&s->listen_fd, &family, o.host, o.port, err)) < 0 ||
	    (ret = bound_port(&s->port, s->listen_fd, err)) < 0 ||
	    (ret = start_threads(s, &o, family, err)) < 0)
		goto fail;
	log_debug("http: listening on '%s' port %u with %u threads%s", o.host, (unsigned)s->port,
		  o.threads, s->tls.cert ? " (TLS)" : "");
	*out = s;
	return 0;
fail:
	server_free(s);
	return ret;
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_quiesce(struct http_server *s)
{
	if (!s || atomic_exchange(&s->draining, 1))
		return;
	if (s->acceptor_running) {
		wake_acceptor(s);
		pthread_join(s->acceptor, NULL);
		s->acceptor_running = 0;
	}
	/* connections still in the backlog are refused with the socket */
	close(s->listen_fd);
	s->listen_fd = -1;
}

void http_server_stop(struct http_server *s)
{
	struct timespec ms = { 0, 1000000L };

	if (!s)
		return;
	http_server_quiesce(s);
	for (int i = 0; i < HTTP_STOP_WAIT_MS && atomic_load(&s->in_flight) > 0; i++)
		nanosleep(&ms, NULL);
	if (atomic_load(&s->in_flight) > 0)
		log_warn("http: stopping with %d requests still running",
			 atomic_load(&s->in_flight));
	server_free(s);
}
