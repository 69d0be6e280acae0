"""The Teams stand-ins as pytest fixtures: a test certificate authority and an identity provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.teams.devkit.authority import IdentityProvider
from adapters.teams.devkit.tls import LocalCA


@pytest.fixture(scope="module")
def ca() -> Iterator[LocalCA]:
    """A certificate authority made for the module's tests."""
    with LocalCA() as made:
        yield made


@pytest.fixture
def identity(ca: LocalCA) -> Iterator[IdentityProvider]:
    """The Bot Framework's and Entra's look-alike, served over https."""
    with IdentityProvider(ca) as served:
        yield served
