/*
 * Slow-client deadlines. libmicrohttpd's connection timeout restarts with every byte, so a
 * client trickling a request one byte a second holds a connection for ever; this thread cuts
 * connections whose request is late as a whole.
 */
#include "util/common.h"
#include "http/http_internal.h"
#include "util/log.h"

#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

/* How often deadlines are checked: a cut comes at most this late. */
#define TICK_MS 200

struct http_reaper {
	pthread_mutex_t lock; /* guards the list, each cut and stopping */
	pthread_cond_t wake;
	pthread_t thread;
	struct http_deadline *head;
	int stopping;
};

/*
 * shutdown() rather than close(): the fd stays the worker's until it closes it, and the worker
 * removes the deadline under the lock first, so a cut never hits a reused fd.
 */
static void reap(struct http_reaper *r, int64_t now)
{
	for (struct http_deadline *d = r->head; d; d = d->next) {
		int64_t at = atomic_load(&d->at_ms);

		if (!at || now < at || d->cut)
			continue;
		d->cut = 1;
		log_info("http: closing a connection too slow to send its request");
		shutdown(d->fd, SHUT_RDWR);
	}
}

static void *reaper_main(void *arg)
{
	struct http_reaper *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		struct timespec ts;

		reap(r, http_now_ms());
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->wake, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int http_reaper_start(struct http_reaper **out, struct error *err)
{
	struct http_reaper *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t attr;
	int rc;

	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	rc = pthread_create(&r->thread, NULL, reaper_main, r);
	if (rc) {
		pthread_cond_destroy(&r->wake);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return error_errno(err, ERR_INTERNAL, rc, "cannot start the http deadline thread");
	}
	*out = r;
	return 0;
}

void http_reaper_add(struct http_reaper *r, struct http_deadline *d, int fd)
{
	d->fd = fd;
	d->cut = 0;
	atomic_store(&d->at_ms, 0);
	pthread_mutex_lock(&r->lock);
	d->prev = NULL;
	d->next = r->head;
	if (r->head)
		r->head->prev = d;
	r->head = d;
	pthread_mutex_unlock(&r->lock);
}

void http_reaper_remove(struct http_reaper *r, struct http_deadline *d)
{
	pthread_mutex_lock(&r->lock);
	if (d->prev)
		d->prev->next = d->next;
	else if (r->head == d)
		r->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	d->prev = d->next = NULL;
	pthread_mutex_unlock(&r->lock);
}

void http_deadline_set(struct http_deadline *d, int64_t at_ms)
{
	atomic_store(&d->at_ms, at_ms);
}

void http_reaper_stop(struct http_reaper *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = 1;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
