/* test_tap.c: TAP and JSON-lines parsing of console output, fed the way the
 * executor feeds it (arbitrary chunks), including hostile input: garbage,
 * huge lines, NUL bytes, broken JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "results.h"
#include "tap.h"

#define MAX_EVENTS 64

struct seen {
	int n;
	struct {
		enum results_kind kind;
		char source[RESULTS_SOURCE_MAX];
		char text[256];
		int truncated;
		struct tap_line tap;
		char step[TAP_TEXT_MAX];
		char status[8];
		char message[TAP_TEXT_MAX];
		int n_metrics;
		struct results_metric metrics[RESULTS_MAX_METRICS];
	} ev[MAX_EVENTS];
	struct tap_tally tally;
};

static void record(void *ctx, const struct results_event *e)
{
	struct seen *s = ctx;

	if (e->kind == RESULTS_TAP)
		tap_tally_add(&s->tally, e->source, &e->tap);
	if (s->n == MAX_EVENTS)
		return;
	s->ev[s->n].kind = e->kind;
	snprintf(s->ev[s->n].source, RESULTS_SOURCE_MAX, "%s", e->source);
	snprintf(s->ev[s->n].text, 256, "%s", e->text);
	s->ev[s->n].truncated = e->truncated;
	s->ev[s->n].tap = e->tap;
	memcpy(s->ev[s->n].step, e->step, sizeof(e->step));
	memcpy(s->ev[s->n].status, e->status, sizeof(e->status));
	memcpy(s->ev[s->n].message, e->message, sizeof(e->message));
	s->ev[s->n].n_metrics = e->n_metrics;
	memcpy(s->ev[s->n].metrics, e->metrics, sizeof(e->metrics));
	s->n++;
}

/* Feeds `text` in chunks of `chunk` bytes, as a growing capture file would. */
static struct seen *run(const char *text, size_t len, size_t chunk)
{
	struct seen *s = calloc(1, sizeof(*s));
	struct results_reader *r = results_new(record, s);

	assert_non_null(r);
	for (size_t off = 0; off < len; off += chunk)
		results_feed(r, text + off, len - off < chunk ? len - off : chunk);
	results_flush(r);
	results_free(r);
	return s;
}

static void tap_lines(void **state)
{
	struct tap_line l;

	(void)state;
	tap_parse_line("ok 1 - boots", &l);
	assert_int_equal(l.kind, TAP_RESULT);
	assert_true(l.ok);
	assert_int_equal(l.number, 1);
	assert_string_equal(l.desc, "boots");
	tap_parse_line("not ok 12 cpuid leaf # TODO not yet", &l);
	assert_false(l.ok);
	assert_int_equal(l.number, 12);
	assert_true(l.todo);
	assert_string_equal(l.desc, "cpuid leaf");
	assert_string_equal(l.reason, "not yet");
	tap_parse_line("ok 3 - npt # SKIP no NPT here", &l);
	assert_true(l.skip);
	assert_string_equal(l.reason, "no NPT here");
	tap_parse_line("ok", &l);
	assert_int_equal(l.kind, TAP_RESULT);
	assert_int_equal(l.number, 0);
	tap_parse_line("1..7", &l);
	assert_int_equal(l.kind, TAP_PLAN);
	assert_int_equal(l.plan, 7);
	tap_parse_line("Bail out! no memory", &l);
	assert_int_equal(l.kind, TAP_BAIL);
	assert_string_equal(l.reason, "no memory");
	/* Not TAP: words starting like TAP, absurd numbers, plans with junk. */
	static const char *const other[] = { "okay",           "not okay", "1..",   "1..x",
					     "1..99999999999", "# ok 1",   " ok 1", "",
					     "nothing" };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		tap_parse_line(other[i], &l);
		if (l.kind != TAP_OTHER)
			fail_msg("'%s' parsed as TAP kind %d", other[i], l.kind);
	}
}

static const char console[] = "\x1b"
			      "c SeaBIOS (version 1.16)\r\n"
			      "iPXE initialising devices...ok\r\n"
			      "[    0.001000] (kiln) Kiln hypervisor starting (ABI 1.0)\n"
			      "[    0.500000] (d1) 1..2\n"
			      "[    0.500100] (d2) 1..1\n"
			      "[    0.500200] (d1) ok 1 - version hypercall\n"
			      "[    0.500300] (d2) not ok 1 - cpuid policy\n"
			      "[    0.500400] (d1) ok 2 - boot argument\n"
			      "[    0.600000] (kiln) no domains to run, exiting (exit_when_idle)\n";

