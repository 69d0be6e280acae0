"""What every handler is given besides its command and unit of work: the desk's rules and its people."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatops.config.rules import DeskConfig
from chatops.people.directory import Directory
from chatops.people.roles import Roles


@dataclass(frozen=True)
class Desk:
    """The rules (config), who is who (directory), who may do what (roles), and the tracker connected."""

    config: DeskConfig
    directory: Directory
    roles: Roles
    # The issue tracker the desk is connected to (its system name, such as "jira"), if any.
    tracker: str | None = None
    # People this process knows to be on record: no need to record them again.
    known: set[str] = field(default_factory=set)
