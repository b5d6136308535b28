"""Per-cell limits as a user writes them: memory sizes such as `2GB`, `512M` or a number of MiB.

Sizes count in powers of 1024, as SLURM's `--mem` does: `2GB` = `2G` = `2GiB` = 2048 MiB; a bare
number is MiB. (Dask's own sizes count `GB` as 10^9 bytes; imbench does not use them for this limit.)
"""
from __future__ import annotations

import re

_UNITS = {"k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0**2}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_memory(value: object) -> float:
    """A memory size in MiB from a number (MiB) or text like '2GB', '1.5G', '512MiB', '800M'.

    ValueError (saying what is accepted) for anything else or a size that is not positive."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a memory size; write e.g. \"2GB\", \"512MB\" or a number of MiB")
    if isinstance(value, (int, float)):
        mib = float(value)
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a memory size; write e.g. \"2GB\", \"512MB\" or a number of MiB")
        number, unit = match.groups()
        mib = float(number) * (_UNITS[unit.lower()] if unit else 1.0)
        if not unit and re.search(r"b\s*$", str(value), re.IGNORECASE):
            mib = float(number) / 2**20  # "100B": bytes
    if not mib > 0 or mib != mib or mib == float("inf"):
        raise ValueError(f"{value!r}: a memory limit must be a positive size")
    return mib
