#!/bin/sh
# create-destroy.sh CFG N - runs in dom0 (busybox sh): N cycles of
# `kl create CFG` + `kl destroy`, then checks that the hypervisor's free page
# count is back where it started (no page leaked by a domain's life).
# Prints "cycles=N free_pages_before=X free_pages_after=Y"; exit 0 only if
# every cycle worked and the counts are equal.  Installed in dom0's image at
# /usr/share/kiln/tests/ for the farm's smoke suite.
cfg=$1
n=$2
free_pages() { kl info | sed -n 's/^free_pages *: //p'; }
name=$(sed -n 's/^ *name *= *"\{0,1\}\([A-Za-z0-9._-]*\).*/\1/p' "$cfg")
before=$(free_pages)
i=0
while [ "$i" -lt "$n" ]; do
    kl create "$cfg" >/dev/null || { echo "cycle $i: kl create failed"; exit 1; }
    kl destroy "$name" || { echo "cycle $i: kl destroy failed"; exit 1; }
    i=$((i + 1))
done
# A destroyed domain is freed once none of its vCPUs runs: wait for that.
tries=0
while kl list | grep -q " $name " && [ "$tries" -lt 100 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
after=$(free_pages)
echo "cycles=$n free_pages_before=$before free_pages_after=$after"
[ -n "$before" ] && [ "$before" = "$after" ]
