"""examples/README.md shows real code: every snippet is copied from an example, every example is listed."""

from __future__ import annotations

import re
from pathlib import Path

EXAMPLES = Path(__file__).parent
README = EXAMPLES / "README.md"
SNIPPET = re.compile(r"```python\n(.*?)```", re.DOTALL)


def examples_section() -> str:
    """The "Examples on real apps" section of examples/README.md, up to the next section."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Examples on real apps\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def example_folders() -> list[Path]:
    """Every example: a folder under examples/ (caches and hidden folders aside)."""
    return sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def test_every_snippet_is_code_from_an_example() -> None:
    sources = "\n".join(path.read_text(encoding="utf-8") for path in EXAMPLES.rglob("*.py"))
    snippets = SNIPPET.findall(examples_section())
    assert snippets, "no python snippets in the README's examples section"
    stale = [snippet.splitlines()[0] for snippet in snippets if snippet not in sources]
    assert stale == [], "snippets in the README's examples section no longer match the examples' code"


def test_every_example_is_listed_and_has_a_readme_and_tests() -> None:
    listed = examples_section()
    for folder in example_folders():
        assert f"[`{folder.name}/`]({folder.name}/)" in listed, f"{folder.name} is not in the table"
        assert (folder / "README.md").is_file(), f"{folder.name} has no README.md"
        assert list(folder.glob("test_*.py")), f"{folder.name} has no tests"
