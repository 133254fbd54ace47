"""Placeholder: SOL005 subscription routes (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/nslcm/v1", tags=["SOL005 subscriptions"])
