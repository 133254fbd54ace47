#!/bin/sh
# Run the SIPp UAS headless in the foreground. The thesis wrapped sipp in tmux to
# get a screen; here statistics and the message log go to files under
# /var/log/sipp instead, so nothing needs a terminal.
set -eu

SIPP_PORT="${SIPP_PORT:-5060}"
SIPP_TRANSPORT_MODE="${SIPP_TRANSPORT_MODE:-u1}"

echo "sipp-server: listening on port $SIPP_PORT (transport $SIPP_TRANSPORT_MODE)"

exec sipp-run sipp-server -sn uas -p "$SIPP_PORT" -t "$SIPP_TRANSPORT_MODE"
