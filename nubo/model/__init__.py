"""The pure information model: descriptors, records, state machines, errors. No I/O."""
