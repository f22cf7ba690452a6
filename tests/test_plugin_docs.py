"""The plugin API stays honest (datasette's two tests): every hook in kit/carriers/hookspecs.py is
documented in docs/plugins.md under a `name(args)` heading matching its signature, with when it is
called and an example, and every hook has a test named for it; the conformance checks are all
documented; the docs' code compiles; the plugin-writing notebook runs top to bottom."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kit.carriers import hookspecs
from kit.carriers.testing import ConformanceTests

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
NOTEBOOK = ROOT / "notebooks" / "writing_a_carrier_plugin.ipynb"
HEADING = re.compile(r"^#{2,3} (\w+)\(([^)]*)\)\s*$", re.MULTILINE)


def hooks() -> dict[str, list[str]]:
    """Every hook spec, with its parameter names."""
    return {name: list(inspect.signature(func).parameters)
            for name, func in vars(hookspecs).items() if hasattr(func, "kit_spec")}


def documented() -> dict[str, list[str]]:
    """Every `## name(args)` heading of docs/plugins.md, with its argument names."""
    return {name: [a.strip() for a in args.split(",") if a.strip()]
            for name, args in HEADING.findall(DOCS.read_text("utf-8"))}


def sections() -> dict[str, str]:
    """The text under each hook heading, up to the next heading."""
    text = DOCS.read_text("utf-8")
    marks = list(HEADING.finditer(text))
    return {m.group(1): text[m.end():text.find("\n#", m.end())] for m in marks}


def test_there_are_hooks():
    """The spec module holds the five hooks the design names, and the notifier of issue 6."""
    assert sorted(hooks()) == ["adjust_quote", "on_shipment_event", "rate_tables",
                               "register_carriers", "send_notice", "tracking_patterns"]


@pytest.mark.parametrize("hook", sorted(hooks()))
def test_every_hook_is_documented_with_its_signature(hook):
    """docs/plugins.md has a `name(args)` heading naming exactly the spec's arguments."""
    assert documented().get(hook) == hooks()[hook]


def test_every_documented_hook_exists():
    """No heading documents a hook that hookspecs.py does not have (renamed or removed)."""
    assert set(documented()) - set(hooks()) == set()


@pytest.mark.parametrize("hook", sorted(hooks()))
def test_every_hook_section_says_when_and_shows_an_example(hook):
    """Each hook's section says when it is called and holds a Python example using it."""
    text = sections()[hook]

    assert "**When:**" in text
    assert re.search(rf"```python\n.*def {hook}\(", text, re.DOTALL)


@pytest.mark.parametrize("hook", sorted(hooks()))
def test_every_hook_has_a_test(hook):
    """Some test function in tests/ is named for the hook."""
    others = [p for p in sorted((ROOT / "tests").glob("test_*.py")) if p.name != Path(__file__).name]
    names = [node.name for path in others
             for node in ast.walk(ast.parse(path.read_text("utf-8")))
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]

    assert [n for n in names if hook in n], f"no test named for {hook}"


def test_every_conformance_test_is_documented():
    """The docs' table names each test a ConformanceTests subclass runs."""
    text = DOCS.read_text("utf-8")
    tests = [name for name in vars(ConformanceTests) if name.startswith("test_")]

    assert len(tests) == 11
    assert [t for t in tests if f"`{t}`" not in text] == []


def test_the_python_in_the_docs_compiles():
    """Every ```python block of docs/plugins.md is valid Python."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text("utf-8"), re.DOTALL)

    assert len(blocks) >= 6
    for block in blocks:
        compile(block, str(DOCS), "exec")


@pytest.mark.slow
def test_the_plugin_writing_notebook_runs_top_to_bottom():
    """The notebook registers its plugin, uses it and passes the conformance kit, without error."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs were saved"

    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "passed   declaration" in printed and "failed" not in printed
