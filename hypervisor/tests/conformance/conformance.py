#!/usr/bin/env python3
"""The parsing half of the kvm-unit-tests conformance run (run.sh drives it).

run.sh starts the QEMU processes; this script does what is painful in bash:

  entries CFG EXCLUDED
      parses kvm-unit-tests' x86/unittests.cfg and prints one line per
      entry, fields separated by US (0x1f: bash's read would merge empty
      tab-separated fields): name, action (run | excluded), file, smp, mem (MiB),
      timeout (s), test arguments (the -append string), QEMU parameters
      (shell-quoted), and the exclusion reason.  An entry that cannot run on
      x86_64 under TCG (arch i386, accel kvm, a host `check`, the manual-run
      group `nodefault`) must be listed in EXCLUDED, or this fails: the
      excluded count X of the summary never hides an entry silently.

  record CACHE QEMU_VERSION SHA256 NAME LOG STDERR STATUS SECONDS COMMAND
      turns one reference run (its console log, QEMU's stderr and exit
      status) into rows of the reference cache, replacing that key's rows.

  report CACHE QEMU_VERSION SHA256 ENTRIES KILN_DIR
      joins the cached reference results with the Kiln runs in KILN_DIR
      (NAME/serial.log, NAME/rc, NAME/seconds, NAME/note), prints the table,
      TAP and the summary line; exits 1 unless every test and subtest that
      passes on the reference passes on Kiln.

  dom0-data CACHE QEMU_VERSION SHA256 ENTRIES DIR
      the farm's payload data for dom0-run.sh: DIR/entries (name, file,
      vCPUs, MiB, timeout, arguments, reference result or "excluded",
      separated by US) and DIR/pass/NAME (the subtests that pass on the
      reference, one per line).

  skipped CACHE REASON
      TAP for a run that could not happen (../shared absent): one skipped
      result per test the cache says passes on the reference.

The cache is a TSV file with two kinds of row, keyed by (QEMU version,
snapshot sha256, entry):
  entry   QEMU SHA NAME RESULT STATUS SECONDS NOTE COMMAND
  subtest QEMU SHA NAME PASS|FAIL|SKIP TEXT
RESULT is pass (the test wrote 0 to port 0xf4: QEMU status 1), fail, skip
(it wrote 38: status 77, the kvm-unit-tests convention), timeout or error
(QEMU itself refused to start: status 1 with an error on stderr, as
kvm-unit-tests' own runner judges it).
"""

import fnmatch
import os
import re
import shlex
import sys
from collections import Counter

DEFAULT_TIMEOUT = 90
DEFAULT_MEM_MIB = 256
# A kvm-unit-tests test that skipped everything writes 38 (77 >> 1) to port
# 0xf4, so that QEMU's status is 77, autotools' "skipped".
SKIP_CODE = 38
FIELD_SEP = '\x1f'        # between the fields of the entries list

SUBTEST_RE = re.compile(r'^(PASS|FAIL|SKIP): (.*)$')
KILN_SUBTEST_RE = re.compile(r'\(d\d+\) (PASS|FAIL|SKIP): (.*)$')
KILN_GUEST_LINE_RE = re.compile(r'\] \(d\d+\) (.*)$')
# Kiln's log lines are "[ts] (kiln) text", "(kiln) WARN: text", "(kiln) ERROR: text".
KILN_DESTROYED_RE = re.compile(r'\(kiln\)(?: [A-Z]+:)? d\d+ destroyed: (.*)$')
KILN_EXIT_RE = re.compile(r'^exit code (\d+)$')
# What Kiln logs when it never got as far as destroying the test's domain
# (common/domain_boot.c, common/panic.c); the first pattern that matches a
# line gives the reason.
KILN_FAILURE_RES = [
    re.compile(r'\(kiln\)(?: [A-Z]+:)? (PANIC .*)$'),
    re.compile(r'\(kiln\)(?: [A-Z]+:)? (module \d+(?: is not |: (?:bad|cannot|weight)).*)$'),
    re.compile(r'\(kiln\)(?: [A-Z]+:)? (cannot run guests.*)$'),
]


def fail(msg):
    sys.stderr.write('conformance.py: %s\n' % msg)
    sys.exit(2)


