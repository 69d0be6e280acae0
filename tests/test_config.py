"""Configuration: the documented file loads; a bad one is refused at start-up naming the file and key."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import adapters.slack
from chatops.config.loading import load_desk_config
from chatops.config.settings import load_settings
from chatops.errors import ConfigError
from harness import CONFIG_PATH

DEMO_CONFIG_PATH = Path(adapters.slack.__file__).with_name("demo.yaml")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chatops.yaml"
    path.write_text(text)
    return path


def test_the_documented_config_loads() -> None:
    config = load_desk_config(CONFIG_PATH)

    assert [t.id for t in config.teams] == ["support", "billing"]
    assert config.priority("urgent").first_response == timedelta(minutes=15)
    assert config.priority("low").resolution == timedelta(days=7)
    assert config.vip_users == ["U0VIP"]


def test_the_demo_config_loads() -> None:
    config = load_desk_config(DEMO_CONFIG_PATH)

    assert config.team("support").slack_channel == "C0SUPPORT"
    assert config.team("support").agents == ["alice", "U0AGENT2"]
    assert (config.people[0].id, config.people[0].slack) == ("alice", "U0AGENT1")


def test_private_channels_and_enterprise_grid_users_are_ids_too(tmp_path: Path) -> None:
    text = CONFIG_PATH.read_text().replace("C0BILLING", "G0BILLING").replace("U0BILL1", "W0BILL1")

    config = load_desk_config(write(tmp_path, text))

    assert config.team("billing").slack_channel == "G0BILLING"
    assert config.team("billing").agents == ["W0BILL1"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("default_team: support", "default_team: sales"), "default_team: 'sales' is not one of the teams"),
        (
            ("first_response: 15m", "first_response: soon"),
            "priorities[0].first_response: 'soon' is not a duration",
        ),
        (("team: billing}", "team: finance}"), "categories[0].team: 'finance' is not one of the teams"),
        (
            ("default_priority: normal", "default_priority: meh"),
            "default_priority: 'meh' is not one of the priorities",
        ),
        (
            ("    slack_channel: C0BILLING\n", ""),
            "teams[1]: team 'billing' needs a slack_channel, a teams_channel or both",
        ),
        (
            ("vip_users: [U0VIP]", "vip_users: [U0VIP]\nvip_user: [U0X]"),
            "vip_user: Extra inputs are not permitted",
        ),
        (("  - id: billing\n    name", "  - id: support\n    name"), "teams[1].id: 'support' is used twice"),
        (("command: /ticket", "command: ticket"), "slack.command: String should match pattern"),
        (
            ("slack_channel: C0SUPPORT", "slack_channel: '#support'"),
            "teams[0].slack_channel: '#support' is not a channel id; ids look like C0123ABCD or G0123ABCD "
            "(in Slack: channel name -> View channel details -> the id at the bottom)",
        ),
        (
            ("slack_channel: C0BILLING", "slack_channel: billing"),
            "teams[1].slack_channel: 'billing' is not a channel id",
        ),
        (
            ("slack_channel: C0SUPPORT", "slack_channel: D0DIRECT"),
            "teams[0].slack_channel: 'D0DIRECT' is not a channel id",
        ),
        (
            ("agents: [U0AGENT1, U0AGENT2]", "agents: [U0AGENT1, u0agent2]"),
            "teams[0].agents[1]: 'u0agent2' is not a user id; name a person of `people`, or give a Slack id "
            "such as U0123ABCD or W0123ABCD (in Slack: the person's profile -> \u22ee -> Copy member ID)",
        ),
        (("leads: [U0LEAD]", "leads: [Dana]"), "teams[0].leads[0]: 'Dana' is not a user id"),
        (("vip_users: [U0VIP]", "vip_users: ['@vip']"), "vip_users[0]: '@vip' is not a user id"),
        (
            ("first_response: 15m", "first_response: 0m"),
            "priorities[0].first_response: '0m' must be positive, such as 15m, 4h or 3d",
        ),
        (("resolution: 7d", "resolution: -1d"), "priorities[3].resolution: '-1d' must be positive"),
        (
            ("vip_users: [U0VIP]", "vip_users: [U0VIP]\nrequest_channels: [C0SUPPORT]"),
            "request_channels[0].channel: 'C0SUPPORT' is where teams[0].slack_channel posts its cards",
        ),
        (
            ("vip_users: [U0VIP]", "vip_users: [U0VIP]\nrequest_channels: [{channel: C0HELP, team: sales}]"),
            "request_channels[0].team: 'sales' is not one of the teams",
        ),
        (
            ("vip_users: [U0VIP]", "vip_users: [U0VIP]\nrequest_channels: ['#help']"),
            "request_channels[0].channel: '#help' is not a channel id; ids look like C0123ABCD",
        ),
        (
            ("vip_users: [U0VIP]", "vip_users: [U0VIP]\nconfirm_close_after: never"),
            "confirm_close_after: 'never' is not a duration",
        ),
        (
            ("vip_users: [U0VIP]", "vip_users: [U0VIP]\ncsat: {delay: -5m}"),
            "csat.delay: '-5m' must not be negative",
        ),
    ],
)
def test_a_bad_config_names_the_file_and_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    original = CONFIG_PATH.read_text()
    assert edit[0] in original
    path = write(tmp_path, original.replace(edit[0], edit[1], 1))

    with pytest.raises(ConfigError) as refused:
        load_desk_config(path)

    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^CHATOPS_CONFIG: '.*nope.yaml' does not exist"):
        load_desk_config(tmp_path / "nope.yaml")
    path = write(tmp_path, "teams: [unclosed")
    with pytest.raises(ConfigError) as refused:
        load_desk_config(path)
    assert str(refused.value) == (
        f"{path}: line 1, column 17: not valid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 1, column 8)"
    )


def test_a_bad_environment_variable_is_named_as_the_operator_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_TIMEOUT", "soon")

    with pytest.raises(ConfigError) as refused:
        load_settings()

    assert (
        str(refused.value)
        == "SLACK_TIMEOUT: 'soon' is not a positive number of seconds; set it to one such as 10"
    )


def test_the_web_api_base_keeps_its_last_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Slack's client joins method names onto the base like relative links.
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:8080/api")

    assert load_settings().slack_api_url == "http://127.0.0.1:8080/api/"


def run_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatops", "serve", "--port", "0"],
        # A token, so that only the mistake each test makes can stop serve.
        env={**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_to_start_on_a_bad_config(tmp_path: Path, database_url: str) -> None:
    path = write(tmp_path, CONFIG_PATH.read_text().replace("default_team: support", "default_team: sales"))

    done = run_serve({"CHATOPS_CONFIG": str(path), "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": database_url})

    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"chatops: {path}: default_team: 'sales' is not one of the teams ['billing', 'support']"
    )


def test_serve_refuses_to_start_without_a_signing_secret(database_url: str) -> None:
    done = run_serve(
        {"CHATOPS_CONFIG": str(CONFIG_PATH), "SLACK_SIGNING_SECRET": "", "DATABASE_URL": database_url}
    )

    assert done.returncode == 2
    assert done.stderr.startswith("chatops: SLACK_SIGNING_SECRET: not set; the bot refuses unsigned requests")
