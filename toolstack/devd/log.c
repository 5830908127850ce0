/*
 * log.c - kiln-devd's one-line messages (see log.h).  A guest can provoke a
 * message with every register access, so at most LOG_BURST lines go out per
 * second; the rest are counted and the count reported with the next line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "log.h"

#define LOG_BURST 50

void (*devd_log_hook)(const char *line);

void devd_log(const char *fmt, ...)
{
    static time_t second;
    static unsigned lines, dropped;
    struct timespec now;
    char line[512];
    va_list ap;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec != second) {
        second = now.tv_sec;
        lines = 0;
    }
    if (++lines > LOG_BURST) {
        dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (dropped) {
        char note[64];
        snprintf(note, sizeof(note), "(%u messages suppressed)", dropped);
        dropped = 0;
        if (devd_log_hook)
            devd_log_hook(note);
        else
            fprintf(stderr, "kiln-devd: %s\n", note);
    }
    if (devd_log_hook)
        devd_log_hook(line);
    else
        fprintf(stderr, "kiln-devd: %s\n", line);
}
