#!/usr/bin/env bash
# Start whichever of Redis, PostgreSQL and MariaDB is not answering, wait until each answers,
# and fail loudly if one cannot be started. MongoDB needs nothing here: the specs start the
# jongodb emulator themselves (or use MONGODB_URL). Safe to run when everything is already up.
set -euo pipefail

wait_for() { # name, seconds, command...
	local name=$1 seconds=$2
	shift 2
	local deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "services: $name did not answer within ${seconds}s" >&2
			return 1
		fi
		sleep 0.5
	done
	echo "services: $name answers"
}

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
postgres_up() { pg_isready -h 127.0.0.1 -p 5432 -q && psql -h 127.0.0.1 -U postgres -d test -tAc 'SELECT 1' 2>/dev/null | grep -qx 1; }
mariadb_up() { mariadb -h 127.0.0.1 -P 3306 -u root test -e 'SELECT 1' >/dev/null 2>&1; }

failed=0

if ! redis_up; then
	echo "services: starting Redis"
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
wait_for Redis 30 redis_up || { tail -n 20 /var/log/redis/ci.log >&2 || true; failed=1; }

if ! postgres_up; then
	echo "services: starting PostgreSQL"
	pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
wait_for PostgreSQL 60 postgres_up || failed=1

if ! mariadb_up; then
	echo "services: starting MariaDB"
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
wait_for MariaDB 60 mariadb_up || failed=1

if ((failed)); then
	echo "services: FAILED: a service the backend specs need could not be started" >&2
	exit 1
fi
