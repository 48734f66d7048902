"""nbgrader's Execute step with verdicts the submission cannot forge, and a deadline.

nbgrader scores a check cell by whether it raised *in the student's kernel*: a submission that
redefines ``check`` or patches the Checker scores full marks. :class:`JudgedExecute` never sends
a check cell to the kernel. For each ``check("name")`` in it, the grader runs the check module's
judging code in its own process (the code that gives students their inline ✓/✗), reading the
student's names and calling the student's functions through :mod:`course_utils.checks.remote`,
and writes the cell's outputs itself: a ✓ line, or the ✗ hint as an error, which nbgrader then
scores as usual. The kernel never sees the check cells' source, so hidden tests can't be
printed by the submission either. Every other cell runs as nbgrader runs it, but the notebook
as a whole has a wall-clock deadline, after which its kernel is killed and the remaining
cells are marked as not run.
"""

from __future__ import annotations

import ast
import math
import time
from queue import Empty
from typing import Any

from nbclient.exceptions import CellTimeoutError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Dict

from ..checks.core import CheckFailed, judge, load_checks
from ..checks.remote import Channel, RemoteNamespace
from ..checks.wire import MAX_BYTES
from .execute import CHECK_CALL

AGENT = "__import__('course_utils.checks.agent', fromlist=['serve']).serve"
INTERRUPT_GRACE = 5  # seconds a kernel gets to answer after an interrupt
DEADLINE_ERROR = "SubmissionDeadline"  # a cell left unrun: the notebook was stopped
CELL_TIMEOUT = "CellTimeoutError"  # nbclient's name for a cell that ran past its timeout


def is_check_cell(cell: NotebookNode) -> bool:
    """An autograder-test cell: graded, locked and not an answer."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def checker_of(solution: NotebookNode) -> dict:
    """What the grader judges a notebook with, read from the instructor's solution.

    ``name`` and ``module`` of its ``Checker("NN_name", globals(), module=...)`` (literal
    arguments only), and ``cells``: the checks each check cell calls, by grade_id. Never read
    from the submission (whose plain cells the student may edit) nor from the cells as they
    are executed (restored from the gradebook, which must not be trusted either).
    """
    cells = {cell.metadata.nbgrader["grade_id"]: [m.group(2) for m in
                                                    CHECK_CALL.finditer(cell.source)]
             for cell in solution.cells if is_check_cell(cell)}
    return {**_checker_call(solution), "cells": cells}


def _checker_call(solution: NotebookNode) -> dict[str, str | None]:
    """``name`` and ``module`` of the solution's Checker(...) call."""
    for cell in solution.cells:
        if cell.cell_type != "code" or "Checker(" not in cell.source:
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Checker"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                module = next((ast.literal_eval(k.value) for k in node.keywords
                               if k.arg == "module"), None)
                return {"name": str(node.args[0].value), "module": module}
    raise ValueError("the solution notebook creates no Checker")


