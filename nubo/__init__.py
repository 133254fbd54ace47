"""nubo: an elastic orchestration platform for containerised network and media services."""

__version__ = "0.1.0"
