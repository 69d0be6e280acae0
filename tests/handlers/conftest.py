"""Fixtures of the fast tier: the bus and its handlers on a real database, no HTTP, no platform."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from world import World, empty_schema, rules

from chatops.config.rules import DeskConfig


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schema") / "template.db"


@pytest.fixture
def world_with(database_url: str, schema_template: Path) -> Iterator[Callable[..., World]]:
    """Build the world on this test's database with rules of the test's own (and a tracker, if named)."""
    empty_schema(database_url, schema_template)
    built: list[World] = []

    def build(config: DeskConfig, tracker: str | None = None) -> World:
        built.append(World(database_url, config, tracker))
        return built[-1]

    yield build
    for desk in built:
        desk.close()


@pytest.fixture
def world(world_with: Callable[..., World]) -> World:
    return world_with(rules())
