/*
 * A small HTTP/1.1 load generator for bench/server.sh: C keep-alive connections on one epoll
 * thread, each sending one request at a time, bounded by a request count and a time limit.
 *
 *     loadgen -p PORT [-h 127.0.0.1] [-c CONNS] [-n REQUESTS] [-d SECONDS] [-m POST]
 *             [-u PATH] [-b BODY | -f BODYFILE] [-R RUN1,RUN2,...] [-s START] [-r RATE] [-v]
 *
 * The body is a template: {{n}} is a request number unique across the whole load (START,
 * START+1, ...), {{n*M+K}} that number times M plus K (e.g. the steps of a batch of M points),
 * {{c}} the connection's number, {{i}} the request's number on its connection,
 * {{run}} the connection's entry of -R (connection c gets entry c mod count). REQUESTS is split
 * evenly between the connections; each stops at its share or when SECONDS have passed. Every
 * response must be 200; anything else is an error (the first one is printed). Prints one line of
 * key=value results, including the CPU time the generator itself used; with -v also how many
 * requests each connection completed. Exits 1 if any request failed.
 *
 * With -r RATE the load is open-loop, as wrk2's: each connection sends on a fixed schedule
 * (RATE requests per second in all, connection c offset by c/CONNS of its interval), and a
 * request's latency counts from when it was scheduled, not from when it was sent, so a server
 * that falls behind is charged for the requests it delayed. A connection still waiting for its
 * previous answer sends the next one as soon as it comes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_REQUESTS 100000000L
#define MAX_SECONDS 3600.0
#define MAX_BODY (64u << 20)
#define MAX_RESPONSE (64u << 20)
/* After the time limit, requests in flight get this long to finish. */
#define DRAIN_SECONDS 10.0

enum piece_kind {
	P_TEXT,
	P_N,
	P_C,
	P_I,
	P_RUN
};

struct piece {
	enum piece_kind kind;
	const char *text;
	size_t len;
	int64_t mul, add; /* P_N: the number is n * mul + add */
};

struct conn {
	int fd;
	int idx;
	long quota, done;
	int busy;  /* a request is on the wire */
	char *out; /* the request being written */
	size_t out_len, out_off, out_cap;
	char *in; /* the response being read */
	size_t in_len, in_cap;
	double started;
	double due;  /* -r: when the next request is scheduled */
	int waiting; /* -r: idle until due */
};

static struct {
	const char *host, *method, *path, *body;
	int port, nconns, verbose;
	long total;
	double seconds, rate;
	int64_t start;
	char **runs;
	size_t nruns;
	struct piece *pieces;
	size_t npieces;
} cfg = { "127.0.0.1", "POST", "/", "", 0, 1, 0, 1000, 10.0, 0.0, 0, NULL, 0, NULL, 0 };

static int64_t next_n;
static long completed, errors, nlat;
static float *latencies; /* milliseconds, one per completed request */
static int reported;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 4096;
	*buf = xrealloc(*buf, *cap);
}

static void add(struct conn *c, const char *s, size_t n)
{
	grow(&c->out, &c->out_cap, c->out_len + n);
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
}

/* "{{n*M+K}}" (either part optional) at p: its length, with *mul and *add; 0 if not one. */
static size_t parse_linear(const char *p, int64_t *mul, int64_t *add)
{
	const char *q = p + 3;
	char *end;

	if (strncmp(p, "{{n", 3))
		return 0;
	*mul = 1;
	*add = 0;
	if (*q == '*') {
		*mul = strtoll(q + 1, &end, 10);
		if (end == q + 1)
			return 0;
		q = end;
	}
	if (*q == '+') {
		*add = strtoll(q + 1, &end, 10);
		if (end == q + 1)
			return 0;
		q = end;
	}
	return strncmp(q, "}}", 2) ? 0 : (size_t)(q + 2 - p);
}

