"""The ground floor: vocabulary every room shares and that imports none of them.

- `names`: registries and name lookup that answers a typo with "did you mean";
- `metrics`: metrics on (labels, scores), each with its direction;
- `hashing`: canonical hashing for cell keys and seeds;
- `plugins`: finding and importing plugin modules (they register into the rooms above).

`datasets`, `strategies`, `benchmarks` and `analysis` import it; it imports none of them
(tests/test_architecture.py walks the import graph).
"""
from __future__ import annotations

from imbench.foundation.namespace import refuse_bare_import

refuse_bare_import(__name__)

