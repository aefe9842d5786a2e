"""The README's interactive examples (fenced blocks with ``>>>``) run as doctests.

A README example that drifts from the code fails here, not in a user's shell.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import numpy as np
import pytest

from fastreg import backend

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[tuple[int, str]]:
    """(line number, text) of every fenced block that holds a ``>>>`` prompt."""
    text = README.read_text()
    out = []
    for m in re.finditer(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M):
        if ">>>" in m.group(1):
            out.append((text.count("\n", 0, m.start(1)) + 1, m.group(1)))
    return out


BLOCKS = _blocks()


def test_readme_has_examples() -> None:
    assert BLOCKS, "README.md has no >>> examples"


@pytest.mark.parametrize("lineno, text", BLOCKS, ids=[f"line{n}" for n, _ in BLOCKS])
def test_readme_example(lineno: int, text: str) -> None:
    test = doctest.DocTestParser().get_doctest(text, {"np": np}, "README.md", str(README), lineno)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    before = backend.floatx()
    try:
        runner.run(test)
    finally:
        backend.set_floatx(before)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"README.md example at line {lineno} failed (output above)"
