# Sourced by scripts/test.sh (or by hand: `source scripts/s3-servers.sh && s3_servers_start`).
# Starts a real S3 server (moto, from PyPI, in a venv under target/) and the fault-injection
# proxy in front of it, both on 127.0.0.1 with ports the OS picks, and exports
#   FLEETPATH_S3_ENDPOINT  the moto server (http://127.0.0.1:PORT)
#   FLEETPATH_S3_PROXY     the proxy (http://127.0.0.1:PORT)
# for crates/aws/tests/s3.rs. Fails loudly when either cannot start. s3_servers_stop ends both.

S3_VENV=${S3_VENV:-target/s3-venv}
S3_LOGS=${S3_LOGS:-target/s3-logs}

s3_wait_for_line() { # file pattern seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

s3_servers_start() {
  mkdir -p "$S3_LOGS"
  if ! "$S3_VENV/bin/python" -c 'import moto, flask, flask_cors' >/dev/null 2>&1; then
    if ! python3 -m venv "$S3_VENV" >/dev/null 2>&1; then
      # Debian's own python3 keeps venv in a separate package.
      if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      fi
      rm -rf "$S3_VENV"
      python3 -m venv "$S3_VENV" || { echo "FAILED: cannot create a venv at $S3_VENV (python3-venv)" >&2; return 1; }
    fi
    "$S3_VENV/bin/pip" install -q --disable-pip-version-check -r scripts/s3-test-requirements.txt ||
      { echo "FAILED: cannot install moto from PyPI" >&2; return 1; }
  fi
  "$S3_VENV/bin/moto_server" -H 127.0.0.1 -p 0 >"$S3_LOGS/moto.log" 2>&1 &
  S3_MOTO_PID=$!
  if ! s3_wait_for_line "$S3_LOGS/moto.log" 'Running on http://127\.0\.0\.1:[0-9]+' 30; then
    cat "$S3_LOGS/moto.log" >&2
    echo "FAILED: moto_server did not start within 30 s" >&2
    return 1
  fi
  local port
  port=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$S3_LOGS/moto.log" | head -n1 | grep -oE '[0-9]+$')
  export FLEETPATH_S3_ENDPOINT="http://127.0.0.1:$port"
  local i ok=0
  for ((i = 0; i < 300; i++)); do
    if curl -fsS "$FLEETPATH_S3_ENDPOINT/moto-api/data.json" >/dev/null 2>&1 ||
      "$S3_VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
        "$FLEETPATH_S3_ENDPOINT/moto-api/data.json" >/dev/null 2>&1; then
      ok=1
      break
    fi
    sleep 0.1
  done
  [ "$ok" -eq 1 ] || { echo "FAILED: moto_server at $FLEETPATH_S3_ENDPOINT does not answer" >&2; return 1; }
  "$S3_VENV/bin/python" scripts/s3_fault_proxy.py --upstream "$FLEETPATH_S3_ENDPOINT" >"$S3_LOGS/proxy.log" 2>&1 &
  S3_PROXY_PID=$!
  if ! s3_wait_for_line "$S3_LOGS/proxy.log" '^listening on [0-9]+' 10; then
    cat "$S3_LOGS/proxy.log" >&2
    echo "FAILED: the fault proxy did not start" >&2
    return 1
  fi
  export FLEETPATH_S3_PROXY="http://127.0.0.1:$(grep -oE '[0-9]+' "$S3_LOGS/proxy.log" | head -n1)"
  echo "S3 test server: moto at $FLEETPATH_S3_ENDPOINT, fault proxy at $FLEETPATH_S3_PROXY"
}

s3_servers_stop() {
  [ -n "${S3_PROXY_PID:-}" ] && kill "$S3_PROXY_PID" 2>/dev/null
  [ -n "${S3_MOTO_PID:-}" ] && kill "$S3_MOTO_PID" 2>/dev/null
  wait 2>/dev/null
  return 0
}
