"""One progress display for a study: the step running, the steps done, the time per step.

On a terminal one line is rewritten in place (and each finished step printed); when standard
error is not a terminal, plain lines; nothing with ``quiet``.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """Reports a study's steps on ``stream`` (standard error by default)."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()

    def _write(self, text: str) -> None:
        if not self.quiet:
            self.stream.write(text)
            self.stream.flush()

    def start(self, k: int, total: int, step: Any) -> None:
        if self.live:
            self._write(f"\r\033[K[{k}/{total}] {step.title} ...")

    def finish(self, k: int, total: int, step: Any, seconds: float, cached: bool) -> None:
        how = "cached" if cached else f"{seconds:.1f} s"
        line = f"[{k}/{total}] {step.title}: {how}"
        self._write(("\r\033[K" if self.live else "") + line + "\n")

    def note(self, text: str) -> None:
        self._write(("\r\033[K" if self.live else "") + text + "\n")
