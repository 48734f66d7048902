"""``course-utils data``: list, fetch, verify and locate the course datasets.

  course-utils data list                       name, size, license, status of every dataset
  course-utils data fetch NAME... | --all [--into DIR]
                                               get (and verify) datasets; --into stages a
                                               folder to list in COURSE_DATA_DIRS
  course-utils data verify [NAME...]           re-hash every present file; exit 1 if any is
                                               bad or missing
  course-utils data path NAME                  the folder(s) holding a dataset (no fetching)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``data`` sub-commands (no heavy imports here)."""
    sub = parser.add_subparsers(dest="data_command", required=True)
    sub.add_parser("list", help="name, size, license and status of every dataset")
    fetch = sub.add_parser("fetch", help="get and verify datasets (mirrors, cache, download)")
    fetch.add_argument("names", nargs="*", metavar="NAME", help="datasets to fetch")
    fetch.add_argument("--all", action="store_true", help="every dataset of the manifest")
    fetch.add_argument("--into", metavar="DIR", type=Path,
                       help="also put the files in DIR/<dataset>/ (stage a shared folder)")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars")
    verify = sub.add_parser("verify",
                            help="re-hash present files; non-zero exit if any is bad or missing")
    verify.add_argument("names", nargs="*", metavar="NAME", help="datasets (default: all)")
    path = sub.add_parser("path", help="print the folder holding a dataset")
    path.add_argument("name", metavar="NAME")


def run(args: argparse.Namespace) -> int:
    """Run one ``data`` sub-command; data-layer errors become a message and exit status 1."""
    from .errors import DatasetUnavailable, ManifestError

    commands = {"list": _list, "fetch": _fetch, "verify": _verify, "path": _path}
    try:
        return commands[args.data_command](args)
    except (DatasetUnavailable, ManifestError) as exc:
        print(exc, file=sys.stderr)
        return 1


def _list(args: argparse.Namespace) -> int:
    """Print one row per dataset."""
    from .manifest import load_manifest
    from .status import dataset_status

    datasets = {d.name: d for d in load_manifest().datasets}
    print(f"{'NAME':<22} {'SIZE':>9}  {'LICENSE':<24} {'STATUS':<9} DETAIL")
    for name, status, detail in dataset_status():
        licence = datasets[name].license.split(" (")[0][:24]
        print(f"{name:<22} {_size(datasets[name].size_mb):>9}  {licence:<24} {status:<9} {detail}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    """Fetch the named datasets (or all); report each; exit 1 if any failed."""
    from .errors import DatasetUnavailable
    from .fetch import fetch
    from .manifest import load_manifest

    manifest = load_manifest()
    if args.all == bool(args.names):
        print("give dataset names or --all (see `course-utils data list`)", file=sys.stderr)
        return 2
    names = [d.name for d in manifest.datasets] if args.all else args.names
    failed = []
    for name in names:
        dataset = manifest.get(name)
        if dataset.bundled:
            print(f"{name}: ships with {dataset.bundled_with}, nothing to fetch")
            continue
        try:
            paths = fetch(name, into=args.into, progress=not args.quiet)
        except DatasetUnavailable as exc:
            print(exc, file=sys.stderr)
            failed.append(name)
            continue
        print(f"{name}: {len(dataset.files)} files verified in {', '.join(_folders(paths))}")
    if failed:
        print(f"not fetched: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _verify(args: argparse.Namespace) -> int:
    """Re-hash present files; name the bad and missing ones and any leftover temporaries."""
    from .status import verify_present
    from .tempfiles import STALE_S

    found = verify_present(args.names or None)
    for item in found.bad:
        print(f"BAD      {item.dataset}: {item.path} ({item.problem})")
    for name, rel in _missing_lines(found.missing):
        print(f"MISSING  {name}: {rel}")
    for tmp in found.temporaries:
        print(f"PARTIAL  {tmp} (left by an interrupted fetch)")
    print(f"{found.checked} files checked, {len(found.bad)} bad, {len(found.missing)} missing"
          + (f", {len(found.temporaries)} partial" if found.temporaries else ""))
    if found.bad:
        print("Fix: delete the bad files (a cached copy is fetched again on next use) or "
              "replace them in their mirror with `course-utils data fetch NAME --into DIR`; "
              "make unreadable ones readable by all (`chmod -R a+rX DIR`).")
    if found.missing:
        print("Fix: get the missing files with `course-utils data fetch NAME` (add "
              "`--into DIR` to complete a staged folder).")
    if found.temporaries:
        print("Partial files are harmless: the next fetch into their folder deletes them once "
              f"they are {STALE_S // 60} minutes old, or delete them yourself.")
    return 0 if found.ok else 1


def _missing_lines(missing: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(dataset, what) lines for the missing files: each file, or "all N files" when the
    whole dataset is missing."""
    from .manifest import load_manifest

    manifest = load_manifest()
    by_dataset: dict[str, list[str]] = {}
    for name, rel in missing:
        by_dataset.setdefault(name, []).append(rel)
    lines = []
    for name, rels in by_dataset.items():
        total = len(manifest.get(name).files)
        lines += [(name, f"all {total} files")] if len(rels) == total else [(name, r) for r in rels]
    return lines


def _path(args: argparse.Namespace) -> int:
    """Print the folder(s) that hold the present files of one dataset."""
    from .status import present_files

    paths = present_files(args.name)
    if not paths:
        print(f"{args.name} is not here: run `course-utils data fetch {args.name}`",
              file=sys.stderr)
        return 1
    print("\n".join(_folders(paths)))
    return 0


def _folders(paths: dict[str, Path]) -> list[str]:
    """The distinct dataset folders holding ``paths`` (relpath -> path), in order."""
    from .fetch import root_of

    return list(dict.fromkeys(str(root_of(path, rel)) for rel, path in paths.items()))


def _size(megabytes: float) -> str:
    """A size in MB or GB for the table."""
    return f"{megabytes / 1000:.1f} GB" if megabytes >= 1000 else f"{megabytes:g} MB"
