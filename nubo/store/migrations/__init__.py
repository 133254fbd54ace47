"""Alembic migrations of nubo's store; ``Database.init()`` applies them at start-up."""