class JudgedExecute(Execute):
    """Execute that judges check cells in the grader and stops a submission at its deadline."""

    notebooks = Dict(help="notebook -> {'name', 'module', 'cells', 'deadline'}: its checks "
                          "(see checker_of) and the seconds the whole notebook may take "
                          "(0: no deadline)").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
        """Run the notebook; its check cells are judged here, and its time is bounded."""
        key = (resources or {}).get("unique_key", "")
        self._settings = self.notebooks.get(key, {})
        self._specs = None
        self._started = time.monotonic()
        self._killed = False
        self._why = ""
        self._cell_timeout = self.timeout
        return super().preprocess(nb, resources, km)

    # --- time ---------------------------------------------------------------------------

    def _remaining(self) -> float | None:
        deadline = float(self._settings.get("deadline") or 0)
        return None if deadline <= 0 else deadline - (time.monotonic() - self._started)

    def _kill(self) -> None:
        """Kill the kernel once (through its launcher, so the template kills its group)."""
        if not self._killed and self.km is not None:
            self._killed = True
            self._sync(self.km.shutdown_kernel(now=True))

    def _sync(self, awaitable: Any) -> Any:
        from nbclient.util import ensure_async, run_sync

        async def wait() -> Any:
            return await ensure_async(awaitable)

        return run_sync(wait)()

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int):
        """A check cell is judged; any other cell runs in the kernel within the deadline."""
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        remaining = self._remaining()
        if remaining is not None and remaining <= 0 and not self._killed:
            seconds = float(self._settings.get("deadline") or 0)
            self._stop(f"the notebook passed its {seconds:.0f} s grading deadline")
        if self._killed:
            cell.outputs = [new_output("error", ename=DEADLINE_ERROR, evalue=self._why,
                                       traceback=[f"{DEADLINE_ERROR}: {self._why}"])]
            return cell, self.resources
        if is_check_cell(cell):
            self._judge_cell(cell)
            return cell, self.resources
        self.timeout = self._cell_timeout if remaining is None else max(
            1, math.ceil(min(self._cell_timeout or remaining, remaining)))
        try:
            return super().preprocess_cell(cell, resources, index)
        except CellTimeoutError:  # interrupted, and still busy: the kernel ignores interrupts
            cell.outputs.append(new_output("error", ename=CELL_TIMEOUT, evalue="", traceback=[
                f"{CELL_TIMEOUT}: interrupted after {self.timeout} s, and it did not stop"]))
            self._stop("the kernel did not stop when interrupted")
            return cell, self.resources

    def _stop(self, why: str) -> None:
        """Kill the kernel; the cells left are not run and say ``why``."""
        self._why = f"not run: {why}"
        self._kill()

    # --- judging ------------------------------------------------------------------------

    def _judge_cell(self, cell: NotebookNode) -> None:
        """Judge each check the solution's cell calls, in order; the first failure ends it."""
        if self._specs is None:
            self._specs = load_checks(self._settings["name"], self._settings.get("module"))
        namespace = RemoteNamespace(Channel(self._ask))
        cell.outputs = []
        grade_id = cell.metadata.nbgrader.get("grade_id")
        for name in self._settings["cells"].get(grade_id, [f"(unknown check cell {grade_id})"]):
            spec = self._specs.get(name)
            passed, message = (False, f"no check {name!r}") if spec is None else judge(
                spec, namespace)
            if not passed:
                cell.outputs.append(new_output("error", ename=CheckFailed.__name__,
                                               evalue=message, traceback=[f"✗ {message}"]))
                return
            cell.outputs.append(new_output("stream", name="stdout", text=f"✓ {name}: {message}\n"))

    def _ask(self, message: str) -> str:
        """One request to the kernel's agent, answered within the cell timeout and deadline."""
        limits = [t for t in (self._cell_timeout, self._remaining()) if t is not None]
        timeout = max(1.0, min(limits)) if limits else None
        if self._killed:
            raise TimeoutError("the kernel was stopped")
        return self._sync(self._async_ask(message, timeout))

    async def _async_ask(self, message: str, timeout: float | None) -> str:
        expression = f"{AGENT}({message!r})"
        msg_id = self.kc.execute("", silent=True, store_history=False, allow_stdin=False,
                                 user_expressions={"answer": expression})
        reply = await self._reply(msg_id, timeout)
        if reply is None:
            await self._interrupt(msg_id)
            raise TimeoutError(f"no answer within {timeout:.0f} s (an endless loop?)")
        content = reply["content"]
        result = content.get("user_expressions", {}).get("answer", {})
        if content.get("status") != "ok" or result.get("status") != "ok":
            raise RuntimeError("the kernel could not answer: "
                               f"{result.get('ename') or content.get('ename')}")
        try:
            shown = result["data"]["text/plain"]
            text = ast.literal_eval(shown) if len(shown) <= 2 * MAX_BYTES else None
        except (KeyError, ValueError, SyntaxError, TypeError, MemoryError):
            text = None
        if not isinstance(text, str):
            raise RuntimeError("the kernel's answer was not readable")
        return text

    async def _reply(self, msg_id: str, timeout: float | None) -> dict | None:
        """The shell reply to ``msg_id``, or None when ``timeout`` passes first."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return None
            try:
                reply = await self.kc.shell_channel.get_msg(timeout=left)
            except (TimeoutError, Empty):
                return None
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply

    async def _interrupt(self, msg_id: str) -> None:
        """Interrupt a request that ran too long; kill the kernel if it ignores that too."""
        from nbclient.util import ensure_async

        await ensure_async(self.km.interrupt_kernel())
        if await self._reply(msg_id, INTERRUPT_GRACE) is None:
            self._killed, self._why = True, "not run: the kernel did not stop when interrupted"
            await ensure_async(self.km.shutdown_kernel(now=True))
