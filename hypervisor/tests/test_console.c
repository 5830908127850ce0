/*
 * test_console.c - unit tests of how the log shares COM1 with dom0
 * (common/console.c): a log line never lands in the middle of a line dom0
 * is writing, never waits longer than CONSOLE_DOM0_WAIT_NS, never waits
 * on dom0's own CPU, and divisor-latch writes are not mistaken for text.
 * The UART is faked: everything written to it is appended to one buffer,
 * which is exactly what the serial log file would hold.  The clock is
 * faked too, and its hook plays dom0 on another CPU while a line waits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/lib.c"
#include "../common/console.c"

#define DOM0_CPU 0
#define LOG_CPU  2

static struct percpu cpus[4];
static struct percpu *cpu_now = &cpus[LOG_CPU];
static char wire[4096];             /* what reached the UART, in order */
static size_t wire_len;
static bool dlab;
static u64 clock_ns;
static unsigned int clock_reads;
static void (*clock_hook)(unsigned int read);

struct percpu *kiln_test_this_cpu(void) { return cpu_now; }
const char *cmdline_get(const char *key) { (void)key; return NULL; }
const char *cmdline_raw(void) { return ""; }

u64 now_ns(void)
{
    clock_reads++;
    if (clock_hook)
        clock_hook(clock_reads);
    clock_ns += NSEC_PER_MSEC;
    return clock_ns;
}

void serial_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            wire[wire_len++] = '\r';
        wire[wire_len++] = s[i];
    }
}

u32 serial_reg_read(unsigned int reg, unsigned int size)
{
    (void)size;
    return 0x40 + reg;
}

void serial_reg_write(unsigned int reg, unsigned int size, u32 val)
{
    assert_int_equal(size, 1);
    if (reg == 3)
        dlab = val & 0x80;
    else if (reg == 0 && !dlab)
        wire[wire_len++] = (char)val;
}

bool serial_dlab_open(void) { return dlab; }

/* dom0, on its CPU, writing text to the transmitter byte by byte. */
static void dom0_writes(const char *s)
{
    struct percpu *was = cpu_now;
    cpu_now = &cpus[DOM0_CPU];
    for (; *s; s++)
        console_dom0_uart(0, 1, false, (u8)*s);
    cpu_now = was;
}

static void dom0_ends_its_line(unsigned int read)
{
    if (read == 3)
        dom0_writes("reached\r\n");
}

static int reset(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < 4; i++)
        cpus[i].cpu_id = i;
    cpu_now = &cpus[LOG_CPU];
    memset(wire, 0, sizeof(wire));
    wire_len = 0;
    dlab = false;
    dom0_midline = false;
    dom0_cpu = -1;
    clock_ns = 0;
    clock_reads = 0;
    clock_hook = NULL;
    return 0;
}

static void a_log_line_waits_for_dom0_to_end_its_line(void **state)
{
    (void)state;
    dom0_writes("kiln-dom0: init ");
    clock_hook = dom0_ends_its_line;
    pr_info("d416 destroyed");
    assert_string_equal(wire, "kiln-dom0: init reached\r\n[    0.004000] (kiln) d416 destroyed\r\n");
}

static void a_guest_line_waits_too(void **state)
{
    (void)state;
    dom0_writes("kiln-dom0: init ");
    clock_hook = dom0_ends_its_line;
    console_guest_write(7, "ok 1 - churn\n", 13);
    assert_string_equal(wire, "kiln-dom0: init reached\r\n[    0.004000] (d7) ok 1 - churn\r\n");
}

static void the_wait_is_bounded_and_then_the_line_is_broken(void **state)
{
    (void)state;
    dom0_writes("~ # ");          /* a shell prompt: no end of line coming */
    pr_info("d5 created");
    assert_true(clock_ns >= CONSOLE_DOM0_WAIT_NS);
    assert_true(clock_ns <= CONSOLE_DOM0_WAIT_NS + 3 * NSEC_PER_MSEC);
    assert_true(strstr(wire, "~ # \r\n[") == wire);
    /* dom0's next line starts clean: nothing left to break. */
    wire_len = 0;
    memset(wire, 0, sizeof(wire));
    pr_info("d5 destroyed");
    assert_int_equal(wire[0], '[');
}

static void no_wait_on_the_cpu_dom0_runs_on(void **state)
{
    (void)state;
    dom0_writes("kiln-dom0: loading");
    cpu_now = &cpus[DOM0_CPU];      /* a hypercall of dom0's logs */
    pr_info("d9 created");
    assert_int_equal(clock_reads, 1);   /* the timestamp only */
    assert_true(strstr(wire, "kiln-dom0: loading\r\n[") == wire);
}

static void a_finished_dom0_line_needs_no_wait(void **state)
{
    (void)state;
    dom0_writes("kiln-dom0: sshd up\r\n");
    pr_info("d2 created");
    assert_int_equal(clock_reads, 1);
    assert_string_equal(wire, "kiln-dom0: sshd up\r\n[    0.001000] (kiln) d2 created\r\n");
}

static void divisor_latch_writes_are_not_text(void **state)
{
    (void)state;
    cpu_now = &cpus[DOM0_CPU];
    console_dom0_uart(3, 1, false, 0x83);   /* LCR: DLAB */
    console_dom0_uart(0, 1, false, 0x01);   /* divisor low */
    console_dom0_uart(3, 1, false, 0x03);   /* LCR: 8N1 */
    assert_int_equal(console_dom0_uart(1, 1, true, 0), 0x41);
    cpu_now = &cpus[LOG_CPU];
    pr_info("after the divisor");
    assert_int_equal(clock_reads, 1);
    assert_int_equal(wire[0], '[');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_log_line_waits_for_dom0_to_end_its_line, reset),
        cmocka_unit_test_setup(a_guest_line_waits_too, reset),
        cmocka_unit_test_setup(the_wait_is_bounded_and_then_the_line_is_broken, reset),
        cmocka_unit_test_setup(no_wait_on_the_cpu_dom0_runs_on, reset),
        cmocka_unit_test_setup(a_finished_dom0_line_needs_no_wait, reset),
        cmocka_unit_test_setup(divisor_latch_writes_are_not_text, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
