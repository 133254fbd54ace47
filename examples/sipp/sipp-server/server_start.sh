#!/bin/sh
# Run the SIPp UAS headless in the foreground. The thesis wrapped sipp in tmux to
# get a screen; here statistics and the message log go to files under
# /var/log/sipp instead, so nothing needs a terminal.
set -eu

LOG_DIR=/var/log/sipp
mkdir -p "$LOG_DIR"
cd "$LOG_DIR"

SIPP_PORT="${SIPP_PORT:-5060}"
SIPP_TRANSPORT_MODE="${SIPP_TRANSPORT_MODE:-u1}"

echo "sipp-server: listening on port $SIPP_PORT (transport $SIPP_TRANSPORT_MODE)"

# sh stays PID 1 so that `docker stop` (SIGTERM) reaches sipp instead of being
# ignored by a PID 1 without a handler.
sipp -sn uas -nostdin -p "$SIPP_PORT" -t "$SIPP_TRANSPORT_MODE" \
    -trace_stat -stf "$LOG_DIR/stats.csv" -fd 1 \
    -trace_msg -message_file "$LOG_DIR/messages.log" \
    -trace_err -error_file "$LOG_DIR/errors.log" \
    -ringbuffer_files 2 -ringbuffer_size 10000000 \
    </dev/null &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
set +e
wait "$pid"
status=$?
# wait returns early when the trap fires; collect the real exit status
if kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    status=$?
fi
echo "sipp-server: sipp exited with status $status"
exit "$status"
