"""Placeholder: SOL005 NSD management routes (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/nsd/v1", tags=["SOL005 NSD management"])
