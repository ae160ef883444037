#!/usr/bin/env bash
# Make sure PostgreSQL (trust on 127.0.0.1) and Redis answer on their standard ports.
set -euo pipefail

pg_ok() { psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1" >/dev/null 2>&1; }
if ! pg_ok; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q "interviewsite-ci" "$hba"; then
    { echo "# interviewsite-ci: local trust for tests"
      echo "host all all 127.0.0.1/32 trust"
      echo "host all all ::1/128 trust"
      echo "local all all trust"
      cat "$hba"; } > "$hba.new" && mv "$hba.new" "$hba"
  fi
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  else
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  for _ in $(seq 30); do pg_ok && break; sleep 1; done
fi
psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
echo "ci: PostgreSQL and Redis are up"
