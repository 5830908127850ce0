/*
 * pass_fail.h - the result lines of the test programs that run inside dom0
 * (kmod/kiln-devtest.c and the programs in on-kiln/): "PASS key" or
 * "FAIL key: detail", one a check, flushed at once so a program that then
 * hangs or crashes still shows how far it got; the scripts that run them
 * turn the lines into TAP.  `failures` counts the FAIL lines for the exit
 * status.
 */
#ifndef KILN_TEST_PASS_FAIL_H
#define KILN_TEST_PASS_FAIL_H

#include <stdio.h>

static int failures;

static void check(int ok, const char *key, const char *detail)
{
    if (ok) {
        printf("PASS %s\n", key);
    } else {
        printf("FAIL %s: %s\n", key, detail);
        failures++;
    }
    fflush(stdout);
}

#endif
