"""Persistence: one repository per aggregate, each a port (``nubo.store.port``) with a SQL
implementation here, all on one ``Database`` (SQLite by default, or PostgreSQL) whose
schema Alembic migrates."""
