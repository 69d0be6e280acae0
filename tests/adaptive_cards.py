"""Adaptive Cards checked by Microsoft's own parser, run under Node, for the Teams tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).parent / "node"
VALIDATOR = NODE_DIR / "validate_card.js"
INSTALL = "npm install --prefix tests/node"


def problems(card: dict[str, Any]) -> list[str]:
    """Every parse and validation problem the Adaptive Cards parser finds in a card (none: an empty list)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node is needed to check Adaptive Cards: install Node 20, then run " + INSTALL)
    if not (NODE_DIR / "node_modules" / "adaptivecards").is_dir():
        # Failing, not skipping: a card nobody checked must not pass for one that was.
        pytest.fail(f"the Adaptive Cards parser is not installed: run `{INSTALL}` from the repository root")
    done = subprocess.run(
        [node, str(VALIDATOR)],
        input=json.dumps(card),
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=60,
        check=False,
    )
    try:
        found = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"the card validator failed (exit {done.returncode}): {done.stderr.strip() or done.stdout}"
        )
    if done.returncode not in (0, 1) or (done.returncode == 1) != bool(found):
        pytest.fail(f"the card validator failed (exit {done.returncode}): {found} {done.stderr.strip()}")
    return [str(problem) for problem in found]
