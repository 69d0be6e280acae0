"""Starting a desk with Jira: each operator mistake is one line naming the setting, before anything
is served; a Jira that does not answer is said, and the desk serves all the same."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from jira_fixtures import JIRA_API_TOKEN, JIRA_USER, WEBHOOK_SECRET, with_jira

from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.settings import Settings
from harness import CONFIG_PATH, serve_until_it_stops
from integrations.jira.devkit.standin import JiraStandIn


def serve(settings: Settings, config: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return serve_until_it_stops(settings, CHATOPS_CONFIG=str(config), **variables)


def connected(jira: JiraStandIn, **changes: str) -> dict[str, str]:
    values = {
        "JIRA_URL": jira.base_url,
        "JIRA_USER": JIRA_USER,
        "JIRA_API_TOKEN": JIRA_API_TOKEN,
        "JIRA_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    return {**values, **changes}


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    """What the operator is told as serve stops: its last line (log lines of the start may come before)."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr.strip().splitlines()[-1]


def test_rules_with_a_jira_section_need_jira_url(
    settings: Settings, tmp_path: Path, standin: SlackStandIn
) -> None:
    line = last_line(serve(settings, with_jira(CONFIG_PATH, tmp_path)))

    assert line.startswith("chatops: JIRA_URL: not set, but the desk's config has a jira section")
    assert standin.calls() == []


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("JIRA_WEBHOOK_SECRET", "JIRA_WEBHOOK_SECRET"),
        ("JIRA_API_TOKEN", "JIRA_API_TOKEN"),
        ("JIRA_USER", "JIRA_USER"),
    ],
)
def test_a_half_configured_jira_is_named(
    settings: Settings, tmp_path: Path, jira: JiraStandIn, missing: str, named: str
) -> None:
    line = last_line(serve(settings, with_jira(CONFIG_PATH, tmp_path), **connected(jira, **{missing: ""})))

    assert line.startswith(f"chatops: {named}: not set while JIRA_URL is")
    assert jira.calls() == []


def test_a_refused_token_and_a_missing_issue_type_are_named(
    settings: Settings, tmp_path: Path, jira: JiraStandIn
) -> None:
    rules = with_jira(CONFIG_PATH, tmp_path)
    refused = last_line(serve(settings, rules, **connected(jira, JIRA_API_TOKEN="wrong")))
    epic = {"bug": {"project": "SUP", "issue_type": "Epic"}}
    missing = last_line(serve(settings, with_jira(CONFIG_PATH, tmp_path, categories=epic), **connected(jira)))

    assert refused.startswith("chatops: JIRA_API_TOKEN (with JIRA_USER): Jira refused the credentials")
    assert missing == "chatops: jira.categories.bug: project SUP has no issue type 'Epic' (it has Bug, Task)"
