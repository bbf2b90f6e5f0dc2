"""The public surface is exactly what docs/design.md documents, and every public name explains itself."""

from __future__ import annotations

import functools
import inspect
import re
from pathlib import Path
from typing import Any

import mailtrap_lite

DESIGN = Path(__file__).parent.parent / "docs" / "design.md"
SECTION = "## 5. The public surface"
ROW = re.compile(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|")


def documented_names() -> list[str]:
    """The names in the table of the design document's public-surface section, in table order."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [match.group(1) for line in section.splitlines() if (match := ROW.match(line))]


def own_docstring(obj: Any) -> str:
    """The object's own docstring: not inherited, and not the signature dataclasses write when there is none."""
    if inspect.isclass(obj):
        doc = vars(obj).get("__doc__") or ""
        return "" if doc.startswith(f"{obj.__name__}(") else doc.strip()
    return (getattr(obj, "__doc__", None) or "").strip()


def public_members(cls: type) -> dict[str, Any]:
    """Public methods and properties defined by ``cls`` and by its mailtrap-lite base classes."""
    members: dict[str, Any] = {}
    for owner in reversed(cls.__mro__):
        if not owner.__module__.startswith("mailtrap_lite"):
            continue
        for name, value in vars(owner).items():
            if name.startswith("_"):
                continue
            if isinstance(value, property):
                members[name] = value.fget
            elif isinstance(value, functools.cached_property):
                members[name] = value.func
            elif isinstance(value, (staticmethod, classmethod)):
                members[name] = value.__func__
            elif inspect.isfunction(value):
                members[name] = value
    return members


def test_all_is_exactly_the_documented_surface() -> None:
    documented = documented_names()
    assert documented, f"no public-surface table found under {SECTION!r} in {DESIGN}"
    assert sorted(mailtrap_lite.__all__) == sorted(documented)


def test_all_is_sorted_and_every_name_imports() -> None:
    assert list(mailtrap_lite.__all__) == sorted(mailtrap_lite.__all__)
    missing = [name for name in mailtrap_lite.__all__ if not hasattr(mailtrap_lite, name)]
    assert missing == []


def test_every_public_name_has_a_docstring() -> None:
    undocumented = [
        name
        for name in mailtrap_lite.__all__
        if name != "__version__" and not own_docstring(getattr(mailtrap_lite, name))
    ]
    assert undocumented == []


def test_every_public_method_of_a_public_class_has_a_docstring() -> None:
    undocumented = [
        f"{name}.{member}"
        for name in mailtrap_lite.__all__
        if inspect.isclass(cls := getattr(mailtrap_lite, name))
        for member, function in public_members(cls).items()
        if not (function.__doc__ or "").strip()
    ]
    assert undocumented == []
