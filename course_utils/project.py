"""Where the course lives: the one place that names its repository.

The setup cell of every generated notebook installs the course package from here on Colab,
and the README's Open-in-Colab links point here. Change it in this file only, then run
``course-utils build`` so the notebooks pick it up.
"""

REPO_URL = "https://github.com/bioimage-ml-workbook/workbook"
REPO_BRANCH = "main"


def pip_requirement() -> str:
    """The pip requirement that installs this course package straight from its repository."""
    return f"course-utils @ git+{REPO_URL}@{REPO_BRANCH}"


def colab_url(notebook_path: str) -> str:
    """An Open-in-Colab address for a notebook path inside the repository."""
    repo = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{REPO_BRANCH}/{notebook_path}"
