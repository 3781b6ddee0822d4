/* Random hex ids from getrandom(2) and UTC millisecond clocks. */
#include "util/common.h"
#include "util/id.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>

/*
 * Random bytes are read RANDOM_POOL at a time into a buffer per thread: a getrandom call per
 * id was a third of an inference server's system calls (one per request, for X-Request-Id)
 * and ~3% of its CPU. The bytes are the kernel's CSPRNG output either way, each used once.
 */
#define RANDOM_POOL 4096

struct random_pool {
	unsigned char bytes[RANDOM_POOL];
	size_t used;	 /* bytes handed out; RANDOM_POOL when empty */
	unsigned forked; /* fork_count when filled */
};

/*
 * A child of fork() inherits its parent's buffered bytes: without this count, both would hand
 * out the same ids. Raised in every child, so each thread's buffer is refilled there.
 */
static atomic_uint fork_count;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void count_fork(void)
{
	atomic_fetch_add(&fork_count, 1);
}

static void install_fork_hook(void)
{
	pthread_atfork(NULL, NULL, count_fork);
}

static int read_random(unsigned char *buf, size_t len, struct error *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, ERR_IO, errno,
					   "cannot read random bytes for a new id");
		got += (size_t)n;
	}
	return 0;
}

/* Takes len (<= RANDOM_POOL) fresh random bytes from this thread's buffer. */
static int take_random(unsigned char *out, size_t len, struct error *err)
{
	static _Thread_local struct random_pool pool = { .used = RANDOM_POOL };
	unsigned forked;
	int ret;

	pthread_once(&fork_hook_once, install_fork_hook);
	forked = atomic_load(&fork_count);
	if (pool.used + len > RANDOM_POOL || pool.forked != forked) {
		if ((ret = read_random(pool.bytes, RANDOM_POOL, err)))
			return ret;
		pool.used = 0;
		pool.forked = forked;
	}
	memcpy(out, pool.bytes + pool.used, len);
	pool.used += len;
	return 0;
}

int id_new(char out[ID_HEX_LEN + 1], struct error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[ID_HEX_LEN / 2];
	int ret;

	if ((ret = take_random(raw, sizeof(raw), err)))
		return ret;
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[ID_HEX_LEN] = '\0';
	return 0;
}

int id_is_valid(const char *s)
{
	size_t i;

	for (i = 0; i < ID_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

int64_t time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void time_format_iso8601(int64_t ms, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];

	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03dZ", base, (int)(ms % 1000));
}
