"""Report a notebook's key numbers so that ``course-utils bench`` can record them.

``report("ap50", 0.91)`` prints the value and, when the notebook runs under the benchmark
(``COURSE_REPORT_FILE`` is set), appends it to that JSON-lines file.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Number

REPORT_ENV = "COURSE_REPORT_FILE"
_reported: dict[str, object] = {}


def _plain(value: object) -> object:
    """Turn numpy scalars and the like into JSON-friendly Python values."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, Number) and not isinstance(value, bool):
        value = float(value) if not isinstance(value, int) else value
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot report a non-finite number: {value}")
    elif not isinstance(value, (str, bool)) and value is not None:
        raise TypeError(f"report() takes a number or a string, not {type(value).__name__}")
    return value


def report(name: str, value: object, quiet: bool = False) -> object:
    """Record one metric of this notebook (a number or a short string) and return it."""
    if not name.isidentifier():
        raise ValueError(f"metric name {name!r} must be a plain identifier such as 'ap50'")
    value = _plain(value)
    _reported[name] = value
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"name": name, "value": value}) + "\n")
    if not quiet:
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"[report] {name} = {shown}")
    return value


def reported() -> dict[str, object]:
    """All metrics reported so far in this kernel."""
    return dict(_reported)


def read_report_file(path: str) -> dict[str, object]:
    """Read a JSON-lines report file; a later value of a name replaces an earlier one."""
    metrics: dict[str, object] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    item = json.loads(line)
                    metrics[item["name"]] = item["value"]
    return metrics