def clean_lines(path):
    """A log's lines without carriage returns; empty if the file is missing."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return []
    return data.decode('utf-8', 'replace').replace('\r', '').split('\n')


# ---------------------------------------------------------------- entries

def parse_cfg(path):
    """unittests.cfg as a list of dicts, in file order."""
    entries = []
    cur = None
    with open(path) as f:
        lines = f.read().split('\n')
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if not line or line.lstrip().startswith('#'):
            continue
        m = re.match(r'^\[(.*)\]$', line)
        if m:
            cur = {'name': m.group(1)}
            entries.append(cur)
            continue
        m = re.match(r'^(\w+)\s*=\s*(.*)$', line)
        if not m or cur is None:
            continue
        key, value = m.group(1), m.group(2)
        if value.startswith('"""'):           # multi-line value
            value = value[3:]
            while '"""' not in value and i < len(lines):
                value += ' ' + lines[i].strip()
                i += 1
            value = value.split('"""')[0]
        if key == 'extra_params':              # the older name of qemu_params
            key = 'qemu_params'
        cur[key] = value.strip()
    return entries


def read_excluded(path):
    """[(pattern, reason)] from EXCLUDED: `PATTERN REASON...` per line."""
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                fail('%s:%d: an exclusion needs a reason' % (path, n))
            rules.append((parts[0], parts[1]))
    return rules


def unrunnable(e):
    """Why an entry cannot run here at all, or None."""
    if e.get('arch') and e['arch'] != 'x86_64':
        return '%s only' % e['arch']
    if e.get('accel') and e['accel'] != 'tcg':
        return '%s only' % e['accel']
    if 'nodefault' in e.get('groups', '').split():
        return 'manual run only'
    if e.get('check'):
        return 'needs host setting %s' % e['check']
    return None


def memory_mib(params):
    """The -m of an entry's QEMU parameters, in MiB (default 256)."""
    mem = DEFAULT_MEM_MIB
    for i, p in enumerate(params[:-1]):
        if p == '-m':
            m = re.match(r'^(\d+)([MmGg]?)$', params[i + 1])
            if not m:
                fail('cannot read -m %s' % params[i + 1])
            mem = int(m.group(1)) * (1024 if m.group(2) in ('g', 'G') else 1)
    return mem


def seconds(value):
    m = re.match(r'^(\d+)s?$', value or '')
    return int(m.group(1)) if m else DEFAULT_TIMEOUT


def cmd_entries(cfg, excluded):
    rules = read_excluded(excluded)
    used = set()
    problems = []
    for e in parse_cfg(cfg):
        name = e['name']
        if 'file' not in e:
            fail('%s: entry %s has no file' % (cfg, name))
        reason = ''
        for pattern, why in rules:
            if fnmatch.fnmatchcase(name, pattern):
                reason = why
                used.add(pattern)
                break
        if not reason and unrunnable(e):
            problems.append('%s (%s)' % (name, unrunnable(e)))
        try:
            params = shlex.split(e.get('qemu_params', ''))
            args = ' '.join(shlex.split(e.get('test_args', '')))
        except ValueError as err:
            fail('%s: entry %s: %s' % (cfg, name, err))
        print(FIELD_SEP.join([
            name, 'excluded' if reason else 'run', e['file'],
            str(int(e.get('smp', '1'))), str(memory_mib(params)),
            str(seconds(e.get('timeout'))), args, shlex.join(params), reason]))
    for pattern, _ in rules:
        if pattern not in used:
            sys.stderr.write('conformance.py: %s: %s matches no entry\n' % (excluded, pattern))
    if problems:
        fail('entries that cannot run here must be listed in %s: %s'
             % (excluded, ', '.join(problems)))


# ---------------------------------------------------------------- the cache

def read_cache(path):
    """{(qemu, sha, name): {'entry': [...], 'subtests': [(kind, text)]}}."""
    cache = {}
    for line in clean_lines(path):
        if not line or line.startswith('#'):
            continue
        f = line.split('\t')
        if f[0] == 'entry' and len(f) == 9:
            cache.setdefault(tuple(f[1:4]), {'subtests': []})['entry'] = f[4:]
        elif f[0] == 'subtest' and len(f) == 6:
            cache.setdefault(tuple(f[1:4]), {'subtests': []})['subtests'].append((f[4], f[5]))
    return {k: v for k, v in cache.items() if 'entry' in v}


CACHE_HEADER = (
    '# Reference results of kvm-unit-tests under plain QEMU TCG, written by\n'
    '# hypervisor/tests/conformance/run.sh (CONFORMANCE_REFERENCE=refresh reruns them).\n'
    '# entry   QEMU SHA256 NAME RESULT STATUS SECONDS NOTE COMMAND\n'
    '# subtest QEMU SHA256 NAME PASS|FAIL|SKIP TEXT\n')