static void console_stream_any_chunking(void **state)
{
	(void)state;
	for (size_t chunk = 1; chunk <= sizeof(console); chunk += 7) {
		struct seen *s = run(console, sizeof(console) - 1, chunk);
		char buf[128];

		/* 9 lines, 5 of them TAP. */
		assert_int_equal(s->n, 14);
		assert_int_equal(s->ev[0].kind, RESULTS_LINE);
		assert_string_equal(s->ev[0].source, "");
		assert_string_equal(s->ev[2].source, "kiln");
		assert_string_equal(s->ev[2].text, "Kiln hypervisor starting (ABI 1.0)");
		assert_true(tap_tally_done(&s->tally, "d1"));
		assert_true(tap_tally_done(&s->tally, "d2"));
		assert_false(tap_tally_done(&s->tally, "d3"));
		assert_string_equal(tap_tally_verdict(&s->tally, NULL, 0, 1, buf, sizeof(buf)),
				    "d2: 1 of 1 test(s) failed");
		char want[][16] = { "d1" };
		assert_true(tap_tally_all_done(&s->tally, want, 1));
		free(s);
	}
}

static void tally_verdicts(void **state)
{
	struct tap_tally t = { .n = 0 };
	struct tap_line l;
	char buf[128];
	char d1[][16] = { "d1" };

	(void)state;
	assert_string_equal(tap_tally_verdict(&t, NULL, 0, 1, buf, sizeof(buf)), "no TAP output");
	assert_null(tap_tally_verdict(&t, NULL, 0, 0, buf, sizeof(buf)));
	assert_false(tap_tally_all_done(&t, NULL, 0));
	tap_parse_line("1..3", &l);
	tap_tally_add(&t, "d1", &l);
	tap_parse_line("ok 1", &l);
	tap_tally_add(&t, "d1", &l);
	assert_false(tap_tally_done(&t, "d1"));
	assert_string_equal(tap_tally_verdict(&t, d1, 1, 1, buf, sizeof(buf)),
			    "d1: planned 3 test(s), ran 1");
	tap_parse_line("not ok 2 # TODO later", &l);
	tap_tally_add(&t, "d1", &l);
	tap_parse_line("ok 3", &l);
	tap_tally_add(&t, "d1", &l);
	assert_true(tap_tally_done(&t, "d1"));
	assert_null(tap_tally_verdict(&t, d1, 1, 1, buf, sizeof(buf)));
	char d2[][16] = { "d1", "d2" };
	assert_string_equal(tap_tally_verdict(&t, d2, 2, 1, buf, sizeof(buf)), "no TAP from d2");
	tap_parse_line("Bail out! oops", &l);
	tap_tally_add(&t, "d2", &l);
	assert_true(tap_tally_done(&t, "d2"));
	assert_string_equal(tap_tally_verdict(&t, d2, 2, 1, buf, sizeof(buf)), "d2 bailed out");
	/* A result with no plan can never pass. */
	struct tap_tally u = { .n = 0 };
	tap_parse_line("ok 1", &l);
	tap_tally_add(&u, "", &l);
	assert_string_equal(tap_tally_verdict(&u, NULL, 0, 1, buf, sizeof(buf)),
			    "console: no TAP plan");
}

