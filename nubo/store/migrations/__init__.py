"""Alembic migrations of nubo's store; ``SqlStore.init()`` applies them at start-up."""
