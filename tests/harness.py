"""The test harness: the desk served over real HTTP, a Slack stand-in, signed requests, database probes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from adapters.slack.devkit.cards import control
from adapters.slack.devkit.cards import version as card_version
from adapters.slack.devkit.requests import Response, SignedRequest, SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn
from chatops.bootstrap import build_desk, build_web_app
from chatops.config.loading import load_desk_config
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from chatops.store.db import normalize_url
from chatops.store.tables import (
    Base,
    ChatAddress,
    MessageCopy,
    OutboxMessage,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketMessage,
)

SIGNING_SECRET = "test-signing-secret"
CONFIG_PATH = Path(__file__).with_name("desk.yaml")
PG_ENV = "CHATOPS_TEST_DATABASE_URL"


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A new empty database: a SQLite file, or a PostgreSQL database when CHATOPS_TEST_DATABASE_URL is set."""
    server = os.environ.get(PG_ENV)
    if not server:
        yield f"sqlite:///{tmp_path / 'chatops.db'}"
        return
    name = f"chatops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def refusing_writes(database_url: str, *running: Engine) -> Iterator[None]:
    """The database refuses writes until the block ends: an immutable file, or a read-only PostgreSQL
    database. Only connections opened afterwards see the change, so the `running` engines start afresh
    on the way in and on the way out, as after a restart of the database."""
    _switch_writes(database_url, refuse=True)
    for engine in running:
        engine.dispose()
    try:
        yield
    finally:
        _switch_writes(database_url, refuse=False)
        for engine in running:
            engine.dispose()


def _switch_writes(database_url: str, *, refuse: bool) -> None:
    """Make the database refuse writes from new connections on, or take them again."""
    if not database_url.startswith("sqlite"):
        name = database_url.rsplit("/", 1)[1]
        change = "SET default_transaction_read_only = on" if refuse else "RESET default_transaction_read_only"
        # From the server's own database: a connection to this one may be read-only itself by then.
        admin = create_engine(normalize_url(os.environ[PG_ENV]), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" {change}'))
        admin.dispose()
        return
    path = database_url.removeprefix("sqlite:///")
    # The log too: a file's mode binds only later opens, and SQLite hands a new connection the database
    # file's descriptor that a closed one left behind while another (the checkpointer's) held it, still
    # writable. A new connection opens its own log, though, and one it cannot write takes no commit.
    files = [name for name in (path, f"{path}-wal") if name == path or os.path.exists(name)]
    if os.geteuid() != 0:
        for name in files:
            os.chmod(name, 0o444 if refuse else 0o644)
        return
    # Root ignores file modes; the immutable flag binds it too.
    done = subprocess.run(["chattr", "+i" if refuse else "-i", *files], capture_output=True, text=True)
    if done.returncode != 0 and refuse:
        pytest.skip(f"cannot make a file read-only for root here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr


def settings_for(database_url: str, slack_url: str, **overrides: Any) -> Settings:
    """Settings as the environment would give them to a test desk."""
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_url,
        "database_url": database_url,
        "chatops_config": str(CONFIG_PATH),
        "slack_timeout": 1.0,
    }
    values.update(overrides)
    return Settings(**values)


def serve_until_it_stops(settings: Settings, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run `chatops serve` with the settings' Slack, database and rules (and `variables` besides, Jira's
    taken only from there) until it exits, as an operator would see it: its output and exit status."""
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("JIRA_")},
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
        "SLACK_API_URL": settings.slack_api_url,
        "DATABASE_URL": settings.database_url,
        "CHATOPS_CONFIG": settings.chatops_config,
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-m", "chatops", "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def served_desk(settings: Settings) -> BackgroundServer:
    """The whole desk served on 127.0.0.1 (a free port) from a background thread."""
    return BackgroundServer(
        lambda: build_web_app(build_desk(settings, load_desk_config(settings.chatops_config)))
    )


class ServerProcess:
    """`chatops serve` as a separate process, for tests that kill it."""

    def __init__(
        self,
        settings: Settings,
        log: Path,
        *args: str,
        app_token: str = "",
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """`environment`: variables besides the settings' (trust anchors for the stand-ins, say)."""
        self.settings = settings
        self.args = args
        self.app_token = app_token
        self.environment = dict(environment or {})
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self._log_path = log
        self._log = log.open("w")

    def start(self) -> ServerProcess:
        env = dict(os.environ)
        # Every setting, Teams' and Jira's too, as the operator's environment would carry it.
        env.update({name.upper(): str(value) for name, value in self.settings.model_dump().items()})
        env.update(SLACK_APP_TOKEN=self.app_token, **self.environment)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatops",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--log-level",
                "WARNING",
                *self.args,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            self.process.kill()
            raise AssertionError(f"chatops serve did not start: {line!r} {self._log_path.read_text()}")
        self.url = match.group(1)
        return self

    def kill(self) -> None:
        """Die at once, as a crash or an OOM kill would."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()

    def terminate(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()


class Probe:
    """Reads the desk's database directly, as an operator would."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(normalize_url(database_url))

    def tickets(self) -> list[Ticket]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Ticket).order_by(Ticket.id)))

    def ticket(self, number: int) -> Ticket:
        with Session(self.engine) as session:
            ticket = session.get(Ticket, number)
            assert ticket is not None, f"ticket #{number} does not exist"
            return ticket

    def events(self, number: int) -> list[tuple[str, str, str | None, str | None]]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == number).order_by(TicketEvent.id)
            )
            return [(e.actor, e.action, e.from_value, e.to_value) for e in rows]

    def links(self, number: int) -> dict[tuple[str, str], tuple[str, str | None, str | None]]:
        """The ticket's links: (kind, system) -> (address, ref, url)."""
        with Session(self.engine) as session:
            rows = session.scalars(select(TicketLink).where(TicketLink.ticket_id == number))
            return {(r.kind, r.system): (r.address, r.ref, r.url) for r in rows}

    def pending_outbox(self) -> int:
        with Session(self.engine) as session:
            return (
                session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.done_at.is_(None))
                )
                or 0
            )

    def conversation(self, number: int) -> list[tuple[str, str, str, list[tuple[str, str, str]]]]:
        """The ticket's messages in order: (kind, text, where it was written, [where each copy landed])."""
        with Session(self.engine) as session:
            messages = session.scalars(
                select(TicketMessage).where(TicketMessage.ticket_id == number).order_by(TicketMessage.id)
            ).all()
            copies = session.scalars(
                select(MessageCopy).where(MessageCopy.message_id.in_([m.id for m in messages]))
            ).all()
            return [
                (
                    m.kind,
                    m.text,
                    f"{m.platform}:{m.place}:{m.ref}",
                    [(c.platform, c.place, c.ref) for c in copies if c.message_id == m.id],
                )
                for m in messages
            ]

    def addresses(self, platform: str) -> set[str]:
        """The keys of the addresses the desk keeps for a platform's conversations and people."""
        with Session(self.engine) as session:
            return set(session.scalars(select(ChatAddress.key).where(ChatAddress.platform == platform)))

    def rows(self) -> dict[str, int]:
        """How many rows each of the desk's tables holds."""
        with Session(self.engine) as session:
            return {
                table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }

    def close(self) -> None:
        self.engine.dispose()


