"""The HTTP API: thin routes over the orchestrator's services."""
