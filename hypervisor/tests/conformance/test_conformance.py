#!/usr/bin/env python3
"""Tests of conformance.py, the judge of the kvm-unit-tests conformance run:
how a run's verdict is read (QEMU's status, Kiln's log), how subtests are
matched and counted into the summary line, and that the entry list refuses
an unrunnable entry nobody excluded; and of dom0-run.sh, the farm's side,
against a stand-in for kl.  Prints TAP (run by `make unit-test`).
"""

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance as c  # noqa: E402

# Every test's files live under one directory, removed at the end.
ROOT = tempfile.mkdtemp(prefix='test_conformance.')


def scratch():
    return tempfile.mkdtemp(dir=ROOT)


QEMU = '7.2.22'
SHA = 'ab' * 32


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def run(fn, *args):
    """(exit status, stdout) of one subcommand."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            rc = fn(*args)
        except SystemExit as e:
            rc = e.code
    return rc or 0, out.getvalue()


class JudgeReference(unittest.TestCase):
    def test_status_1_is_a_pass(self):
        self.assertEqual(c.judge_reference(1, [])[0], 'pass')

    def test_status_1_with_an_error_is_qemu_refusing_to_start(self):
        res, note = c.judge_reference(1, ["qemu-system-x86_64: CPU model 'host' requires KVM"])
        self.assertEqual((res, note), ('error', "qemu-system-x86_64: CPU model 'host' requires KVM"))

    def test_warnings_do_not_turn_a_pass_into_an_error(self):
        self.assertEqual(c.judge_reference(1, ['qemu: warning: TCG doesn\'t support x'])[0], 'pass')

    def test_exit_codes(self):
        self.assertEqual(c.judge_reference(7, []), ('fail', 'exit code 3'))
        self.assertEqual(c.judge_reference(77, []), ('skip', 'exit code 38'))
        self.assertEqual(c.judge_reference(124, [])[0], 'timeout')
        self.assertEqual(c.judge_reference(0, [])[0], 'fail')   # no isa-debug-exit
        self.assertEqual(c.judge_reference(139, []), ('fail', 'QEMU died of signal 11'))


class JudgeKiln(unittest.TestCase):
    def kiln(self, log, rc='1', note=''):
        d = scratch()
        write(os.path.join(d, 'serial.log'), log)
        write(os.path.join(d, 'rc'), rc)
        write(os.path.join(d, 'note'), note)
        return c.judge_kiln(d)

    def test_exit_code_0_passes_and_subtests_are_read(self):
        res, note, subs = self.kiln('[ 0.1] (kiln) module 0: 1000-2000 (4096 bytes) \'x.flat\'\r\n'
                                    '[ 0.2] (d1) PASS: one\r\n[ 0.3] (d1) FAIL: two\n'
                                    '[ 0.4] (kiln) d1 destroyed: exit code 0\n')
        self.assertEqual((res, note), ('pass', ''))
        self.assertEqual(subs, [('PASS', 'one'), ('FAIL', 'two')])

    def test_other_exit_codes(self):
        self.assertEqual(self.kiln('(kiln) d1 destroyed: exit code 1\n')[:2], ('fail', 'exit code 1'))
        self.assertEqual(self.kiln('(kiln) d1 destroyed: exit code 38\n')[0], 'skip')

    def test_destroyed_for_another_reason_gives_that_reason(self):
        res, note, _ = self.kiln('(kiln) WARN: d1 destroyed: crash (triple fault)\n')
        self.assertEqual((res, note), ('fail', 'crash (triple fault)'))

    def test_a_domain_never_started_gives_kilns_reason(self):
        log = ("[ 0.1] (kiln) module 0: 15e000-19c4a0 (255136 bytes) 'x.flat name=x'\n"
               '[ 0.2] (kiln) module 0 is not a guest ELF image, not started\n'
               '[ 0.3] (kiln) machine exit, code 0\n')
        self.assertEqual(self.kiln(log)[:2], ('fail', 'module 0 is not a guest ELF image, not started'))

    def test_a_panic_outranks_other_reasons(self):
        log = ('(kiln) ERROR: module 0: cannot start \'x\': error -12\n'
               '(kiln) ERROR: PANIC on CPU 1: boom\n')
        self.assertEqual(self.kiln(log, rc='3')[:2], ('fail', 'PANIC on CPU 1: boom'))

    def test_timeout_says_where_the_guest_was(self):
        log = '[ 1.1] (d1) PASS: a\n[ 1.2] (d1) smp: waiting for 65534 APs\n[ 9.0] (kiln) WARN: NMI\n'
        self.assertEqual(self.kiln(log, rc='124')[:2],
                         ('timeout', 'timeout, last guest line "smp: waiting for 65534 APs"'))
        self.assertEqual(self.kiln('', rc='124')[:2], ('timeout', 'timeout, no guest output'))

    def test_a_run_that_never_happened_fails(self):
        self.assertEqual(c.judge_kiln(scratch())[:2], ('fail', 'not run'))
        d = scratch()
        write(os.path.join(d, 'note'), 'not run: the budget was spent')
        self.assertEqual(c.judge_kiln(d)[:2], ('fail', 'not run: the budget was spent'))


class Report(unittest.TestCase):
    def setUp(self):
        self.dir = scratch()
        self.cache = os.path.join(self.dir, 'ref.tsv')
        self.kiln = os.path.join(self.dir, 'kiln')
        self.entries = os.path.join(self.dir, 'entries')

    def reference(self, name, status, log, stderr=''):
        write(os.path.join(self.dir, name + '.log'), log)
        write(os.path.join(self.dir, name + '.err'), stderr)
        c.cmd_record(self.cache, QEMU, SHA, name, os.path.join(self.dir, name + '.log'),
                     os.path.join(self.dir, name + '.err'), str(status), '1.0', 'qemu ...')

    def on_kiln(self, name, log):
        write(os.path.join(self.kiln, name, 'serial.log'), log)
        write(os.path.join(self.kiln, name, 'rc'), '1')

    def entries_file(self, names, excluded=()):
        lines = [c.FIELD_SEP.join([n, 'run', n + '.flat', '1', '256', '90', '', '', ''])
                 for n in names]
        lines += [c.FIELD_SEP.join([n, 'excluded', n + '.flat', '1', '256', '90', '', '', 'why'])
                  for n in excluded]
        write(self.entries, '\n'.join(lines) + '\n')

    def report(self):
        return run(c.cmd_report, self.cache, QEMU, SHA, self.entries, self.kiln)

    def test_all_passing_gives_a_zero_status(self):
        self.reference('a', 1, 'PASS: x\nPASS: y\n')
        self.on_kiln('a', '(d1) PASS: x\n(d1) PASS: y\n(kiln) d1 destroyed: exit code 0\n')
        self.entries_file(['a'], excluded=['svm'])
        rc, out = self.report()
        self.assertEqual(rc, 0)
        self.assertIn('\nok - conformance a\n', out)
        self.assertTrue(out.endswith('conformance: tests 1/1, subtests 2/2 pass on Kiln of those '
                                     'that pass on plain QEMU (1 tests excluded)\n'), out)

    def test_counts_subtests_of_tests_failing_as_a_whole(self):
        self.reference('a', 1, 'PASS: x\n')
        self.reference('b', 3, 'PASS: p\nPASS: p\nFAIL: q\n')      # fails as a whole
        self.reference('c', 124, '')                               # timeout
        self.on_kiln('a', '(d1) PASS: x\n(kiln) d1 destroyed: exit code 0\n')
        # A text printed twice on the reference must pass twice on Kiln.
        self.on_kiln('b', '(d1) PASS: p\n(d1) FAIL: p\n(kiln) d1 destroyed: exit code 1\n')
        self.on_kiln('c', '(kiln) d1 destroyed: exit code 0\n')   # ahead of the reference
        self.entries_file(['a', 'b', 'c'])
        rc, out = self.report()
        self.assertEqual(rc, 1)
        self.assertIn('not ok - conformance b: 1/2 subtests that pass on the reference', out)
        self.assertIn('passes on Kiln but fails on the reference: c\n', out)
        self.assertIn('1..2\n', out)
        self.assertTrue(out.endswith('tests 1/1, subtests 2/3 pass on Kiln of those that pass on '
                                     'plain QEMU (0 tests excluded)\n'), out)

    def test_hex_numbers_do_not_tell_subtests_apart(self):
        self.reference('x', 1, 'PASS: XGETBV(0xeb55f6000000000) ok\nPASS: XGETBV(0x1f0e2f32) ok\n')
        self.on_kiln('x', '(d1) PASS: XGETBV(0x1234) ok\n(d1) FAIL: XGETBV(0x99) ok\n'
                          '(kiln) d1 destroyed: exit code 1\n')
        self.entries_file(['x'])
        self.assertIn('subtests 1/2 pass', self.report()[1])

    def test_a_kiln_failure_is_named_in_tap_and_the_table(self):
        self.reference('a', 1, 'PASS: x\n')
        self.on_kiln('a', '(kiln) module 0 is not a guest ELF image, not started\n')
        self.entries_file(['a'])
        rc, out = self.report()
        self.assertEqual(rc, 1)
        self.assertIn('not ok - conformance a: module 0 is not a guest ELF image', out)
        self.assertIn('tests 0/1, subtests 0/1', out)

    def test_a_missing_reference_result_is_an_error_not_a_pass(self):
        self.entries_file(['a'])
        self.assertEqual(self.report()[0], 2)

    def test_results_of_another_qemu_or_snapshot_are_not_used(self):
        self.reference('a', 1, 'PASS: x\n')
        self.entries_file(['a'])
        self.assertEqual(run(c.cmd_report, self.cache, '10.0.0', SHA, self.entries, self.kiln)[0], 2)
        self.assertEqual(run(c.cmd_report, self.cache, QEMU, 'cd' * 32, self.entries, self.kiln)[0], 2)

    def test_recording_again_replaces_an_entry(self):
        self.reference('a', 3, 'FAIL: x\n')
        self.reference('a', 1, 'PASS: x\n')
        got = c.read_cache(self.cache)[(QEMU, SHA, 'a')]
        self.assertEqual(got['entry'][0], 'pass')
        self.assertEqual(got['subtests'], [('PASS', 'x')])

    def test_dom0_data_carries_results_and_passing_subtests(self):
        self.reference('a', 1, 'PASS: x\nFAIL: y\nPASS: z\n')
        self.entries_file(['a'], excluded=['svm'])
        out = os.path.join(self.dir, 'payload')
        c.cmd_dom0_data(self.cache, QEMU, SHA, self.entries, out)
        with open(os.path.join(out, 'entries')) as f:
            rows = [l.rstrip('\n').split(c.FIELD_SEP) for l in f]
        self.assertEqual(rows, [['a', 'a.flat', '1', '256', '90', '', 'pass'],
                                ['svm', 'svm.flat', '1', '256', '90', '', 'excluded']])
        with open(os.path.join(out, 'pass', 'a')) as f:
            self.assertEqual(f.read(), 'x\nz\n')

    def test_skipped_run_reports_skips_only(self):
        self.reference('a', 1, 'PASS: x\n')
        self.reference('b', 3, '')
        rc, out = run(c.cmd_skipped, self.cache, '../shared is absent')
        self.assertEqual(out, '1..1\nok - conformance a # SKIP ../shared is absent\n')
        rc, out = run(c.cmd_skipped, os.path.join(self.dir, 'none.tsv'), 'absent')
        self.assertEqual(out, '1..1\nok - conformance # SKIP absent\n')


class Entries(unittest.TestCase):
    CFG = """# comment
