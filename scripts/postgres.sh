# Start a throwaway PostgreSQL for the tests and export FORGE_TEST_POSTGRES_URL.
# Installs Debian's postgresql when it is missing and we are root.
# shellcheck shell=bash

start_test_postgres() {
    if [ -n "${FORGE_TEST_POSTGRES_URL:-}" ]; then return 0; fi
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$bindir" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "Installing PostgreSQL (Debian package postgresql)..." >&2
            apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
            bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
        else
            echo "PostgreSQL is not installed: PostgreSQL tests will be skipped (apt-get install postgresql)." >&2
            return 0
        fi
    fi
    local dir port as=()
    dir="$(mktemp -d /tmp/forge-pg.XXXXXX)"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; as=(runuser -u postgres --); fi
    "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE forge_test" >/dev/null
    export FORGE_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/forge_test"
    FORGE_PG_STOP=("${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop)
    trap 'stop_test_postgres' EXIT
    echo "PostgreSQL for tests: $FORGE_TEST_POSTGRES_URL" >&2
}

stop_test_postgres() {
    if [ -n "${FORGE_PG_STOP:-}" ]; then "${FORGE_PG_STOP[@]}" >/dev/null 2>&1 || true; fi
}
