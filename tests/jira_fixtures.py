"""The Jira stand-in as fixtures, and the test desk's rules with a jira section, for the Jira tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from integrations.jira.devkit.standin import JiraStandIn

WEBHOOK_SECRET = "jira-webhook-secret"
JIRA_USER = "bot@example.com"
JIRA_API_TOKEN = "jira-api-token"
RULES: dict[str, Any] = {
    "categories": {
        "bug": {"project": "SUP", "issue_type": "Bug", "labels": ["from-support"]},
        "feedback": {"project": "PROD", "issue_type": "Story", "labels": ["customer-feedback"]},
    },
    "status_map": {"Done": "resolved", "In Progress": "in_progress", "Won't Do": "closed"},
    "public_comment_prefix": "[customer]",
    "reconcile_minutes": 10,
}


def with_jira(config: Path, folder: Path, *, product: dict[str, str] | None = None, **rules: Any) -> Path:
    """A copy of a desk's rules with a jira section (RULES, updated with `rules`) and product places."""
    raw = yaml.safe_load(config.read_text())
    raw["jira"] = {**RULES, **rules}
    raw["product"] = product if product is not None else {"slack_channel": "C0PRODUCT"}
    path = folder / f"{config.stem}-jira.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def jira_settings(standin: JiraStandIn) -> dict[str, Any]:
    """The environment that connects a desk to the stand-in."""
    return {
        "jira_url": standin.base_url,
        "jira_user": JIRA_USER,
        "jira_api_token": JIRA_API_TOKEN,
        "jira_webhook_secret": WEBHOOK_SECRET,
        "jira_timeout": 1.0,
    }


@pytest.fixture
def jira() -> Iterator[JiraStandIn]:
    with JiraStandIn(user=JIRA_USER, api_token=JIRA_API_TOKEN) as running:
        yield running
