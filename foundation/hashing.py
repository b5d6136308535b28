"""Canonical hashing: the same specification always gives the same key and the same seed.

Keys of cells and seeds of models derive from these, so results depend on neither `-j`, the backend
nor the order of work.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any


def stable_hash(payload: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no whitespace): the same spec always gives the same hash."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def derive_seed(*parts: Any) -> int:
    """A 31-bit seed from any JSON-able parts (valid for numpy, scikit-learn, XGBoost and LightGBM)."""
    return int(stable_hash(list(parts))[:8], 16) & 0x7FFFFFFF