[plain]
file = plain.flat

[args]
file = vmexit.flat
smp = 2
test_args = 'ipi'
qemu_params = -cpu qemu64,+x2apic -m 2048
timeout = 30

[multi]
file = m.flat
extra_params = \"\"\"-cpu max
  -append 'a b'\"\"\"

[old32]
file = t.flat
arch = i386

[svm_one]
file = svm.flat
"""

    def entries(self, excluded):
        d = scratch()
        write(os.path.join(d, 'cfg'), self.CFG)
        write(os.path.join(d, 'ex'), excluded)
        rc, out = run(c.cmd_entries, os.path.join(d, 'cfg'), os.path.join(d, 'ex'))
        return rc, [l.split(c.FIELD_SEP) for l in out.splitlines()]

    def test_fields(self):
        rc, rows = self.entries('old32 i386 only\nsvm* nested SVM\n')
        self.assertEqual(rc, 0)
        by = {r[0]: r for r in rows}
        self.assertEqual(by['plain'][1:8], ['run', 'plain.flat', '1', '256', '90', '', ''])
        self.assertEqual(by['args'][1:8], ['run', 'vmexit.flat', '2', '2048', '30', 'ipi',
                                           '-cpu qemu64,+x2apic -m 2048'])
        self.assertEqual(by['multi'][7], "-cpu max -append 'a b'")
        self.assertEqual(by['old32'][1], 'excluded')
        self.assertEqual((by['svm_one'][1], by['svm_one'][8]), ('excluded', 'nested SVM'))

    def test_an_unrunnable_entry_must_be_excluded(self):
        self.assertEqual(self.entries('svm* nested SVM\n')[0], 2)

    def test_an_exclusion_needs_a_reason(self):
        self.assertEqual(self.entries('old32\nsvm* x\n')[0], 2)


FAKE_KL = """#!/bin/sh
# kl as dom0-run.sh uses it: create -c replays $FAKE/NAME.console and logs
# $FAKE/NAME.exit ("exit code V" or another reason) as the hypervisor would.
case "$1" in
create)
    name=$(sed -n 's/^name = //p' "$3")
    cp "$3" "$FAKE/$name.cfg"
    [ -f "$FAKE/$name.refuse" ] && { echo "kl: create: $(cat "$FAKE/$name.refuse")" >&2; exit 1; }
    echo "created domain 4 ($name)" >&2
    cat "$FAKE/$name.console"
    echo "[ 2.0] (kiln) d4 destroyed: $(cat "$FAKE/$name.exit")" >"$FAKE/dmesg"
    echo "kl: domain 4 shut down: unknown reason" >&2 ;;
