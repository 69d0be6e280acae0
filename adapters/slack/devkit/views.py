"""The modals and App Home tabs of a Slack stand-in, and the views.* methods that open and change them."""

import copy
import time
from typing import Any

from adapters.slack.devkit.refusal import Refusal


class Views:
    """Views opened, pushed or updated, by view id; callers hold the lock."""

    def __init__(self, *, team_id: str, bot_id: str, app_id: str) -> None:
        self.team_id, self.bot_id, self.app_id = team_id, bot_id, app_id
        self.stored: dict[str, dict] = {}
        self._counter = 0

    def clear(self) -> None:
        """Forget every view (view ids keep increasing)."""
        self.stored.clear()

    def store(self, params: dict[str, Any], *, needs_trigger: bool) -> dict[str, Any]:
        """views.open / views.push / views.update: validate and keep the view."""
        view = params.get("view")
        if needs_trigger and not (params.get("trigger_id") or params.get("interactivity_pointer")):
            raise Refusal("invalid_trigger_id")
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            raise Refusal("invalid_arguments")
        if needs_trigger:
            self._counter += 1
            view_id = f"V{self._counter:08d}"
        else:
            external_id = params.get("external_id")
            known = {v["external_id"]: v["id"] for v in self.stored.values() if v.get("external_id")}
            view_id = params.get("view_id") or known.get(external_id)
            if view_id is None:
                raise Refusal("not_found")
        stored = {
            "team_id": self.team_id,
            "state": {"values": {}},
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            "clear_on_close": False,
            "notify_on_close": False,
            **copy.deepcopy(view),
            "id": view_id,
            "hash": f"{time.time_ns()}.{view_id}",
        }
        self.stored[view_id] = stored
        return {"view": copy.deepcopy(stored)}
