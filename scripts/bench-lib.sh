# Shared by the benchmark scripts (sourced, not run).

# One redis-benchmark run: prints requests per second of its last row (lrange_N first runs an
# LPUSH row to fill the list).
bench_run() { # port test pipeline
  redis-benchmark -p "$1" -t "$2" -r "$KEYSPACE" -c "$CLIENTS" -n "$REQUESTS" -P "$3" --csv 2>/dev/null \
    | awk -F'","' 'NR > 1 { rps = $2 } END { print rps }'
}

# Median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Waits until a server answers PING on the port.
wait_ping() { # port
  for _ in $(seq 50); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: server on port $1 did not start"; exit 1
}
