"""The NFV Orchestrator: NS workflows, LCM operation occurrences, VIM selection."""
