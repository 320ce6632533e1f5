"""Headless Chromium for the report tests: the page as the browser rendered it (DOM after layout), as text."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

# The machine doc's flags: no network side traffic, no first-run work, a fresh profile per call.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def rendered(page: Path, *, screenshot: Path | None = None) -> str:
    """The DOM Chromium built from ``page`` (``--dump-dom``); with ``screenshot``, also a PNG of it."""
    binary = chromium()
    assert binary, "chromium is not installed (make test installs Debian's chromium package)"
    with tempfile.TemporaryDirectory(prefix="pendo-chromium-") as profile:
        args = [binary, *FLAGS, f"--user-data-dir={profile}"]
        dom = subprocess.run([*args, "--dump-dom", page.resolve().as_uri()], capture_output=True, text=True,
                             timeout=120, check=True).stdout
        if screenshot is not None:
            subprocess.run([*args, f"--screenshot={screenshot}", "--window-size=1280,5000",
                            page.resolve().as_uri()], capture_output=True, timeout=120, check=True)
    return dom


def visible_text(dom: str) -> str:
    """Text of the rendered page: tags and SVG tooltips dropped, entities decoded, whitespace collapsed."""
    body = re.sub(r"<(style|title)\b[^>]*>.*?</\1>", " ", dom, flags=re.DOTALL | re.IGNORECASE)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
