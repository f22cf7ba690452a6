"""Every module says what it holds in its first line, and every public function, class and
method has a docstring (the README's promise to analysts reading help())."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import kit

SKIP_METHODS = {"__init__", "__enter__", "__exit__", "__repr__"}


def kit_modules() -> list:
    """Every module of the kit package, imported."""
    return [importlib.import_module(info.name)
            for info in pkgutil.walk_packages(kit.__path__, "kit.")]


def test_every_module_has_a_docstring():
    """A module's first line says what it holds."""
    assert [m.__name__ for m in kit_modules() if not (m.__doc__ or "").strip()] == []


def test_every_public_function_class_and_method_has_a_docstring():
    """help() on anything public tells what it returns or does."""
    missing = []
    for module in kit_modules():
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) and not obj.__doc__:
                missing.append(f"{module.__name__}.{name}")
            if inspect.isclass(obj):
                if not obj.__doc__:
                    missing.append(f"{module.__name__}.{name}")
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or attr in SKIP_METHODS:
                        continue
                    func = member.fget if isinstance(member, property) else member
                    if inspect.isfunction(func) and not func.__doc__:
                        missing.append(f"{module.__name__}.{name}.{attr}")
    assert missing == []
