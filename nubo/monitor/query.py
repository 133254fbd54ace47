"""MetricsReader: the query interface over stored VNFC metrics.

Auto-scaling, the API and the CLI read metrics only through this Protocol, so
the store behind it (SQL today) can change without touching them. It is the
reading half of the store's ``MetricRepository`` port, defined there once.
"""

from __future__ import annotations

from nubo.store.port.monitoring import MetricsReader

__all__ = ["MetricsReader"]
