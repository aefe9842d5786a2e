"""The README's examples for other libraries (plain ```python blocks in "Arrays from other
libraries") run here, each skipped with its reason when its library is not installed."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples() -> dict[str, str]:
    text = README.read_text()
    section = text.split("## Arrays from other libraries", 1)[1].split("\n## ", 1)[0]
    out = {}
    for part in section.split("\n### ")[1:]:
        name = part.split("\n", 1)[0].strip()
        blocks = re.findall(r"^```python\n(.*?)^```", part, flags=re.S | re.M)
        assert len(blocks) == 1, f"one example per library ({name})"
        out[name] = blocks[0]
    return out


EXAMPLES = _examples()
MODULE = {"dask": "dask.array", "torch": "torch", "JAX": "jax"}


def test_every_library_has_an_example():
    assert set(EXAMPLES) == set(MODULE)


@pytest.mark.parametrize("name", sorted(MODULE))
def test_example_runs(name, capsys):
    top = MODULE[name].split(".")[0]
    if importlib.util.find_spec(top) is None:
        pytest.skip(f"{top} is not installed")
    exec(compile(EXAMPLES[name], f"README.md ({name})", "exec"), {})
    assert capsys.readouterr().out.strip()