def write_cache(path, cache):
    tmp = path + '.tmp'
    with open(tmp, 'w') as out:
        out.write(CACHE_HEADER)
        for key in sorted(cache):
            out.write('\t'.join(('entry',) + key + tuple(cache[key]['entry'])) + '\n')
            for kind, text in cache[key]['subtests']:
                out.write('\t'.join(('subtest',) + key + (kind, text)) + '\n')
    os.replace(tmp, path)


def tsv_safe(text):
    return text.replace('\t', ' ')


def judge_reference(status, stderr_lines):
    """(result, note) of one reference run from QEMU's status and stderr."""
    errors = [l for l in stderr_lines if l.strip() and 'warning' not in l.lower()]
    if status in (124, 137):
        return 'timeout', 'timeout'
    if status == 1 and errors:
        return 'error', errors[0]
    if status == 1:
        return 'pass', ''
    # An odd status is isa-debug-exit's (V << 1) | 1, except those of a
    # QEMU killed by SIGSEGV or SIGBUS (the shell's 128 + signal), which no
    # kvm-unit-tests exit code (0, 1, 38 for a skip, 63 for an assert)
    # collides with.
    if status in (128 + 7, 128 + 11) or (status > 128 and not status & 1):
        return 'fail', 'QEMU died of signal %d' % (status - 128)
    if status & 1:
        code = status >> 1
        return ('skip' if code == SKIP_CODE else 'fail'), 'exit code %d' % code
    return 'fail', errors[0] if errors else (
        'QEMU status %d: no isa-debug-exit (a triple fault with -no-reboot, or a power-off)' % status)


def cmd_record(cache_path, qemu, sha, name, log, stderr, status, secs, command):
    cache = read_cache(cache_path)
    result, note = judge_reference(int(status), clean_lines(stderr))
    subtests = []
    for line in clean_lines(log):
        m = SUBTEST_RE.match(line)
        if m:
            subtests.append((m.group(1), tsv_safe(m.group(2))))
    cache[(qemu, sha, name)] = {
        'entry': [result, status, secs, tsv_safe(note), tsv_safe(command)],
        'subtests': subtests}
    write_cache(cache_path, cache)


# ---------------------------------------------------------------- the report

def read_file(path, default=''):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def judge_kiln(run_dir):
    """(result, note, [(kind, text)]) of one Kiln run."""
    lines = clean_lines(os.path.join(run_dir, 'serial.log'))
    subtests = []
    destroyed = None
    last_guest_line = None
    for line in lines:
        m = KILN_GUEST_LINE_RE.search(line)
        if m:
            last_guest_line = m.group(1)
        m = KILN_SUBTEST_RE.search(line)
        if m:
            subtests.append((m.group(1), m.group(2)))
            continue
        m = KILN_DESTROYED_RE.search(line)
        if m and destroyed is None:
            destroyed = m.group(1).strip()
    other = next((m.group(1).strip() for r in KILN_FAILURE_RES for m in map(r.search, lines)
                  if m), None)
    note = read_file(os.path.join(run_dir, 'note'))
    if destroyed is not None:
        m = KILN_EXIT_RE.match(destroyed)
        if not m:
            return 'fail', destroyed, subtests
        code = int(m.group(1))
        if code == 0:
            return 'pass', '', subtests
        return ('skip' if code == SKIP_CODE else 'fail'), 'exit code %d' % code, subtests
    if not os.path.exists(os.path.join(run_dir, 'rc')):
        return 'fail', note or 'not run', subtests
    rc = int(read_file(os.path.join(run_dir, 'rc'), '0') or 0)
    if rc in (124, 137):
        where = 'last guest line "%s"' % last_guest_line if last_guest_line else 'no guest output'
        return 'timeout', 'timeout, %s' % where, subtests
    if other:
        return 'fail', other, subtests
    return 'fail', note or 'no "destroyed" line (QEMU status %d)' % rc, subtests


HEX_RE = re.compile(r'0x[0-9a-fA-F]+')


def subtest_key(text):
    """What subtests are matched by: their text with hexadecimal numbers
    masked (xsave names each of its checks by a random XCR0 value)."""
    return HEX_RE.sub('0x#', text)


def counts(subtests):
    c = Counter(kind for kind, _ in subtests)
    return c['PASS'], c['FAIL']


