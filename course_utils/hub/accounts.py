"""Accounts and shared folders of the one-machine hub, from a class list (run as root).

    sudo .venv/bin/python -m course_utils.hub.accounts add --instructor NAME class.txt \\
        [--passwords passwords.txt]
    sudo .venv/bin/python -m course_utils.hub.accounts remove class.txt

``add`` makes the hub's folders (see :mod:`course_utils.hub.settings`) with their permissions,
one Linux user per attendee and one for the instructor (``useradd``; existing users are kept),
homes readable by their owner only, the instructor's nbgrader course folder
(``~/course``, private), nbgrader's settings for everyone (course id, exchange) and, for the
attendees, JupyterLab without the instructor's nbgrader panels. It writes ``class.json``,
which the hub reads for its allowed and admin users. ``--passwords FILE`` gives every account
a new random password, written to FILE (mode 0600) to hand out; without it accounts get no
password here (set them with ``passwd``, or use another authenticator). ``remove`` deletes
the users of the class list and their homes (``userdel -r``).

The class list has one user name per line (``#`` starts a comment).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from .settings import ClassList, HubSettings

NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")
# nbgrader's JupyterLab and server extensions an attendee has no use for (they need a course
# folder): hidden for attendees, kept for the instructor.
INSTRUCTOR_LAB_PLUGINS = ("nbgrader:formgrader", "nbgrader:create-assignment",
                          "nbgrader:course-list")
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",
                                "nbgrader.server_extensions.course_list")


def read_class_list(path: Path) -> list[str]:
    """User names of a class list; raises ValueError naming the first bad line."""
    names: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if not NAME.match(name):
            raise ValueError(f"{path}:{number}: {name!r} is not a valid Linux user name "
                             "(lower-case letters, digits, '_' and '-', at most 31, "
                             "starting with a letter or '_')")
        if name in names:
            raise ValueError(f"{path}:{number}: {name!r} is listed twice")
        names.append(name)
    return names


def _run(cmd: list[str], stdin: str | None = None) -> None:
    """Run an account command; its error output becomes the exception's message."""
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): "
                           f"{done.stderr.strip() or done.stdout.strip()}")


def ensure_user(name: str) -> pwd.struct_passwd:
    """The Linux user ``name``, created with a private home if missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    _run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name])
    entry = pwd.getpwnam(name)
    os.chmod(entry.pw_dir, 0o700)
    return entry


def remove_user(name: str) -> None:
    """Delete ``name`` and its home; a user that does not exist is fine.

    Stop the hub first: ``userdel`` refuses a user whose processes still run.
    """
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    _run(["userdel", "--remove", name])


def set_passwords(names: list[str]) -> dict[str, str]:
    """A fresh random password for each user (``chpasswd``); returns them."""
    passwords = {name: secrets.token_urlsafe(12) for name in names}
    _run(["chpasswd"], "".join(f"{n}:{p}\n" for n, p in passwords.items()))
    return passwords


def _write_owned(path: Path, text: str, owner: pwd.struct_passwd, mode: int = 0o644) -> None:
    """Write ``path`` (and its missing parents inside the owner's home) as ``owner``'s."""
    home = Path(owner.pw_dir)
    missing = [p for p in [path.parent, *path.parent.parents] if home in p.parents
               and not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    for item in [path, *missing]:
        os.chown(item, owner.pw_uid, owner.pw_gid)


def make_folders(settings: HubSettings) -> None:
    """The hub's folders with the permissions the guide documents."""
    settings.root.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.root, 0o755)
    for folder, mode in ((settings.state, 0o700), (settings.data, 0o755),
                         (settings.exchange, 0o1777), (settings.jupyter_config, 0o755)):
        folder.mkdir(exist_ok=True)
        os.chown(folder, 0, 0)
        os.chmod(folder, mode)
    (settings.jupyter_config / "nbgrader_config.py").write_text(
        "# Written by course_utils.hub.accounts: nbgrader settings for every user of the hub.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {settings.course_id!r}\n"
        f"c.Exchange.root = {str(settings.exchange)!r}\n", encoding="utf-8")
    os.chmod(settings.jupyter_config / "nbgrader_config.py", 0o644)


