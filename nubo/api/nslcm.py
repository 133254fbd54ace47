"""Placeholder: SOL005 NS lifecycle routes (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/nslcm/v1", tags=["SOL005 NS lifecycle"])