def cmd_report(cache_path, qemu, sha, entries_path, kiln_dir):
    cache = read_cache(cache_path)
    rows = []
    excluded = []
    for line in clean_lines(entries_path):
        if not line:
            continue
        f = line.split(FIELD_SEP)
        name, action = f[0], f[1]
        if action == 'excluded':
            excluded.append(name)
            continue
        ref = cache.get((qemu, sha, name))
        if ref is None:
            fail('no reference result for %s (QEMU %s, snapshot %s)' % (name, qemu, sha[:12]))
        rows.append((name, ref, judge_kiln(os.path.join(kiln_dir, name)),
                     read_file(os.path.join(kiln_dir, name, 'seconds'), '-')))

    print('# %-42s %-9s %5s %5s %6s   %-9s %5s %5s %6s  %s'
          % ('test', 'reference', 'pass', 'fail', 's', 'Kiln', 'pass', 'fail', 's', 'why'))
    tap = []
    ahead = []
    tests_n = tests_k = sub_n = sub_k = 0
    for name, ref, (kres, knote, ksubs), ksecs in rows:
        rres, _, rsecs, rnote, _ = ref['entry']
        rp, rf = counts(ref['subtests'])
        kp, kf = counts(ksubs)
        why = '; '.join(w for w in ('reference: ' + rnote if rres != 'pass' and rnote else '',
                                    'Kiln: ' + knote if knote else '') if w)
        print('# %-42s %-9s %5d %5d %6s   %-9s %5d %5d %6s  %s'
              % (name, rres, rp, rf, rsecs, kres, kp, kf, ksecs, why))
        # Subtests are matched by their text; a text printed twice must pass twice.
        want = Counter(subtest_key(t) for k, t in ref['subtests'] if k == 'PASS')
        have = Counter(subtest_key(t) for k, t in ksubs if k == 'PASS')
        n = sum(want.values())
        k = sum(min(c, have[t]) for t, c in want.items())
        sub_n += n
        sub_k += k
        if rres == 'pass':
            tests_n += 1
            ok = kres == 'pass'
            tests_k += ok
            detail = '' if ok else ': %s' % (knote or kres)
            tap.append('%s - conformance %s%s' % ('ok' if ok else 'not ok', name, detail))
        else:
            if kres == 'pass':
                ahead.append(name)
            if n:
                tap.append('%s - conformance %s: %d/%d subtests that pass on the reference%s'
                           % ('ok' if k == n else 'not ok', name, k, n,
                              ' (%s)' % knote if k != n and knote else ''))
    print('# passes on Kiln but fails on the reference: %s' % (', '.join(ahead) or 'none'))
    if excluded:
        print('# excluded (reasons in tests/conformance/excluded.txt): %s' % ' '.join(excluded))
    print('1..%d' % len(tap))
    for t in tap:
        print(t)
    print('conformance: tests %d/%d, subtests %d/%d pass on Kiln of those that pass on plain QEMU'
          ' (%d tests excluded)' % (tests_k, tests_n, sub_k, sub_n, len(excluded)))
    return 0 if (tests_k == tests_n and sub_k == sub_n) else 1


def cmd_dom0_data(cache_path, qemu, sha, entries_path, out_dir):
    cache = read_cache(cache_path)
    os.makedirs(os.path.join(out_dir, 'pass'), exist_ok=True)
    with open(os.path.join(out_dir, 'entries'), 'w') as out:
        for line in clean_lines(entries_path):
            if not line:
                continue
            name, action, file, smp, mem, tmo, args = line.split(FIELD_SEP)[:7]
            result = 'excluded'
            if action != 'excluded':
                ref = cache.get((qemu, sha, name))
                if ref is None:
                    fail('no reference result for %s (QEMU %s, snapshot %s)' % (name, qemu, sha[:12]))
                result = ref['entry'][0]
                with open(os.path.join(out_dir, 'pass', name), 'w') as p:
                    p.writelines(t + '\n' for k, t in ref['subtests'] if k == 'PASS')
            out.write(FIELD_SEP.join([name, file, smp, mem, tmo, args, result]) + '\n')


def cmd_skipped(cache_path, reason):
    names = sorted({key[2] for key, v in read_cache(cache_path).items()
                    if v['entry'][0] == 'pass'})
    print('1..%d' % max(len(names), 1))
    for name in names:
        print('ok - conformance %s # SKIP %s' % (name, reason))
    if not names:
        print('ok - conformance # SKIP %s' % reason)


def main(argv):
    if len(argv) < 2:
        fail('usage: see the comment at the top of this file')
    cmd, args = argv[1], argv[2:]
    if cmd == 'entries' and len(args) == 2:
        cmd_entries(*args)
    elif cmd == 'record' and len(args) == 9:
        cmd_record(*args)
    elif cmd == 'report' and len(args) == 5:
        return cmd_report(*args)
    elif cmd == 'dom0-data' and len(args) == 5:
        cmd_dom0_data(*args)
    elif cmd == 'skipped' and len(args) == 2:
        cmd_skipped(*args)
    else:
        fail('bad arguments: %s' % ' '.join(argv[1:]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
