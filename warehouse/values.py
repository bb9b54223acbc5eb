"""How a fact's value is stored: as JSON text, plus a number when the value is one.

``facts.value`` / ``dataset_facts.value`` hold the JSON; ``value_num`` (DOUBLE) lets SQL compare
and sort plain numbers without parsing JSON. Booleans are JSON but not numbers.
"""

from __future__ import annotations

import json
from typing import Any


def stored_value(value: Any) -> tuple[str, float | None]:
    """``value`` as the two columns it is stored in: JSON text (non-ASCII kept as is) and, for an
    int or float that is not a bool, the float; else None."""
    num = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return json.dumps(value, ensure_ascii=False), num
