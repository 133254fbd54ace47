#!/bin/sh
# Run the SIPp UAC headless in the foreground, configured from the environment
# the NFVO fills in (VNFD configuration parameters and the server dependency).
# Statistics go to /var/log/sipp/stats.csv every second; `sipp-stats` reads them.
set -eu

LOG_DIR=/var/log/sipp
mkdir -p "$LOG_DIR"
cd "$LOG_DIR"

fail() {
    echo "sipp-client: $*" >&2
    exit 64
}

# SERVER_PRIVATE is the server's address on the `private` link; with several
# servers the NFVO passes a comma-separated list: use the first one.
server="$(printf '%s' "${SERVER_PRIVATE:-}" | cut -d, -f1 | tr -d ' ')"
[ -n "$server" ] || fail "SERVER_PRIVATE is empty: no SIPp server address to call (is the dependency on the server resolved?)"

SIPP_LENGTH="${SIPP_LENGTH:-0}"
SIPP_RATE="${SIPP_RATE:-10}"
SIPP_RATE_PERIOD="${SIPP_RATE_PERIOD:-1000}"
SIPP_RATE_INCREASE="${SIPP_RATE_INCREASE:-0}"
SIPP_RATE_MAX="${SIPP_RATE_MAX:-$SIPP_RATE}"
SIPP_TRANSPORT_MODE="${SIPP_TRANSPORT_MODE:-u1}"

for var in SIPP_LENGTH SIPP_RATE SIPP_RATE_PERIOD SIPP_RATE_INCREASE SIPP_RATE_MAX; do
    eval "value=\${$var}"
    case "$value" in
        ''|*[!0-9]*) fail "$var must be a non-negative integer, got '$value'" ;;
    esac
done

# -rtp_echo is a flag; the NSD carries SIPP_RTP_ECHO with a value (e.g. 10):
# any value other than empty/0/false/no turns it on.
rtp_echo=""
case "${SIPP_RTP_ECHO:-}" in
    ''|0|false|FALSE|no|NO) ;;
    *) rtp_echo="-rtp_echo" ;;
esac

echo "sipp-client: calling $server rate=$SIPP_RATE/$SIPP_RATE_PERIOD ms" \
    "max=$SIPP_RATE_MAX increase=$SIPP_RATE_INCREASE length=$SIPP_LENGTH ms" \
    "transport=$SIPP_TRANSPORT_MODE ${rtp_echo}"

# shellcheck disable=SC2086  # rtp_echo is intentionally unquoted (empty or one flag)
sipp -sn uac "$server" -nostdin \
    -d "$SIPP_LENGTH" -r "$SIPP_RATE" -rp "$SIPP_RATE_PERIOD" \
    -rate_increase "$SIPP_RATE_INCREASE" -rate_max "$SIPP_RATE_MAX" -no_rate_quit \
    -t "$SIPP_TRANSPORT_MODE" $rtp_echo \
    -trace_stat -stf "$LOG_DIR/stats.csv" -fd 1 \
    -trace_msg -message_file "$LOG_DIR/messages.log" \
    -trace_err -error_file "$LOG_DIR/errors.log" \
    -trace_screen -screen_file "$LOG_DIR/screen.log" \
    -ringbuffer_files 2 -ringbuffer_size 10000000 \
    </dev/null &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
set +e
wait "$pid"
status=$?
if kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    status=$?
fi
echo "sipp-client: sipp exited with status $status"
exit "$status"
