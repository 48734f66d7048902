"""README stays true to the repository: its commands, notebooks and Colab links."""

import re
from pathlib import Path

from course_utils import project

REPO = Path(__file__).resolve().parent.parent

README = (REPO / "README.md").read_text()
SOURCES = sorted((REPO / "notebooks" / "source").glob("[0-9][0-9]_*.py"))


def test_readme_names_the_two_commands_and_ci_uses_them():
    assert "make lab" in README and "make test" in README
    ci = (REPO / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines()
                if line.strip() and not line.lstrip().startswith(("#", "if", "fi", "else", "echo",
                                                                   "set ", "cd ", "export"))]
    assert commands == ["make test"]


def test_every_notebook_has_a_row_and_the_right_colab_link():
    for source in SOURCES:
        stem = source.stem
        assert f"`{stem}`" in README, f"README does not describe {stem}"
        assert project.colab_url(f"notebooks/{stem}.ipynb") in README, f"Colab link of {stem}"


def test_colab_links_all_point_at_the_one_repository():
    links = re.findall(r"https://colab\.research\.google\.com/github/[^)\s]+", README)
    assert links, "README has no Open-in-Colab links"
    repo = project.REPO_URL.removeprefix("https://github.com/")
    assert all(f"/github/{repo}/blob/{project.REPO_BRANCH}/" in link for link in links)
    assert project.pip_requirement().split("@ ", 1)[1] in README


def _shell_blocks(text: str) -> list[str]:
    """The bash/sh/shell code blocks of a markdown text."""
    return re.findall(r"```(?:bash|sh|shell|console)\n(.*?)```", text, flags=re.S)


def test_documented_course_utils_commands_keep_their_exit_status():
    """No `course-utils ... | cmd` in the docs' shell examples, unless the block sets pipefail:
    a pipe reports the last command's status, so a failing fetch or verify would look fine."""
    docs = [REPO / "README.md", REPO / "deploy" / "README.md", *(REPO / "docs").glob("*.md")]
    piped = []
    for doc in docs:
        for block in _shell_blocks(doc.read_text()):
            if re.search(r"set -\w*o pipefail", block):
                continue
            piped += [f"{doc.name}: {line.strip()}" for line in block.splitlines()
                      if "course-utils" in line and re.search(r"(?<!\|)\|(?!\|)",
                                                              line.split("#")[0])]
    assert not piped, "pipes hide a failing exit status:\n" + "\n".join(piped)
