"""The strategy families, in the order tables and figures show them: vocabulary shared by the
strategy registry (every strategy declares one) and analysis (which reads it from the store)."""
from __future__ import annotations

#: `baseline` marks chance reference models; `posthoc` lists post-hoc steps in `imbench list`.
FAMILIES = ("none", "weighting", "undersampling", "oversampling", "hybrid", "ensemble", "loss", "baseline", "posthoc")


def family_order(family: str) -> tuple[int, str]:
    """Sort key: families in FAMILIES order, unknown ones last (alphabetically)."""
    return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), family)
