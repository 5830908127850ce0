#!/usr/bin/env bash
# make-run.sh: what `make run` does: start the xenrt daemon with its embedded
# defaults (./var/xenrt.db, http://127.0.0.1:8080, two nested QEMU hosts),
# submit a smoke flight of the current tree, print the status page URL (and
# the flight's outcome when it is known), and on Ctrl-C stop the daemon
# cleanly (SIGTERM, wait) and say, last, that it stopped and where the
# database and logs are kept; exit 0 (the daemon's status if it failed).
#
# Run from the Makefile, which sets XENRT_TOP (repository top) and XENRT_BIN.
# XENRT_PORT overrides the port.
set -euo pipefail

top=${XENRT_TOP:?}
bin=${XENRT_BIN:?}
port=${XENRT_PORT:-8080}
url="http://127.0.0.1:$port"
cd "$top"
mkdir -p var

# A token for this checkout, kept in var/token (mode 600) and reused while
# the database still knows it.
if ! "$bin" token check >/dev/null 2>&1; then
    umask 077
    "$bin" token create "make-run-$(date +%Y%m%d%H%M%S)" > var/token.new 2>/dev/null
    mv var/token.new var/token
fi

"$bin" serve --port "$port" &
daemon=$!

waiter=""
stop() {
    trap - INT TERM
    [[ -n "$waiter" ]] && { kill "$waiter" 2>/dev/null || true; }
    echo
    echo "make run: stopping the daemon (SIGTERM)"
    kill -TERM "$daemon" 2>/dev/null || true
    status=0
    wait "$daemon" || status=$?
    if (( status != 0 )); then
        echo "make run: the daemon exited with status $status (its messages are above);" \
             "database $top/var/xenrt.db, logs $top/var/logs/" >&2
        exit "$status"
    fi
    echo "make run: daemon stopped; database $top/var/xenrt.db and logs $top/var/logs/ are kept" \
         "(the next make run carries on with them)"
    exit 0
}
trap stop INT TERM

for _ in $(seq 100); do
    curl -sf -o /dev/null "$url/api/hosts" && break
    kill -0 "$daemon" 2>/dev/null || { wait "$daemon"; exit 1; }
    sleep 0.1
done

line=$("$bin" submit --url "$url" --repo "$top" --ref HEAD --suite smoke --kind branch)
echo "$line"
flight=$(sed -n 's/^flight \([0-9]*\) submitted.*/\1/p' <<<"$line")
echo "make run: status page: $url/   (Ctrl-C stops the daemon)"

# Report the smoke flight's outcome when it has one; the daemon keeps serving.
(
    while curl -sf "$url/api/flights/$flight" | grep -Eq '"status": ?"(queued|running)"'; do
        sleep 2
    done
    "$bin" show "$flight" --url "$url" || true
) &
waiter=$!
wait "$daemon"