dmesg) echo "[ 0.1] (kiln) d3 destroyed: exit code 0"; cat "$FAKE/dmesg" ;;
destroy) ;;
esac
"""


class Dom0Run(unittest.TestCase):
    """dom0-run.sh, the farm's side, against a stand-in for kl."""

    def setUp(self):
        self.dir = scratch()
        self.fake = os.path.join(self.dir, 'fake')
        write(os.path.join(self.fake, 'kl'), FAKE_KL)
        os.chmod(os.path.join(self.fake, 'kl'), 0o755)
        self.payload = os.path.join(self.dir, 'payload')
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'dom0-run.sh')
        with open(src) as f:
            write(os.path.join(self.payload, 'dom0-run.sh'), f.read())
        self.rows = []

    def entry(self, name, ref, passing, console=None, exit='exit code 0', tmo='90'):
        self.rows.append(c.FIELD_SEP.join([name, name + '.flat', '2', '256', tmo, 'a b', ref]))
        if ref != 'excluded':
            write(os.path.join(self.payload, 'pass', name), ''.join(t + '\n' for t in passing))
        if console is not None:
            write(os.path.join(self.fake, name + '.console'), console)
            write(os.path.join(self.fake, name + '.exit'), exit)

    def run_script(self, *names):
        write(os.path.join(self.payload, 'entries'), '\n'.join(self.rows) + '\n')
        env = dict(os.environ, FAKE=self.fake, PATH=self.fake + ':' + os.environ['PATH'])
        return subprocess.run(['sh', os.path.join(self.payload, 'dom0-run.sh')] + list(names),
                              env=env, capture_output=True, text=True).stdout

    def test_results_names_and_summary(self):
        self.entry('good', 'pass', ['x', 'y'], 'PASS: x\nPASS: y\n')
        self.entry('bad', 'pass', ['x'], 'PASS: x\n', exit='exit code 1')
        self.entry('half', 'timeout', ['p (0x12)', 'q'], 'PASS: p (0x99)\nFAIL: q\n',
                   exit='crash (triple fault)')
        self.entry('none', 'fail', [])                      # nothing to compare: no result
        self.entry('svm', 'excluded', [])
        out = self.run_script()
        lines = [l for l in out.splitlines() if not l.startswith('#')]
        self.assertEqual(lines, ['1..3', 'ok 1 - good', 'not ok 2 - bad', 'not ok 3 - half subtests'])
        self.assertIn('# bad: exit code 1,', out)
        self.assertIn('# half: 1/2 subtests that pass on the reference (crash (triple fault)', out)
        self.assertTrue(out.endswith('# conformance: tests 1/2, subtests 4/5 pass on Kiln of '
                                     'those that pass on plain QEMU (1 tests excluded)\n'), out)

    def test_the_domain_config(self):
        self.entry('t', 'pass', ['x'], 'PASS: x\n')
        self.run_script()
        with open(os.path.join(self.fake, 't.cfg')) as f:
            self.assertEqual(f.read(), 'name = t\ntype = "multiboot"\nkernel = %s/x86/t.flat\nmemory = 256\n'
                             'vcpus = 2\ncmdline = "a b"\ntestdev = 1\n' % self.payload)

    def test_a_refused_domain_fails_with_kls_message(self):
        self.entry('r', 'pass', ['x'], '')
        write(os.path.join(self.fake, 'r.refuse'), 'not an ELF image')
        out = self.run_script('r')
        self.assertIn('not ok 1 - r\n# r: not created: kl: create: not an ELF image', out)

    def test_names_select_entries(self):
        self.entry('a', 'pass', [], '')
        self.entry('b', 'pass', [], '')
        self.assertEqual(self.run_script('b').splitlines()[:2], ['1..1', 'ok 1 - b'])


class Tap(unittest.TextTestResult):
    """unittest results as TAP lines."""
    n = 0

    def report(self, test, ok, diag=''):
        Tap.n += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', Tap.n, test.id().split('.', 1)[1]))
        for line in diag.splitlines():
            print('# ' + line)

    def addSuccess(self, test):
        self.report(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.report(test, False, self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self.report(test, False, self.errors[-1][1])


if __name__ == '__main__':
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    print('1..%d' % suite.countTestCases())
    result = unittest.TextTestRunner(stream=io.StringIO(), resultclass=Tap).run(suite)
    shutil.rmtree(ROOT)
    sys.exit(0 if result.wasSuccessful() else 1)
