"""Interpretation questions: multiple choice, judged by a per-question salted hash.

A question asks what a result *means*; the student sets a variable to the letter of an
answer. The check accepts only one of the question's letters, and compares
``salted_hash("<notebook>:<question>:<letter>")`` with the stored hash, so neither the letter
nor a table of hashes shared by all questions is in this package. The hash hides the answer
from a reader of the source, not from a student who tries every letter with the inline check:
four letters are four tries. We accept that (a question is worth 1 point and its ✗ hint
teaches the idea each time); see docs/AUTHORING.md, "Interpretation questions".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from .core import expect, matches_hash, register, salted_hash

LETTERS = "abcdefgh"


def answer_hash(notebook: str, name: str, letter: str) -> str:
    """The stored hash of ``letter`` as the answer of question ``name`` of ``notebook``."""
    return salted_hash(f"{notebook}:{name}:{letter.strip().lower()}")


def question(notebook: str, name: str, variable: str, n_choices: int, expected: str,
             hint: str, why: str) -> Callable:
    """Register question ``name``: ``variable`` must hold the letter whose hash is ``expected``.

    ``hint`` is shown for any wrong letter: it explains the idea the question is about, never
    which letter is right. ``why`` is shown with the ✓.
    """
    letters = LETTERS[:n_choices]
    choices = ", ".join(f'"{c}"' for c in letters)

    def judge_answer(**given: object) -> None:
        value = given[variable]
        expect(isinstance(value, str) and value.strip().lower() in letters,
               f"Set `{variable}` to one of the letters {choices}, as a string in quotes "
               f"(got {value!r}).")
        expect(matches_hash(f"{notebook}:{name}:{value.strip().lower()}", expected), hint)

    judge_answer.__signature__ = inspect.Signature(  # the Checker reads `variable` by name
        [inspect.Parameter(variable, inspect.Parameter.KEYWORD_ONLY)])
    judge_answer.__name__ = judge_answer.__qualname__ = f"question_{name}"
    return register(notebook, name, why=why)(judge_answer)
