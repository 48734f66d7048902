"""Regenerate bbbc039's file list in data_manifest.yaml from the mirror's SHA256SUMS.

Usage: python scripts/bbbc039_manifest.py [MIRROR_DIR]   (default: ../shared/data/bbbc039)

Writes the 400 image/mask entries (sha256 from SHA256SUMS, byte size where the mirror holds
the file) and the three split lists, which have no public address: they are shipped in the
package (course_utils/data/bundled/bbbc039/splits/) and listed as bundled, with the sha256 of
the mirror's copies. The block between the BEGIN/END GENERATED markers is replaced; the rest of
the manifest is left as it is. Run it again whenever the mirror's SHA256SUMS changes.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "data_manifest.yaml"
BUNDLED = ROOT / "course_utils" / "data" / "bundled" / "bbbc039"
SPLITS = ("splits/training.txt", "splits/validation.txt", "splits/test.txt")
BEGIN = "    # BEGIN GENERATED bbbc039 files (scripts/bbbc039_manifest.py)"
END = "    # END GENERATED bbbc039 files"


def sha256(path: Path) -> str:
    """The sha256 of one file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def entries(mirror: Path) -> list[str]:
    """YAML lines for every file: the 400 of SHA256SUMS, then the bundled split lists."""
    lines = []
    for row in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, rel = row.split(maxsplit=1)
        rel = rel.lstrip("*")
        local = mirror / rel
        size = f", size: {local.stat().st_size}" if local.is_file() else ""
        lines.append(f"      - {{path: {rel}, sha256: {digest}{size}}}")
    for rel in SPLITS:
        src = mirror / rel
        dest = BUNDLED / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        lines.append(f"      - {{path: {rel}, sha256: {sha256(src)}, "
                     f"size: {src.stat().st_size}, bundled: true}}")
    return lines


def main(argv: list[str]) -> int:
    """Rewrite the generated block of the manifest; print what changed."""
    mirror = Path(argv[0]) if argv else ROOT.parent / "shared" / "data" / "bbbc039"
    if not (mirror / "SHA256SUMS").is_file():
        print(f"no SHA256SUMS in {mirror}: pass the bbbc039 mirror folder", file=sys.stderr)
        return 2
    text = MANIFEST.read_text()
    head, rest = text.split(BEGIN + "\n", 1)
    _, tail = rest.split(END + "\n", 1)
    block = entries(mirror)
    MANIFEST.write_text(head + BEGIN + "\n" + "\n".join(block) + "\n" + END + "\n" + tail)
    print(f"wrote {len(block)} bbbc039 entries into {MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
