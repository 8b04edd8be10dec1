"""Print one of README.md's two front-door commands, exactly as written there.

    python3 .ci/readme_commands.py main   # installs and runs the main job
    python3 .ci/readme_commands.py test   # installs and runs the tests

Each is the one-line command of a ```bash block of the README's "Quick start" section: the
block that runs ``reawaken`` (main) and the block that runs ``pytest`` (test). .ci/run checks
its own copy of the commands against what this prints, and the fresh-environment test runs what
this prints, so the README cannot drift from what is checked.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def commands(text: str) -> dict[str, str]:
    """{"main": ..., "test": ...} from the README text; a missing one is an error."""
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]
    found = {}
    for block in blocks:
        if "pytest" in block:
            found.setdefault("test", block)
        elif "reawaken " in block:
            found.setdefault("main", block)
    if set(found) != {"main", "test"} or any("\n" in c for c in found.values()):
        raise SystemExit("README.md: Quick start needs one-line ```bash blocks: main job, tests")
    return found


if __name__ == "__main__":
    print(commands(README.read_text())[sys.argv[1]])