static void json_lines(void **state)
{
	static const char text[] =
		"[ 1.0] (d1) {\"step\": \"exit-cpuid\", \"status\": \"pass\", \"metrics\": {\"exit_us\": 14.2,"
		" \"loops\": {\"value\": 3, \"unit\": \"k\"}}}\n"
		"{\"step\": \"x\", \"status\": \"fail\", \"message\": \"bad\\u0001\"}\n"
		"{\"step\": \"x\", \"status\": \"broken\"}\n"
		"{\"step\": \"\", \"status\": \"pass\"}\n"
		"{\"step\": \"x\", \"status\": \"pass\", \"metrics\": {\"a b\": 1}}\n"
		"{\"step\": \"x\", \"status\": \"pass\", \"metrics\": {\"a\": \"1\"}}\n"
		"{\"step\": \"x\", \"status\": \"pass\", \"metrics\": [1]}\n"
		"{\"step\": \"x\", \"status\": \"pass\"\n"
		"{\"step\": \"x\", \"step\": \"y\", \"status\": \"pass\"}\n"
		"{\"end\": true}\n";
	struct seen *s = run(text, sizeof(text) - 1, 5);

	(void)state;
	assert_int_equal(s->n, 20);
	assert_int_equal(s->ev[1].kind, RESULTS_JSON_STEP);
	assert_string_equal(s->ev[1].source, "d1");
	assert_string_equal(s->ev[1].step, "exit-cpuid");
	assert_string_equal(s->ev[1].status, "pass");
	assert_int_equal(s->ev[1].n_metrics, 2);
	assert_string_equal(s->ev[1].metrics[0].name, "exit_us");
	assert_float_equal(s->ev[1].metrics[0].value, 14.2, 1e-9);
	assert_string_equal(s->ev[1].metrics[0].unit, "us");
	assert_string_equal(s->ev[1].metrics[1].unit, "k");
	assert_int_equal(s->ev[3].kind, RESULTS_JSON_STEP);
	assert_string_equal(s->ev[3].message, "bad?");
	for (int i = 5; i <= 17; i += 2)
		if (s->ev[i].kind != RESULTS_JSON_BAD)
			fail_msg("event %d: kind %d, wanted JSON_BAD ('%s')", i, s->ev[i].kind,
				 s->ev[i - 1].text);
	assert_string_equal(s->ev[5].message, "\"status\" must be \"pass\", \"fail\" or \"skip\"");
	assert_int_equal(s->ev[19].kind, RESULTS_JSON_END);
	free(s);
}

static void hostile_bytes(void **state)
{
	size_t big = 3 * RESULTS_LINE_MAX;
	char *text = malloc(big + 64);
	struct seen *s;

	(void)state;
	/* A huge line of "ok ..." must be cut, reported once, and not parsed. */
	memcpy(text, "ok 1 ", 5);
	memset(text + 5, 'x', big - 5);
	memcpy(text + big, "\nok 2 - after\n", 14);
	s = run(text, big + 14, 4093);
	assert_int_equal(s->n, 3);
	assert_true(s->ev[0].truncated);
	assert_int_equal(s->ev[0].kind, RESULTS_LINE);
	assert_int_equal(s->ev[2].kind, RESULTS_TAP);
	assert_int_equal(s->ev[2].tap.number, 2);
	free(s);

	/* NUL bytes never end a line early and never reach a description. */
	static const char nul[] = "ok 3 - a\0b\n\0\0\0\nnot ok\0 4\n";
	s = run(nul, sizeof(nul) - 1, 3);
	assert_int_equal(s->n, 4);
	assert_string_equal(s->ev[1].tap.desc, "a?b");
	assert_string_equal(s->ev[2].text, "???");
	assert_int_equal(s->ev[3].kind, RESULTS_LINE); /* "not ok?" is not TAP */
	free(s);

	/* Random garbage: never crashes, every line reported. */
	srand(42);
	for (size_t i = 0; i < big; i++)
		text[i] = (char)(rand() & 0xff);
	s = run(text, big, 977);
	assert_true(s->n > 0);
	free(s);
	free(text);

	/* A last line without newline still counts once the console ends. */
	s = run("1..1\nok 1 - tail", 15, 4);
	assert_int_equal(s->n, 4);
	assert_true(tap_tally_done(&s->tally, ""));
	free(s);
}

static void prefix_forms(void **state)
{
	char src[RESULTS_SOURCE_MAX];

	(void)state;
	assert_string_equal(results_split_prefix("[   1.234567] (d12) ok 1", src), "ok 1");
	assert_string_equal(src, "d12");
	assert_string_equal(results_split_prefix("[1.0] (kiln) ERROR: x", src), "ERROR: x");
	assert_string_equal(src, "kiln");
	/* Malformed prefixes leave the line whole. */
	static const char *const bad[] = {
		"[x] (d1) ok",    "[1.0](d1) ok",
		"[1.0] (d 1) ok", "[1.0] () ok",
		"[1.0] (d1)ok",   "[ 1.0 (d1) ok",
		"(d1) ok",        "[1.0] (aaaaaaaaaaaaaaaaaaaaaaaaaa) ok"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_string_equal(results_split_prefix(bad[i], src), bad[i]);
		assert_string_equal(src, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tap_lines),      cmocka_unit_test(console_stream_any_chunking),
		cmocka_unit_test(tally_verdicts), cmocka_unit_test(json_lines),
		cmocka_unit_test(hostile_bytes),  cmocka_unit_test(prefix_forms),
	};
	return cmocka_run_group_tests_name("tap", tests, NULL, NULL);
}
