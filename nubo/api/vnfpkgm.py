"""Placeholder: SOL005 VNF package management routes (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/vnfpkgm/v1", tags=["SOL005 VNF package management"])
