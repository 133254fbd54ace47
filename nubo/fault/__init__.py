"""Fault management: alarms, the watcher that raises and clears them, and self-healing."""
