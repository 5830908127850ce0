/*
 * log.h - kiln-devd's messages: one line each, to stderr (which kl points at
 * the domain's devd log) or, in tests, to a hook that records them.
 */
#ifndef DEVD_LOG_H
#define DEVD_LOG_H

extern void (*devd_log_hook)(const char *line);
void devd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* DEVD_LOG_H */
