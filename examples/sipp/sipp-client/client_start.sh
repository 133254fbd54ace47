#!/bin/sh
# Run the SIPp UAC headless in the foreground, configured from the environment
# the NFVO fills in (VNFD configuration parameters and the server dependency).
# Statistics go to /var/log/sipp/stats.csv every second; `sipp-stats` reads them.
set -eu

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
exec sipp-run sipp-client -sn uac "$server" \
    -d "$SIPP_LENGTH" -r "$SIPP_RATE" -rp "$SIPP_RATE_PERIOD" \
    -rate_increase "$SIPP_RATE_INCREASE" -rate_max "$SIPP_RATE_MAX" -no_rate_quit \
    -t "$SIPP_TRANSPORT_MODE" $rtp_echo \
    -trace_screen -screen_file /var/log/sipp/screen.log
