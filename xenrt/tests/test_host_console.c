/* test_host_console.c: the console signs that decide whose fault a lost
 * host is (src/run/host_console.c), read from real files: the hypervisor's
 * panic and its report of the emulator failing are found, the latter even
 * among dom0's output, and a guest printing the same words is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "host_console.h"

static char path[] = "/tmp/xenrt-console-XXXXXX";

static int signs_of(const char *text)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	int signs = host_console_signs(path);
	unlink(path);
	snprintf(path, sizeof(path), "/tmp/xenrt-console-XXXXXX");
	return signs;
}

static void a_panic_is_the_code_under_test(void **state)
{
	(void)state;
	assert_int_equal(signs_of("[    0.01] (kiln) Kiln 0.1\n"
				  "[    2.50] (kiln) ERROR: PANIC on CPU 1: BUG_ON(x)\n"),
			 HOST_CONSOLE_PANIC);
}

static void a_vmcb_holding_the_host_state_is_the_emulator(void **state)
{
	(void)state;
	assert_int_equal(
		signs_of("kiln-dom0: init reached\r\n"
			 "[    9.09] (kiln) ERROR: BUG: d0 v0: VMCB 3ff8b000 came back holding "
			 "the host's state: rip ffffffff80106727\r\n"
			 "[    9.09] (kiln) WARN: d0 destroyed: access to 0x119ff8\r\n"),
		HOST_CONSOLE_EMULATOR_FAULT);
}

static void a_guest_cannot_pass_for_the_hypervisor(void **state)
{
	(void)state;
	assert_int_equal(
		signs_of("[    1.00] (d3) (kiln) ERROR: BUG: came back holding the host's state\n"
			 "[    1.00] (d3) [ 1.0] (kiln) ERROR: PANIC on CPU 0: fake\n"),
		0);
}

static void a_clean_or_missing_console_has_no_sign(void **state)
{
	(void)state;
	assert_int_equal(signs_of("[    0.01] (kiln) Kiln 0.1\n[    0.20] (d1) ok 1 - hello\n"), 0);
	assert_int_equal(host_console_signs("/nonexistent/console.log"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_panic_is_the_code_under_test),
		cmocka_unit_test(a_vmcb_holding_the_host_state_is_the_emulator),
		cmocka_unit_test(a_guest_cannot_pass_for_the_hypervisor),
		cmocka_unit_test(a_clean_or_missing_console_has_no_sign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
