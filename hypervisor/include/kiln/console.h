/*
 * console.h - the hypervisor's log: serial console, levels, ring buffer, panic.
 *
 * Every line goes out as "[   12.345678] (kiln) text" (seconds since boot)
 * on COM1 and into an in-memory ring that SYSCTL LOG_READ ("kl dmesg")
 * reads.  Messages above the loglvl= threshold are dropped (default info).
 */
#ifndef KILN_CONSOLE_H
#define KILN_CONSOLE_H

#include <stdarg.h>
#include <kiln/compiler.h>
#include <kiln/types.h>

enum log_level {
    LOG_ERR   = 0,
    LOG_WARN  = 1,
    LOG_INFO  = 2,
    LOG_DEBUG = 3,
};

/* Logs one message; a message may contain several lines, each gets a prefix. */
void printk(enum log_level level, const char *fmt, ...) __printf(2, 3);
void vprintk(enum log_level level, const char *fmt, va_list ap);

#define pr_err(...)   printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

/*
 * Logs output from a guest as "[ts] (dN) text", one log line per '\n'
 * (a trailing fragment without '\n' still becomes its own line, so callers
 * that want exact line boundaries buffer per domain).  Never filtered by
 * loglvl: test guests' TAP must always reach the serial port.
 */
void console_guest_write(u16 domid, const char *buf, size_t len);

/*
 * Copies log text starting at *offset (a byte position counted since boot)
 * into buf and advances *offset.  If *offset points to text the ring has
 * already overwritten, reading restarts at the oldest text kept.  Returns the
 * number of bytes copied (0 when nothing new).
 */
size_t console_ring_read(char *buf, size_t len, u64 *offset);

/*
 * dom0's access to COM1 + reg (reg < SERIAL_SHARED_REGS, size 1, 2 or 4),
 * forwarded to the UART under the console lock; returns what an IN read.
 * dom0 and the log share the one UART, and written straight through their
 * lines interleaved byte by byte ("kiln-dom0: init [ 4.81] (kiln) d416
 * destroyed"), corrupting the serial log the farm and the tests parse.  So
 * the console tracks whether dom0 is in the middle of a line (its last
 * byte to the transmitter was not '\n'), and a hypervisor or guest line
 * waits, lock released, for dom0 to end it: at most CONSOLE_DOM0_WAIT_NS,
 * and not at all on the CPU dom0 runs on (dom0 cannot go on while that CPU
 * waits).  A dom0 line still open then is ended with a line break first,
 * so every log line starts at the beginning of a line.
 */
#define CONSOLE_DOM0_WAIT_NS 20000000ull    /* 20 ms */
u32 console_dom0_uart(unsigned int reg, unsigned int size, bool in, u32 val);

/* Current threshold, parsed from loglvl= (error|warn|info|debug). */
enum log_level console_loglevel(void);

/* Stops the other CPUs, prints the message and a backtrace of the caller,
 * and stops the machine: QEMU exits through isa-debug-exit with a non-zero
 * status. */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);
/* True once some CPU has started to panic. */
bool panic_in_progress(void);
/* Used by panic: print without the console lock from now on. */
void console_panic_mode(void);

#define BUG_ON(cond) \
    do { if (unlikely(cond)) panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__); } while (0)
#define ASSERT(cond) BUG_ON(!(cond))

#endif
