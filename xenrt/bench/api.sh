#!/usr/bin/env bash
# api.sh: API and status page latency against a year of results.
#
# Fills a temporary database with 1,000 flights, 5,000 jobs, 100,000 steps
# and 10,000 metrics (one transaction), starts `xenrt serve --no-executor` on
# a free port against it, and drives the flight list (/api/flights and /) and
# a flight grid (/flights/N, /api/flights/N) with wrk.  Baselines measured in
# the same run: /api/hosts on the same daemon (a trivial query) and the same
# endpoints on an empty database.  Target: p99 < 50 ms on this 2-core machine.
set -euo pipefail

bin=${XENRT_BIN:?}
duration=${BENCH_SECONDS:-3}
conns=${BENCH_CONNECTIONS:-4}
tmp=$(mktemp -d /tmp/xenrt-bench-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

fill() {
    "$bin" db migrate --db "$1" >/dev/null
    sqlite3 "$1" <<'SQL'
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO flights(id, kind, repo, ref, revision, baseline_id, submitter, created_at,
                    started_at, finished_at, status)
SELECT i, CASE i % 4 WHEN 0 THEN 'nightly' WHEN 1 THEN 'patch' WHEN 2 THEN 'branch' ELSE 'gate' END,
       '/srv/git/kiln.git', 'main', printf('%040x', i * 2654435761),
       CASE WHEN i > 1 THEN i - 1 END, 'bench', 1.7e9 + i * 31536.0, 1.7e9 + i * 31536.0 + 5,
       1.7e9 + i * 31536.0 + 900, CASE WHEN i % 10 = 0 THEN 'fail' ELSE 'pass' END
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999)
INSERT INTO jobs(id, flight_id, name, suite, depends_on, hosts_needed, status, started_at,
                 finished_at, log_dir)
SELECT i + 1, i / 5 + 1, CASE i % 5 WHEN 0 THEN 'build' ELSE 'suite-' || (i % 5) END,
       CASE i % 5 WHEN 0 THEN 'build' ELSE 'suite-' || (i % 5) END,
       CASE i % 5 WHEN 0 THEN NULL ELSE i - i % 5 + 1 END, CASE i % 5 WHEN 0 THEN 0 ELSE 1 END,
       'pass', 1.7e9, 1.7e9 + 600, (i / 5 + 1) || '/' || (i + 1) || '/1'
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
INSERT INTO steps(job_id, seq, name, status, started_at, finished_at, log, message)
SELECT i / 20 + 1, i % 20 + 1, 'step-' || (i % 20 + 1),
       CASE WHEN i % 97 = 0 THEN 'fail' WHEN i % 89 = 0 THEN 'broken' ELSE 'pass' END,
       1.7e9 + i % 20, 1.7e9 + i % 20 + 0.5, 'console-host0.log',
       CASE WHEN i % 97 = 0 THEN 'not ok 3 - timer drift' END
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
INSERT INTO metrics(step_id, name, value, unit) SELECT i * 10 + 1, 'boot_time', 2.5 + i % 7, 's' FROM n;
COMMIT;
ANALYZE;
SQL
}

# Starts a daemon on a free port against DB $1; sets $port.  Not called in
# $(...): the daemon would hold the substitution's pipe open forever.
start() {
    local log="$tmp/serve-$(basename "$1").log"
    (cd "$tmp" && exec "$bin" serve --no-executor --port 0 --db "$1") >/dev/null 2>"$log" &
    pids+=($!)
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's|.*status page http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log" 2>/dev/null || true)
        [[ -n "$port" ]] && return
        sleep 0.05
    done
    echo "bench: daemon did not start: $(cat "$log")" >&2
    exit 1
}

# wrk latency percentile (50% or 99%) in milliseconds.
pct() {
    awk -v want="$2" '$1 == want {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
        printf "%.2f", v }' <<<"$1"
}

calc() { awk "BEGIN { print ($1) }"; }

