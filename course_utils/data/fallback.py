"""Real data when it can be had, generated data otherwise — and a loud note saying which."""

from __future__ import annotations

from .bbbc039 import Fields, load_bbbc039, load_bbbc039_eval
from .errors import DatasetUnavailable
from .synthetic import synthetic_nuclei

SPLIT_SIZES = {"train": 100, "val": 50, "test": 50}  # BBBC039's split sizes
SPLIT_SEEDS = {"train": 0, "val": 1000, "test": 2000}  # generated splits never repeat fields


def nuclei_fields(split: str = "train", n: int | None = None, seed: int = 0) -> Fields:
    """BBBC039 fields of ``split`` (test falls back to val), else generated ones, loudly.

    Same shapes and dtypes as :func:`load_bbbc039`; ``Fields.split`` is "synthetic" when the
    fields were generated, so later cells can say so too.
    """
    if split not in SPLIT_SIZES:
        raise ValueError(f"unknown split {split!r}; use one of {sorted(SPLIT_SIZES)}")
    try:
        return load_bbbc039_eval(n) if split == "test" else load_bbbc039(split, n)
    except DatasetUnavailable as exc:
        count = n if n is not None else SPLIT_SIZES[split]
        print(_banner(exc, count, split))
        return synthetic_nuclei(count, seed=seed + SPLIT_SEEDS[split])


def _banner(exc: DatasetUnavailable, count: int, split: str) -> str:
    """The warning printed when generated fields replace real ones."""
    rule = "!" * 78
    return "\n".join([
        rule,
        f"WARNING: using {count} GENERATED nuclei fields for the {split!r} split, not BBBC039.",
        f"Why: {_why(exc)}.",
        "Scores on generated fields are NOT comparable with published BBBC039 results.",
        f"To use the real data: {exc.fix}",
        rule,
    ])


def _why(exc: DatasetUnavailable, shown: int = 3) -> str:
    """The cause of each missing file (corrupt, unreadable, absent, offline...), grouped by
    cause with a few names each; what failed and the last thing tried when no file is named."""
    if not exc.missing:
        return f"{exc.what} ({exc.tried[-1] if exc.tried else 'no source'})"
    groups: dict[str, list[str]] = {}
    for path, cause in exc.missing.items():
        groups.setdefault(cause, []).append(path)
    parts = []
    for cause, paths in groups.items():
        names = ", ".join(paths[:shown])
        if len(paths) > shown:
            names = f"{len(paths)} files: {names} and {len(paths) - shown} more"
        parts.append(f"{cause}: {names}")
    return "; ".join(parts)
