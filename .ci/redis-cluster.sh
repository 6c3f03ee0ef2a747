#!/usr/bin/env bash
# A Redis Cluster of three masters for the cluster specs (spec/backends/*redis-cluster*.spec.ts).
#   bash .ci/redis-cluster.sh start DIR   starts it, its files in DIR, and prints its node URLs, comma-separated
#   bash .ci/redis-cluster.sh stop DIR    kills it and removes DIR
# Ports from 7101 up, skipping any taken (and any whose cluster bus port, +10000, is taken).
set -euo pipefail
command=${1:?start or stop} dir=${2:?a directory}

taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case $command in
start)
	mkdir -p "$dir"
	ports=()
	for ((port = 7101; port < 8000 && ${#ports[@]} < 3; port++)); do
		if ! taken "$port" && ! taken $((port + 10000)); then
			ports+=("$port")
		fi
	done
	((${#ports[@]} == 3)) || { echo "redis-cluster: no three free ports in 7101-7999" >&2; exit 1; }
	for port in "${ports[@]}"; do
		redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
			--cluster-node-timeout 5000 --dir "$dir" --save '' --appendonly no --daemonize yes \
			--pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log"
	done
	for port in "${ports[@]}"; do
		for _ in $(seq 100); do
			[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
			sleep 0.1
		done
	done
	redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >&2
	for port in "${ports[@]}"; do
		for _ in $(seq 200); do
			redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
			sleep 0.1
		done
		redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' || { echo "redis-cluster: node $port is not ok" >&2; exit 1; }
	done
	urls=("${ports[@]/#/redis://127.0.0.1:}")
	(IFS=,; echo "${urls[*]}")
	;;
stop)
	for pidfile in "$dir"/redis-*.pid; do
		[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
	done
	rm -rf "$dir"
	;;
*)
	echo "redis-cluster: start or stop, not $command" >&2
	exit 2
	;;
esac
