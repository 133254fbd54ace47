#!/usr/bin/env bash
# The main job: start nubo with its embedded defaults (SQLite, local Docker VIM),
# onboard the SIPp network service of the thesis, instantiate it, wait until it
# is ACTIVE and show that SIP calls between client and server succeed.
# The service is left running; the commands to inspect, scale and terminate it
# are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

NUBO=".venv/bin/nubo"
PY=".venv/bin/python"
URL="${NUBO_URL:-http://127.0.0.1:8080}"
export NUBO_URL="$URL"
mkdir -p var

json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# The initial administrator's password: nubo makes the user 'admin' with it on its first
# start, and this script logs in with it. Generated once, kept private in var/.
if [ -z "${NUBO_ADMIN_PASSWORD:-}" ]; then
  export NUBO_ADMIN_PASSWORD_FILE="${NUBO_ADMIN_PASSWORD_FILE:-$PWD/var/admin-password}"
  if [ ! -s "$NUBO_ADMIN_PASSWORD_FILE" ]; then
    (umask 077; "$PY" -c "import secrets; print(secrets.token_urlsafe(18))" >"$NUBO_ADMIN_PASSWORD_FILE")
    echo "[nubo] generated the administrator's password in $NUBO_ADMIN_PASSWORD_FILE"
  fi
fi

if ! curl -fsS "$URL/health" >/dev/null 2>&1; then
  echo "[nubo] starting the orchestrator at $URL (log: var/nubo.log)"
  nohup "$NUBO" serve >var/nubo.log 2>&1 &
  echo $! > var/nubo.pid
  for _ in $(seq 1 100); do
    curl -fsS "$URL/health" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "$URL/health" >/dev/null || { echo "nubo did not start; see var/nubo.log"; exit 1; }
else
  echo "[nubo] orchestrator already running at $URL"
fi

echo "[nubo] logging in as admin"
if [ -n "${NUBO_ADMIN_PASSWORD:-}" ]; then
  login=("$NUBO" login --username admin --password-stdin)
  printf '%s\n' "$NUBO_ADMIN_PASSWORD" | "${login[@]}"
else
  "$NUBO" login --username admin --password-file "$NUBO_ADMIN_PASSWORD_FILE" || {
    echo "nubo refused the password in $NUBO_ADMIN_PASSWORD_FILE: its database was set up with"
    echo "another one (set NUBO_ADMIN_PASSWORD, or log in with 'nubo login')"; exit 1; }
fi

NSD_ID="$("$NUBO" nsd list --json | json "next((n['id'] for n in d if n['name']=='docker-test-NS-sipp'), '')")"
if [ -z "$NSD_ID" ]; then
  echo "[nubo] onboarding examples/sipp/nsd.json"
  NSD_ID="$("$NUBO" nsd onboard examples/sipp/nsd.json --json | json "d['id']")"
fi
echo "[nubo] NSD $NSD_ID"

NSR_ID="$("$NUBO" ns list --json | json "next((n['id'] for n in d if n['name']=='sipp-demo' and n['status']=='ACTIVE'), '')")"
if [ -n "$NSR_ID" ]; then
  echo "[nubo] the SIPp service is already running as NS $NSR_ID"
  "$NUBO" ns show "$NSR_ID"
else
  echo "[nubo] instantiating the SIPp network service"
  NSR_ID="$("$NUBO" ns instantiate "$NSD_ID" --name sipp-demo --json | json "d['id']")"
  "$NUBO" ns show "$NSR_ID"
fi

echo "[nubo] letting the client place calls for 5 s..."
sleep 5
CLIENT="$(docker ps -q --filter "label=io.nubo.ns-id=$NSR_ID" --filter "label=io.nubo.vnf-name=sipp-client" | head -1)"
SERVER="$(docker ps -q --filter "label=io.nubo.ns-id=$NSR_ID" --filter "label=io.nubo.vnf-name=sipp-server" | head -1)"
echo "[nubo] SIPp client call statistics:"
docker exec "$CLIENT" sipp-stats
echo "[nubo] client environment (dependency resolved by nubo):"
docker exec "$CLIENT" sh -c 'echo SERVER_PRIVATE=$SERVER_PRIVATE'
echo "[nubo] server address on 'private': $(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$SERVER")"

CLIENT_VNFR="$("$NUBO" ns show "$NSR_ID" --json | json "[v['id'] for v in d['vnfr'] if v['name']=='sipp-client'][0]")"
cat <<MSG

The SIPp service is running as NS $NSR_ID.
  inspect:    $NUBO ns show $NSR_ID
  operations: $NUBO ns ops $NSR_ID
  scale out:  $NUBO ns scale-out $NSR_ID sipp-client
  scale in:   $NUBO ns scale-in $NSR_ID sipp-client
  stats:      docker exec \$(docker ps -q --filter label=io.nubo.vnfr-id=$CLIENT_VNFR | head -1) sipp-stats
  terminate:  $NUBO ns terminate $NSR_ID
  API:        $URL/docs  (OpenAPI: $URL/openapi.json; token: $NUBO login)
  stop nubo:  kill \$(cat var/nubo.pid)
MSG
