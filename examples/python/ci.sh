#!/usr/bin/env bash
# Runs the Python example against a live lindung: a fresh store, a province's key, the server on a free port; the
# example runs twice (the second run must be answered from the first, by request id, and resume the feed where the
# first stopped). Called by .ci/run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
cd "$root"
cargo build --locked -q
lindung="$root/target/debug/lindung"

venv="$root/target/python-example"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
(cd "$here" && PATH="$venv/bin:$PATH" ./generate.sh)

work="$(mktemp -d /tmp/lindung-python-XXXXXX)"
chmod 755 "$work"
server_pid=""
db=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    [ -n "$db" ] && dropdb -h 127.0.0.1 -U postgres --if-exists "$db" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${DATABASE_URL:-}" ]; then
    db="lindung_python_example_$$"
    createdb -h 127.0.0.1 -U postgres "$db"
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
fi
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
key="$("$lindung" --data-dir "$work" agency add --kind province --region 32 --name "Pemerintah Provinsi Jawa Barat" 2>/dev/null | tail -1)"
"$lindung" --data-dir "$work" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -sf -H 'content-type: application/json' -d '{}' "http://127.0.0.1:$port/grpc.health.v1.Health/Check" >/dev/null && break
    sleep 0.2
done

cd "$here"
run() { "$venv/bin/python" provinsi.py --server "127.0.0.1:$port" --key "$key" --position "$work/position" pekerja.csv; }
run
echo "--- the same file again: every answer comes from the first run, and the feed has nothing new"
run | tee "$work/second.log"
grep -q '^feed: 0 new events' "$work/second.log"
echo "python example: ok"
