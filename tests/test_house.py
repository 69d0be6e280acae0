"""The shape of the house: modules small enough to read whole."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("chatops", "adapters", "commands", "integrations")
# A module past this holds more than one thing; it is split by what it holds.
MOST_LINES = 400


def test_no_module_of_the_shipped_packages_passes_four_hundred_lines() -> None:
    modules = [path for package in SHIPPED for path in (ROOT / package).rglob("*.py")]
    assert len(modules) > 100, "the packages were not found where the test looks"

    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }

    assert long == {}