def course_folder(instructor: str) -> Path:
    """The instructor's nbgrader course folder."""
    return Path(pwd.getpwnam(instructor).pw_dir) / "course"


def setup_instructor(name: str) -> Path:
    """The instructor's account, private course folder and nbgrader config pointing at it."""
    entry = ensure_user(name)
    course = course_folder(name)
    _write_owned(course / "nbgrader_config.py",
                 "c = get_config()  # noqa: F821\n"
                 f"c.CourseDirectory.root = {str(course)!r}\n", entry)
    os.chmod(course, 0o700)
    _lab_settings(entry, ())
    _write_owned(Path(entry.pw_dir) / ".jupyter" / "nbgrader_config.py",
                 "c = get_config()  # noqa: F821\n"
                 f"c.CourseDirectory.root = {str(course)!r}\n", entry)
    return course


def _lab_settings(entry: pwd.struct_passwd, disabled: tuple[str, ...]) -> None:
    """JupyterLab for a class: a notebook starts its own kernel (no "Select Kernel" dialog
    when the kernel list loads late on a busy hub), no news pop-up (it would try the
    network), and the ``disabled`` plugins switched off."""
    jupyter = Path(entry.pw_dir) / ".jupyter"
    _write_owned(jupyter / "labconfig" / "page_config.json", json.dumps(
        {"disabledExtensions": dict.fromkeys((*disabled, NEWS_PLUGIN), True)}, indent=1), entry)
    _write_owned(jupyter / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
                 / "tracker.jupyterlab-settings",
                 json.dumps({"autoStartDefaultKernel": True}, indent=1), entry)


def setup_attendee(name: str) -> None:
    """An attendee's account, with nbgrader's instructor-only panels switched off."""
    entry = ensure_user(name)
    jupyter = Path(entry.pw_dir) / ".jupyter"
    _lab_settings(entry, INSTRUCTOR_LAB_PLUGINS)
    _write_owned(jupyter / "jupyter_server_config.json", json.dumps(
        {"ServerApp": {"jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS,
                                                            False)}}, indent=1), entry)


def add_class(settings: HubSettings, people: ClassList) -> None:
    """Folders, accounts and ``class.json`` for ``people``."""
    clash = set(people.attendees) & {people.instructor}
    if clash:
        raise ValueError(f"{people.instructor} is both instructor and attendee")
    make_folders(settings)
    setup_instructor(people.instructor)
    for name in people.attendees:
        setup_attendee(name)
    people.write(settings.class_file)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_utils.hub.accounts",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create the hub's folders and the class's accounts")
    add.add_argument("class_list", type=Path)
    add.add_argument("--instructor", required=True, help="the instructor's user name (admin)")
    add.add_argument("--passwords", type=Path, metavar="FILE",
                     help="set random passwords and write them to FILE (mode 0600)")
    remove = sub.add_parser("remove", help="delete the class list's users and their homes")
    remove.add_argument("class_list", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; errors become one line and exit status 1."""
    args = _parser().parse_args(argv)
    if os.geteuid() != 0:
        print("run this as root (sudo): it creates Linux users", file=sys.stderr)
        return 1
    for tool in ("useradd", "userdel", "chpasswd"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: install Debian's passwd package", file=sys.stderr)
            return 1
    settings = HubSettings()
    try:
        names = read_class_list(args.class_list)
        if args.command == "remove":
            for name in names:
                remove_user(name)
            print(f"removed {len(names)} users")
            return 0
        people = ClassList(args.instructor, tuple(n for n in names if n != args.instructor))
        add_class(settings, people)
        if args.passwords:
            passwords = set_passwords(list(people.everyone))
            args.passwords.touch(mode=0o600)
            os.chmod(args.passwords, 0o600)
            args.passwords.write_text("".join(f"{n} {p}\n" for n, p in passwords.items()))
            print(f"passwords written to {args.passwords} (mode 0600)")
    except (OSError, ValueError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{len(people.attendees)} attendees and instructor {people.instructor}; "
          f"class list in {settings.class_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
