#!/usr/bin/env bash
# make-run.sh: what `make run` does: start the xenrt daemon with its embedded
# defaults (./var/xenrt.db, http://127.0.0.1:8080, two nested QEMU hosts),
# submit a smoke flight of the current tree, print the status page URL, and
# on Ctrl-C stop the daemon cleanly (SIGTERM, wait, exit 0).
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

stop() {
    trap - INT TERM
    echo
    echo "make run: stopping the daemon (SIGTERM)"
    kill -TERM "$daemon" 2>/dev/null || true
    status=0
    wait "$daemon" || status=$?
    echo "make run: daemon exited with status $status"
    exit "$status"
}
trap stop INT TERM

for _ in $(seq 100); do
    curl -sf -o /dev/null "$url/api/hosts" && break
    kill -0 "$daemon" 2>/dev/null || { wait "$daemon"; exit 1; }
    sleep 0.1
done

"$bin" submit --url "$url" --repo "$top" --ref HEAD --suite smoke --kind branch
echo "make run: status page: $url/   (Ctrl-C stops the daemon)"
wait "$daemon"