/* Splits the body template into text and placeholders once. */
static void parse_template(const char *t)
{
	static const struct {
		const char *name;
		enum piece_kind kind;
	} names[] = { { "{{c}}", P_C }, { "{{i}}", P_I }, { "{{run}}", P_RUN } };
	const char *p = t, *text = t;

	while (*p) {
		struct piece ph = { P_N, NULL, 0, 1, 0 };
		size_t k, len = parse_linear(p, &ph.mul, &ph.add);

		for (k = 0; !len && k < sizeof(names) / sizeof(names[0]); k++)
			if (!strncmp(p, names[k].name, strlen(names[k].name))) {
				ph.kind = names[k].kind;
				len = strlen(names[k].name);
			}
		if (!len) {
			p++;
			continue;
		}
		if (ph.kind == P_RUN && !cfg.nruns)
			die("the body uses {{run}} but no -R was given");
		cfg.pieces = xrealloc(cfg.pieces, (cfg.npieces + 2) * sizeof(*cfg.pieces));
		if (p > text)
			cfg.pieces[cfg.npieces++] =
			    (struct piece){ P_TEXT, text, (size_t)(p - text), 0, 0 };
		cfg.pieces[cfg.npieces++] = ph;
		p += len;
		text = p;
	}
	cfg.pieces = xrealloc(cfg.pieces, (cfg.npieces + 1) * sizeof(*cfg.pieces));
	if (p > text)
		cfg.pieces[cfg.npieces++] =
		    (struct piece){ P_TEXT, text, (size_t)(p - text), 0, 0 };
}

/* Builds the connection's next request: headers, then the body with its placeholders filled. */
static void build_request(struct conn *c)
{
	char num[32], head[512];
	size_t body_at, body_len;
	int n, hn;

	/* The body first, after room for the headers, which need its length. */
	c->out_len = sizeof(head);
	for (size_t k = 0; k < cfg.npieces; k++) {
		const struct piece *p = &cfg.pieces[k];

		switch (p->kind) {
		case P_TEXT:
			add(c, p->text, p->len);
			continue;
		case P_N:
			n = snprintf(num, sizeof(num), "%" PRId64, next_n * p->mul + p->add);
			break;
		case P_C:
			n = snprintf(num, sizeof(num), "%d", c->idx);
			break;
		case P_I:
			n = snprintf(num, sizeof(num), "%ld", c->done);
			break;
		default:
			add(c, cfg.runs[(size_t)c->idx % cfg.nruns],
			    strlen(cfg.runs[(size_t)c->idx % cfg.nruns]));
			continue;
		}
		add(c, num, (size_t)n);
	}
	next_n++;
	body_len = c->out_len - sizeof(head);
	hn =
	    snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: ferry-loadgen\r\n"
		     "Accept: */*\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		     cfg.method, cfg.path, cfg.host, cfg.port, body_len);
	if (hn < 0 || (size_t)hn >= sizeof(head))
		die("request headers too long");
	body_at = sizeof(head) - (size_t)hn;
	memcpy(c->out + body_at, head, (size_t)hn);
	/* Shift so the request starts at offset 0 (one memmove, cheaper than a second buffer). */
	memmove(c->out, c->out + body_at, c->out_len - body_at);
	c->out_len -= body_at;
	c->out_off = 0;
}

static void conn_connect(struct conn *c, int ep)
{
	struct sockaddr_in sa = { 0 };
	struct epoll_event ev = { 0 };
	int one = 1;

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)cfg.port);
	if (inet_pton(AF_INET, cfg.host, &sa.sin_addr) != 1)
		die("'%s' is not an IPv4 address", cfg.host);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	/* A blocking connect on the loopback is immediate; the socket is made non-blocking after. */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("cannot connect to %s:%d: %s", cfg.host, cfg.port, strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK))
		die("fcntl: %s", strerror(errno));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
		die("epoll_ctl: %s", strerror(errno));
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->in_len = 0;
}

static void report_error(struct conn *c, const char *what, const char *detail, size_t len)
{
	errors++;
	if (reported++ < 3)
		fprintf(stderr, "loadgen: connection %d request %ld: %s%s%.*s\n", c->idx, c->done,
			what, detail ? ": " : "", detail ? (int)(len > 300 ? 300 : len) : 0,
			detail ? detail : "");
}

/* Writes what is left of the request; 0 when all of it is out or the socket is full. */
static int conn_write(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		c->out_off += (size_t)n;
	}
	return 0;
}

static void conn_start(struct conn *c)
{
	build_request(c);
	c->busy = 1;
	c->waiting = 0;
	c->started = cfg.rate > 0 ? c->due : now();
	if (conn_write(c) < 0) {
		report_error(c, "send failed", strerror(errno), strlen(strerror(errno)));
		c->busy = 0;
		c->done++;
		conn_close(c);
	}
}

