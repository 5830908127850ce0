# timing.bash: the clock of the farm's latency benchmarks (sourced by
# banner.sh and banner-dom0.sh; not a benchmark itself).

now() { date +%s.%N; }

# seconds_until_log LOG TEXT START LIMIT_S: seconds from START (a now()
# value) until LOG contains TEXT, polled every 50 ms; "timeout" after LIMIT_S.
seconds_until_log() {
    local tries=$(($4 * 20))
    for _ in $(seq "$tries"); do
        if grep -qs -- "$2" "$1"; then
            echo "$(now) - $3" | bc
            return 0
        fi
        sleep 0.05
    done
    echo timeout
}
