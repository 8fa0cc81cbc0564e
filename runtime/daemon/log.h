/* embedrtd's log: one line per message on stderr with a timestamp and a level, written
 * with one write() so that lines from several threads never interleave. */
#ifndef ERT_DAEMON_LOG_H
#define ERT_DAEMON_LOG_H

typedef enum ert_log_level {
    ERT_LOG_ERROR = 0,
    ERT_LOG_WARN = 1,
    ERT_LOG_INFO = 2,
    ERT_LOG_DEBUG = 3,
} ert_log_level;

void ert_log_set_level(ert_log_level level);
ert_log_level ert_log_get_level(void);
/* "error", "warn", "info", "debug"; -1 for anything else. */
int ert_log_level_parse(const char *s);
const char *ert_log_level_name(ert_log_level level);

void ert_log(ert_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
