"""Placeholder: VNF packages (being written)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine


class VnfPackageCatalogue:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
