"""The ``course-utils`` command line: one sub-command per module, imported only when used."""

from __future__ import annotations

import argparse
import importlib
import sys

# sub-command -> (module that implements it, one-line help). Each module defines
# ``configure(parser)`` (add its arguments; keep module imports light) and ``run(args) -> int``.
COMMANDS: dict[str, tuple[str, str]] = {
    "doctor": ("course_utils.doctor", "check this machine is ready for the course"),
    "bench": ("course_utils.bench", "run notebooks headless and record time, memory, metrics"),
    "data": ("course_utils.data.cli", "list, fetch, verify and locate the course datasets"),
    "build": ("course_utils.authoring.build", "regenerate student and solution notebooks"),
    "validate": ("course_utils.grading.validate",
                 "run a notebook and its checks; fail if any fails"),
    "grade": ("course_utils.grading.grade", "autograde a folder of submissions into a gradebook"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command whose module is installed."""
    parser = argparse.ArgumentParser(prog="course-utils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.configure(sub.add_parser(name, help=help_text, description=help_text))
        sub.choices[name].set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``course-utils`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and friends: stop quietly
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
