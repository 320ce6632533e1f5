"""Named sections of docs/performance.md that a benchmark scenario rewrites on its own.

``make bench`` writes its main section between the ``bench:begin``/``bench:end`` markers; a scenario that can
also run alone (``--only NAME``) writes between ``<!-- bench:NAME begin -->`` and ``<!-- bench:NAME end -->``,
so running one scenario again replaces its own numbers and leaves every other section as it was. A section not
in the file yet is appended at its end. Text outside the markers is hand-written and kept.
"""

from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    return (f"<!-- bench:{name} begin (written by `make bench`; edits here are overwritten) -->",
            f"<!-- bench:{name} end -->")


def write_section(path: Path, name: str, markdown: str) -> None:
    """Replace section ``name`` of ``path`` with ``markdown`` (markers added here), or append it."""
    begin, end = markers(name)
    replace_between(path, begin, end, f"{begin}\n\n{markdown.strip()}\n\n{end}")


def replace_between(path: Path, begin: str, end: str, body: str) -> None:
    """Put ``body`` (which carries its own markers) where ``begin``...``end`` stands in ``path``, or append it."""
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + body + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    path.write_text(text)
