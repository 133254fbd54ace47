"""The nubo command-line interface: a client of the northbound HTTP API."""