class Slack:
    """A Slack workspace as the tests see it: people act, the stand-in shows what the bot did."""

    def __init__(self, standin: SlackStandIn, requests: SlackRequests, url: Callable[[], str]) -> None:
        self.standin = standin
        self.requests = requests
        self._url = url

    def send(self, request: SignedRequest) -> Response:
        return send(self._url() + "/slack/events", request)

    def command(
        self, text: str, *, user: str = "U0CUSTOMER", channel: str = "C0GENERAL", **options: Any
    ) -> Response:
        return self.send(self.requests.slash_command(text, user_id=user, channel_id=channel, **options))

    def reply_text(self, response: Response) -> str:
        assert response.status == 200, f"HTTP {response.status}: {response.text}"
        return str(response.json()["text"])

    def open_ticket(self, text: str, *, user: str = "U0CUSTOMER") -> int:
        reply = self.reply_text(self.command(text, user=user))
        match = re.search(r"Ticket #(\d+) opened", reply)
        assert match, f"no ticket number in the reply: {reply!r}"
        return int(match.group(1))

    def card(
        self, number: int, channel: str = "C0SUPPORT", *, version: int | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The ticket's card as it stands in the channel (waiting for the given version to be drawn)."""

        def cards() -> list[dict[str, Any]]:
            return [m for m in self.standin.messages(channel) if _card_key(m) == f"ticket-{number}-card"]

        found = wait_until(
            cards,
            lambda found: bool(found) and (version is None or card_version(found[0]) == version),
            f"a card (version {version}) for #{number} in {channel}",
            timeout,
        )
        assert len(found) == 1, f"ticket #{number} has {len(found)} cards in {channel}"
        return found[0]

    def click(
        self, number: int, verb: str, *, user: str, channel: str = "C0SUPPORT", **selected: Any
    ) -> Response:
        """Click a control of the ticket's card as it currently stands."""
        message = self.card(number, channel)
        action = control(message, verb)
        return self.send(
            self.requests.block_action(action, user_id=user, channel_id=channel, message=message, **selected)
        )

    def search(
        self, number: int, verb: str, typed: str = "", *, user: str, channel: str = "C0SUPPORT"
    ) -> list[dict[str, Any]]:
        """Type into a card's searched menu, as Slack asks the desk for its options; the options given."""
        card = self.card(number, channel)
        asked = self.requests.block_suggestion(
            control(card, verb), user_id=user, channel_id=channel, message=card, value=typed
        )
        response = self.send(asked)
        assert response.status == 200, f"HTTP {response.status}: {response.text}"
        return list(response.json()["options"])

    def open_prompt(self, number: int, verb: str, *, user: str, channel: str = "C0SUPPORT") -> dict[str, Any]:
        """Press a card's control that asks for words (a prompt); the form Slack was asked to open."""
        card = self.card(number, channel)
        before = len(self.standin.calls("views.open"))
        pressed = self.requests.block_action(
            control(card, verb), user_id=user, channel_id=channel, message=card
        )
        self.send(pressed)
        return self.standin.wait_for("views.open", count=before + 1, timeout=10)[-1].params["view"]

    def submit_prompt(self, form: dict[str, Any], typed: str, *, user: str) -> Response:
        """Send a prompt's form with the words typed into it."""
        values = {"words": {"words": {"type": "plain_text_input", "value": typed}}}
        return self.send(self.requests.view_submission(form, user_id=user, values=values))

    def prompt(
        self, number: int, verb: str, typed: str, *, user: str, channel: str = "C0SUPPORT"
    ) -> Response:
        """Press a card's control that asks for words, type them into its form and send it."""
        form = self.open_prompt(number, verb, user=user, channel=channel)
        return self.submit_prompt(form, typed, user=user)

    def write_under(
        self, card: dict[str, Any], text: str, *, user: str, ts: str, channel: str = "C0SUPPORT"
    ) -> Response:
        """`user` writes in the thread under a card (text as Slack sends it, escaped); delivered again,
        as Slack does (sooner here), until the desk takes it."""
        event = channel_event(
            channel, text, user=user, ts=ts, thread_ts=card["ts"], parent_user_id=card.get("user", "U0BOT")
        )
        return self.deliver(event, f"Ev{ts.replace('.', '')}")

    def deliver(self, event: dict[str, Any], event_id: str, *, retry: int | None = None) -> Response:
        """Send a message event, and again as Slack would (sooner here) until the desk takes it."""
        answer = self.send(self.requests.event(event, event_id=event_id, retry_num=retry))
        for again in range(1, 30):
            if answer.status == 200:
                break
            time.sleep(0.1)
            answer = self.send(self.requests.event(event, event_id=event_id, retry_num=again))
        return answer

    def thread(self, number: int, channel: str = "C0SUPPORT") -> list[str]:
        card = self.card(number, channel)
        return [
            m["text"] for m in self.standin.messages(channel) if m.get("thread_ts") == card["ts"] != m["ts"]
        ]

    def wait_thread(
        self, number: int, count: int, channel: str = "C0SUPPORT", timeout: float = 5.0
    ) -> list[str]:
        return at_least(
            count, lambda: self.thread(number, channel), f"notes in the thread of #{number}", timeout
        )

    def ephemerals(self, user: str, *, count: int = 1, timeout: float = 5.0) -> list[str]:
        return at_least(
            count,
            lambda: [e["text"] for e in self.standin.ephemerals() if e["user"] == user],
            f"ephemerals shown to {user}",
            timeout,
        )

    def dms(self, user: str, *, count: int = 1, timeout: float = 5.0) -> list[str]:
        return at_least(
            count, lambda: [m["text"] for m in self.standin.messages("D" + user)], f"DMs to {user}", timeout
        )


def channel_event(channel: str, text: str, *, user: str, ts: str, **more: Any) -> dict[str, Any]:
    """A message event from a channel, its text as Slack sends it (escaped, mentions in Slack's markup)."""
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        **more,
    }


T = TypeVar("T")


def wait_until(produce: Callable[[], T], done: Callable[[T], bool], wanted: str, timeout: float = 5.0) -> T:
    """Poll `produce` until its value is `done`; fail naming what was wanted and what was last seen."""
    deadline = time.monotonic() + timeout
    while not done(value := produce()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {wanted}; last saw {value!r}")
        time.sleep(0.01)
    return value


def at_least(count: int, produce: Callable[[], list[T]], wanted: str, timeout: float = 5.0) -> list[T]:
    """Poll a list until it has `count` items."""
    return wait_until(produce, lambda items: len(items) >= count, f"{count} {wanted}", timeout)


def _card_key(message: dict[str, Any]) -> str | None:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("key")


def card_text(message: dict[str, Any]) -> str:
    """All the text a person reads on a card: header, fields, body and context."""
    parts: list[str] = []
    for block in message.get("blocks", []):
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts.extend(f["text"] for f in block.get("fields", []))
        parts.extend(e["text"] for e in block.get("elements", []) if block["type"] == "context")
    return "\n".join(parts)