declare -A p50 p99 rps
# Three wrk runs per endpoint; the run with the median p99 is reported, so
# one burst from a neighbour on this shared 2-core machine does not decide
# the figure (all three p99s are printed).
run() { # NAME URL
    local out i all=() best=""
    for i in 1 2 3; do
        out=$(wrk -t1 -c"$conns" -d"${duration}s" --latency "$2")
        if grep -q "Non-2xx" <<<"$out"; then
            echo "bench: $1 ($2) returned errors:" >&2; echo "$out" >&2; exit 1
        fi
        all+=("$(pct "$out" "99%") $(pct "$out" "50%") $(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")")
    done
    best=$(printf '%s\n' "${all[@]}" | sort -n | sed -n 2p)
    local a b c
    read -r a b c <<<"$best"
    p99[$1]=$a p50[$1]=$b rps[$1]=$c
    printf "  %-26s p50 %7.2f ms   p99 %7.2f ms   %6s req/s   (p99s: %s)\n" "$1" "${p50[$1]}" \
        "${p99[$1]}" "${rps[$1]}" "$(printf '%s\n' "${all[@]}" | awk '{printf "%s ", $1}')"
}

# Mean single-request time (ms) of N sequential renders: what one user waits.
render() { # NAME URL
    local total
    total=$(for _ in $(seq 30); do curl -s -o /dev/null -w '%{time_total}\n' "$2"; done |
            awk '{s += $1} END {printf "%.2f", s / NR * 1000}')
    printf "  %-26s %8.2f ms per page (mean of 30, one client)\n" "$1" "$total"
}

t0=$(date +%s.%N)
fill "$tmp/year.db"
t1=$(date +%s.%N)
"$bin" db migrate --db "$tmp/empty.db" >/dev/null
counts=$(sqlite3 "$tmp/year.db" "SELECT (SELECT count(*) FROM flights) || ' flights, ' ||
    (SELECT count(*) FROM jobs) || ' jobs, ' || (SELECT count(*) FROM steps) || ' steps, ' ||
    (SELECT count(*) FROM metrics) || ' metrics'")
printf "xenrt bench: %s filled in %.2f s; wrk %d connections, 3 runs x %d s per endpoint\n" \
    "$counts" "$(calc "$t1 - $t0")" "$conns" "$duration"

# Tail latency on 2 shared cores depends on what else runs: say so.
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

start "$tmp/year.db"
Y="http://127.0.0.1:$port"
start "$tmp/empty.db"
E="http://127.0.0.1:$port"

# Warm both daemons (threads' connections, page cache) before measuring.
for u in "$Y/api/hosts" "$Y/" "$Y/flights/500" "$E/"; do
    wrk -t1 -c"$conns" -d1s "$u" >/dev/null
done

echo "latency (wrk):"
run "baseline /api/hosts" "$Y/api/hosts"
run "empty-db /api/flights" "$E/api/flights"
run "empty-db /" "$E/"
run "/api/flights" "$Y/api/flights"
run "/ (flights page)" "$Y/"
run "/api/flights/500" "$Y/api/flights/500"
run "/flights/500 (grid)" "$Y/flights/500"
run "/?before=200 (old page)" "$Y/?before=200"
run "/trends?metric=boot_time" "$Y/trends?metric=boot_time"
echo "status page render time:"
render "/ (flights page)" "$Y/"
render "/flights/500 (grid)" "$Y/flights/500"
render "/jobs/2500" "$Y/jobs/2500"
render "/trends?metric=boot_time" "$Y/trends?metric=boot_time"

echo "ratios against the baselines measured above (p50, p99):"
ratio() { # NAME BASELINE
    printf "   %5.1fx %5.1fx %s" "$(calc "${p50[$1]} / ${p50[$2]}")" \
        "$(calc "${p99[$1]} / ${p99[$2]}")" "$2"
}
for k in "/api/flights" "/ (flights page)" "/flights/500 (grid)"; do
    printf "  %-22s" "$k"
    ratio "$k" "baseline /api/hosts"
    case "$k" in
        "/api/flights") ratio "$k" "empty-db /api/flights" ;;
        "/ (flights page)") ratio "$k" "empty-db /" ;;
    esac
    echo
done
verdict=met
for k in "/api/flights" "/ (flights page)" "/flights/500 (grid)"; do
    [[ $(calc "${p99[$k]} >= 50") == 1 ]] && verdict=MISSED
done
echo "target p99 < 50 ms for the flight list and a flight grid: $verdict" \
    "(load average now $(cut -d' ' -f1 /proc/loadavg))"
