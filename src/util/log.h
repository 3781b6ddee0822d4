/*
 * Diagnostics on stderr for people debugging ferry ("ferry: debug: ..."), not the CLI's user
 * messages. The level comes from $FERRY_LOG (error, warn, info, debug, trace; default warn) and
 * from -v/-q through log_set_level. Safe to call from several threads.
 *
 * The level names clash with <syslog.h>'s macros: do not include both in one file.
 */
#ifndef FERRY_UTIL_LOG_H
#define FERRY_UTIL_LOG_H

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
	LOG_TRACE,
};

/*
 * Reads $FERRY_LOG once per process (later calls do nothing). An unknown value prints one
 * warning and leaves the default, warn. Logging without calling it first calls it implicitly.
 */
void log_init_from_env(void);

/* Overrides the level from the environment; messages above level are dropped. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_enabled(enum log_level level);

/* Parses a level name (case-insensitive; "warning" too): 0, or ERR_INVALID with *out untouched. */
int log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/*
 * Writes "ferry: LEVEL: message\n" to stderr in one write; debug and trace messages also name
 * the source position ("ferry: debug: util/fs.c:42: ..."). Use the macros below.
 */
void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_at(level, ...)                                                                         \
	do {                                                                                       \
		if (log_enabled(level))                                                            \
			log_write((level), __FILE__, __LINE__, __VA_ARGS__);                       \
	} while (0)

#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) log_at(LOG_TRACE, __VA_ARGS__)

#endif