/* Header value of NAME in the header block [h, end), or NULL. */
static const char *header(const char *h, const char *end, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	for (const char *p = h; p < end;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*len = (size_t)(eol - v);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

/*
 * Looks for a whole response in c->in: 0 if more bytes are needed, 1 when one is complete (its
 * status, whether the server will close, and its body are set).
 */
static int parse_response(struct conn *c, int *status, int *closing, const char **body,
			  size_t *body_len, size_t *total)
{
	const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4), *v;
	size_t hlen, vlen;
	unsigned long long clen;

	if (!end)
		return 0;
	hlen = (size_t)(end - c->in) + 4;
	if (c->in_len < 12 || strncmp(c->in, "HTTP/1.", 7))
		return -1;
	*status = (int)strtol(c->in + 9, NULL, 10);
	if (header(c->in, end, "Transfer-Encoding", &vlen))
		return -1; /* the server under test always sends Content-Length */
	v = header(c->in, end, "Content-Length", &vlen);
	clen = v ? strtoull(v, NULL, 10) : 0;
	if (clen > MAX_RESPONSE)
		return -1;
	if (c->in_len < hlen + clen)
		return 0;
	v = header(c->in, end, "Connection", &vlen);
	*closing =
	    (v && vlen >= 5 && !strncasecmp(v, "close", 5)) || !strncmp(c->in, "HTTP/1.0", 8);
	*body = c->in + hlen;
	*body_len = (size_t)clen;
	*total = hlen + (size_t)clen;
	return 1;
}

/* Reads what has arrived; finishes the request when its response is complete. */
static void conn_read(struct conn *c, int ep, double deadline)
{
	for (;;) {
		int status = 0, closing = 0, r;
		const char *body;
		size_t body_len, total;
		ssize_t n;

		grow(&c->in, &c->in_cap, c->in_len + 65536);
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (c->busy) {
				report_error(c, "connection closed before the response", NULL, 0);
				c->busy = 0;
				c->done++;
			}
			conn_close(c);
			return;
		}
		c->in_len += (size_t)n;
		if (!c->busy)
			continue; /* unexpected bytes: dropped below */
		r = parse_response(c, &status, &closing, &body, &body_len, &total);
		if (r == 0)
			continue;
		c->busy = 0;
		c->done++;
		if (r < 0) {
			report_error(c, "malformed response", c->in, c->in_len);
			conn_close(c);
			return;
		}
		latencies[nlat++] = (float)((now() - c->started) * 1e3);
		if (status != 200) {
			char what[32];

			snprintf(what, sizeof(what), "status %d", status);
			report_error(c, what, body, body_len);
		} else {
			completed++;
		}
		memmove(c->in, c->in + total, c->in_len - total);
		c->in_len -= total;
		if (closing)
			conn_close(c);
		if (c->done < c->quota && now() < deadline) {
			if (c->fd < 0)
				conn_connect(c, ep);
			if (cfg.rate > 0) {
				c->due += (double)cfg.nconns / cfg.rate;
				c->waiting = 1;
				if (c->due <= now())
					conn_start(c);
			} else {
				conn_start(c);
			}
		}
		if (c->fd < 0)
			return;
	}
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

static double percentile(double p)
{
	long i;

	if (!nlat)
		return 0;
	i = (long)(p * (double)(nlat - 1) + 0.5);
	return latencies[i];
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		die("cannot open '%s': %s", path, strerror(errno));
	do {
		grow(&buf, &cap, len + 65536);
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len > MAX_BODY)
			die("'%s' is larger than %u bytes", path, MAX_BODY);
	} while (n);
	if (ferror(f))
		die("cannot read '%s'", path);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static void split_runs(char *list)
{
	for (char *p = list, *comma; p; p = comma) {
		comma = strchr(p, ',');
		if (comma)
			*comma++ = '\0';
		if (!*p)
			continue;
		cfg.runs = xrealloc(cfg.runs, (cfg.nruns + 1) * sizeof(*cfg.runs));
		cfg.runs[cfg.nruns++] = p;
	}
}

static long number(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		die("-%s must be an integer from %ld to %ld, not '%s'", opt, min, max, s);
	return v;
}

static void parse_args(int argc, char **argv)
{
	int opt;
	char *end;

	while ((opt = getopt(argc, argv, "h:p:c:n:d:m:u:b:f:R:s:r:v")) != -1) {
		switch (opt) {
		case 'h':
			cfg.host = optarg;
			break;
		case 'p':
			cfg.port = (int)number("p", optarg, 1, 65535);
			break;
		case 'c':
			cfg.nconns = (int)number("c", optarg, 1, MAX_CONNS);
			break;
		case 'n':
			cfg.total = number("n", optarg, 1, MAX_REQUESTS);
			break;
		case 'd':
			cfg.seconds = strtod(optarg, &end);
			if (*end || !(cfg.seconds > 0 && cfg.seconds <= MAX_SECONDS))
				die("-d must be a number of seconds in (0, %g]", MAX_SECONDS);
			break;
		case 'm':
			cfg.method = optarg;
			break;
		case 'u':
			cfg.path = optarg;
			break;
		case 'b':
			cfg.body = optarg;
			break;
		case 'f':
			cfg.body = read_file(optarg);
			break;
		case 'R':
			split_runs(optarg);
			break;
		case 's':
			cfg.start = number("s", optarg, 0, INT64_MAX / 2);
			break;
		case 'r':
			cfg.rate = strtod(optarg, &end);
			if (*end || !(cfg.rate > 0 && cfg.rate <= 1e7))
				die("-r must be a number of requests per second in (0, 1e7]");
			break;
		case 'v':
			cfg.verbose = 1;
			break;
		default:
			die("usage: loadgen -p PORT [-h HOST] [-c CONNS] [-n REQUESTS] "
			    "[-d SECONDS] [-m METHOD] [-u PATH] [-b BODY | -f FILE] [-R RUNS] "
			    "[-s START] [-r RATE] [-v]");
		}
	}
	if (!cfg.port)
		die("-p PORT is required");
	if (cfg.total < cfg.nconns)
		cfg.nconns = (int)cfg.total;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[64];
	struct conn *conns;
	struct rusage ru;
	double t0, t1, deadline, cpu;
	long active;
	int ep;

	parse_args(argc, argv);
	parse_template(cfg.body);
	next_n = cfg.start;
	latencies = xrealloc(NULL, (size_t)cfg.total * sizeof(*latencies));
	conns = xrealloc(NULL, (size_t)cfg.nconns * sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	for (int i = 0; i < cfg.nconns; i++) {
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].idx = i;
		conns[i].quota = cfg.total / cfg.nconns + (i < cfg.total % cfg.nconns);
		conn_connect(&conns[i], ep);
	}
	t0 = now();
	deadline = t0 + cfg.seconds;
	for (int i = 0; i < cfg.nconns; i++) {
		conns[i].due = cfg.rate > 0 ? t0 + (double)i / cfg.rate : t0;
		conns[i].waiting = cfg.rate > 0 && i > 0;
		if (!conns[i].waiting)
			conn_start(&conns[i]);
	}
	for (;;) {
		struct timespec wait = { 0, 100000000L };
		double t = now(), next = t + 0.1;
		int n;

		active = 0;
		for (int i = 0; i < cfg.nconns; i++) {
			struct conn *c = &conns[i];

			if (c->waiting && c->due <= t && t < deadline)
				conn_start(c);
			else if (c->waiting && t >= deadline)
				c->waiting = 0;
			if (c->waiting && c->due < next)
				next = c->due;
			active += c->busy || c->waiting;
		}
		if (!active || t > deadline + DRAIN_SECONDS)
			break;
		if (next > t) {
			wait.tv_sec = (time_t)(next - t);
			wait.tv_nsec = (long)((next - t - (double)wait.tv_sec) * 1e9);
		} else {
			wait.tv_nsec = 0;
		}
		n = epoll_pwait2(ep, evs, 64, &wait, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;

			if (c->fd < 0)
				continue;
			if ((evs[k].events & EPOLLOUT) && c->busy && conn_write(c) < 0) {
				report_error(c, "send failed", strerror(errno),
					     strlen(strerror(errno)));
				c->busy = 0;
				c->done++;
				conn_close(c);
				continue;
			}
			if (evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				conn_read(c, ep, deadline);
		}
	}
	t1 = now();
	for (int i = 0; i < cfg.nconns; i++)
		if (conns[i].busy)
			report_error(&conns[i], "no response before the time limit", NULL, 0);
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	qsort(latencies, (size_t)nlat, sizeof(*latencies), cmp_float);
	printf("conns=%d requests=%ld ok=%ld errors=%ld seconds=%.3f rps=%.1f p50_ms=%.3f "
	       "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f client_cpu_s=%.3f client_cpu_pct=%.1f\n",
	       cfg.nconns, completed + errors, completed, errors, t1 - t0,
	       (double)completed / (t1 - t0), percentile(0.5), percentile(0.9), percentile(0.99),
	       nlat ? latencies[nlat - 1] : 0.0, cpu, 100.0 * cpu / (t1 - t0));
	if (cfg.verbose)
		for (int i = 0; i < cfg.nconns; i++)
			printf("conn %d done %ld\n", i, conns[i].done);
	return errors ? 1 : 0;
}
