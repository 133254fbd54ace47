"""Persistence: one SQL layer (SQLite by default) with Alembic migrations."""
