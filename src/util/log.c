/*
 * Leveled diagnostics on stderr. Each message is formatted first and written with a single
 * stdio call, so lines from concurrent threads do not interleave.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <pthread.h>
#include <stdatomic.h>

#define LOG_DEFAULT LOG_WARN

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

static _Atomic int current_level = LOG_DEFAULT;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

int log_parse_level(const char *s, enum log_level *out)
{
	if (!s)
		return ERR_INVALID;
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcasecmp(s, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "warning")) {
		*out = LOG_WARN;
		return 0;
	}
	return ERR_INVALID;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= ARRAY_SIZE(level_names))
		return "unknown";
	return level_names[level];
}

static void env_init(void)
{
	const char *s = getenv("FERRY_LOG");
	enum log_level level;

	if (!s || !*s)
		return;
	if (log_parse_level(s, &level)) {
		log_write(LOG_WARN, __FILE__, __LINE__,
			  "FERRY_LOG: unknown level '%s' (expected error, warn, info, debug or "
			  "trace); using 'warn'",
			  s);
		return;
	}
	atomic_store(&current_level, (int)level);
}

void log_init_from_env(void)
{
	pthread_once(&env_once, env_init);
}

void log_set_level(enum log_level level)
{
	/* read the environment now, or a first log call later would override this */
	log_init_from_env();
	atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
	log_init_from_env();
	return (enum log_level)atomic_load(&current_level);
}

int log_enabled(enum log_level level)
{
	return (int)level <= (int)log_get_level();
}

/* "/work/ferry/src/util/fs.c" -> "util/fs.c": the part after the last "src/". */
static const char *short_file(const char *file)
{
	const char *p, *best = NULL;

	for (p = strstr(file, "src/"); p; p = strstr(p + 1, "src/"))
		best = p + 4;
	if (best)
		return best;
	p = strrchr(file, '/');
	return p ? p + 1 : file;
}

void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&sb, "ferry: %s: ", log_level_name(level));
	if (level >= LOG_DEBUG && file)
		strbuf_addf(&sb, "%s:%d: ", short_file(file), line);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (!sb.len || sb.buf[sb.len - 1] != '\n')
		strbuf_addch(&sb, '\n');
	fwrite(sb.buf, 1, sb.len, stderr);
	strbuf_release(&sb);
}
