"""Bolt listeners: Slack commands, clicks, shortcuts, form submissions and DMs, turned into desk calls."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import escape, mrkdwn, mrkdwn_object
from adapters.slack.emoji import listen_for_emoji
from adapters.slack.form import FORM_CALLBACK, notice_view, read_form, ticket_form
from adapters.slack.identity import BotIdentity
from adapters.slack.prompts import listen_for_prompts
from adapters.slack.requests import listen_for_requests
from adapters.slack.text import SlackNames, read_message_text, with_files
from chatops.bus import SORRY, MessageBus
from chatops.config.rules import DeskConfig
from chatops.conversation.commands import CustomerWrote, ThreadMessage
from chatops.errors import DeskError, Overloaded
from chatops.messaging.cards import ActionRef
from chatops.messaging.notices import TellPrivately
from chatops.messaging.ports import Place
from chatops.messaging.rich import Rich, plain
from chatops.tickets.actions import command_for
from chatops.tickets.commands import OpenTicket
from chatops.tickets.model import Answered
from commands.handlers import Caller, CommandRunner
from commands.parser import OpenForm, parse

log = structlog.get_logger("chatops.slack")

SHORTCUT_CALLBACK = "chatops_create_ticket"

PLATFORM = "slack"
FORM_FAILED = (
    "The form could not be opened just now. Describe the problem after the command instead, "
    "as in `{command} The export fails with error 500`."
)


def build_bolt_app(
    *,
    client: AsyncWebClient,
    config: DeskConfig,
    bus: MessageBus,
    identity: BotIdentity,
    names: SlackNames,
) -> AsyncApp:
    """A Bolt app whose every listener answers only after the desk has committed what it was asked."""
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our client and authorize win; they do, on purpose.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_without_token_warning)
    token = client.token or ""
    people = bus.desk.directory
    command_name = config.slack.command
    card_channels = {p.address for team in config.teams for p in team.places() if p.platform == PLATFORM}

    def person(user: str) -> str:
        return people.person(PLATFORM, user)

    def text(rich: Rich) -> str:
        return mrkdwn(rich, people)

    async def tell(place: str, user: str, rich: Rich) -> None:
        await bus.handle(TellPrivately(Place(PLATFORM, place), person(user), rich))

    async def authorize() -> AuthorizeResult:
        return identity.authorize(token)

    app = AsyncApp(
        client=client,
        authorize=authorize,
        # Every request is verified over its raw bytes before Bolt sees it (adapters/slack/http.py), and
        # Bolt's own check would log a refused request's whole body, someone's words included.
        request_verification_enabled=False,
        # Acknowledge after the listener has run: acked means committed, and no 10 ms ack polling.
        process_before_response=True,
    )
    runner = CommandRunner(bus)

    @app.command(command_name)
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        async def run() -> None:
            typed = await read_message_text(body.get("text", ""), names)
            try:
                command = parse(typed, command=command_name)
            except DeskError as refusal:
                await ack(text=text(refusal.text), response_type="ephemeral")
                return
            if isinstance(command, OpenForm):
                try:
                    await client.views_open(
                        trigger_id=body["trigger_id"], view=ticket_form(config, channel=body["channel_id"])
                    )
                except SlackApiError as error:
                    log.warning(
                        "form_not_opened", user=body.get("user_id"), error=error.response.get("error")
                    )
                    await ack(
                        text=escape(FORM_FAILED.format(command=command_name)), response_type="ephemeral"
                    )
                    return
                await ack()
                return
            caller = Caller(
                person(body["user_id"]),
                body["channel_id"],
                PLATFORM,
                command_name,
                body.get("team_id"),
                request_id=_request_id(body),
                name=body.get("user_name") or None,
            )
            answer = await runner.run(command, caller)
            await ack(
                text=text(answer.value if answer.done else answer.refusal or ()), response_type="ephemeral"
            )

        await _answering(ack, run, user=body.get("user_id"))

    @app.view(FORM_CALLBACK)
    async def on_form(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        async def run() -> None:
            entry = read_form(view)
            if not entry.summary:
                await ack(response_action="errors", errors={"summary": "Give the ticket a short summary."})
                return
            answer = await bus.handle(
                OpenTicket(
                    text=entry.description,
                    title=entry.summary,
                    requester=person(body["user"]["id"]),
                    requester_name=body["user"].get("name") or None,
                    via="form",
                    platform=PLATFORM,
                    command=command_name,
                    workspace=_team(body),
                    origin_place=entry.channel,
                    category=entry.category,
                    priority=entry.priority,
                    request_id=_request_id(body),
                )
            )
            if not answer.done:
                notice = notice_view("Ticket not opened", text(answer.refusal or ()))
            else:
                notice = notice_view(f"Ticket {answer.value.ticket.number}", text(answer.value.confirmation))
            await ack(response_action="update", view=notice)

        async def sorry() -> None:
            await ack(response_action="update", view=notice_view("Ticket not opened", text(SORRY)))

        await _answering(ack, run, user=body["user"]["id"], sorry=sorry)

    @app.shortcut(SHORTCUT_CALLBACK)
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        channel = body["channel"]["id"]
        message = body["message"]
        # The ticket is the author's: they are the one waiting for an answer. A bot's message has no one
        # behind it to tell, so the person who filed it stands in.
        author = None if message.get("bot_id") else message.get("user")
        requester = author or user

        async def run() -> None:
            answer = await bus.handle(
                OpenTicket(
                    text=await read_message_text(message.get("text", ""), names),
                    requester=person(requester),
                    requester_name=(await names.names([requester])).get(requester),
                    filed_by=person(user) if requester != user else None,
                    via="shortcut",
                    platform=PLATFORM,
                    command=command_name,
                    workspace=_team(body),
                    origin_place=channel,
                    origin_ref=message.get("ts"),
                    link_origin=True,
                    confirm_privately_in=channel,
                    request_id=_request_id(body),
                )
            )
            if not answer.done:
                await tell(channel, user, answer.refusal or ())
            await ack()

        await _answering(ack, run, user=user)

    @app.action(re.compile(r"^chatops\|"))
    async def on_click(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = body["user"]["id"]
        place = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")

        async def run() -> None:
            try:
                ref = ActionRef.unpack(action["action_id"])
            except ValueError:
                log.warning("slack_action_unknown", user=user, action_id=action["action_id"][:255])
                await ack()
                return
            chosen = _choice(action)
            if action.get("type") == "users_select" and chosen is not None:
                chosen = person(chosen)
            where = Place(PLATFORM, place) if place else None
            try:
                command = command_for(ref, person(user), where, chosen)
            except DeskError as refusal:
                await tell(place, user, refusal.text)
                await ack()
                return
            answer = await bus.handle(command)
            await ack()
            if answer.done and isinstance(answer.value, Answered):
                await _settled(client, body, text(answer.value.said))

        await _answering(ack, run, user=user)

    # First among the listeners of messages: a request channel's messages are its own.
    listen_for_requests(app, bus=bus, names=names, person=person, tell=tell, command=command_name)

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Only plain messages people send: edits, joins and bot posts (the desk's own among them) are not
        # requests, and never relayed.
        # A file shared with words is still a person's message; its files come as links.
        if event.get("subtype") not in (None, "file_share") or event.get("bot_id"):
            return
        if event.get("channel_type") in ("channel", "group"):
            # Cards are only ever posted in the teams' channels: only their threads can be a ticket's.
            if event.get("channel") in card_channels:
                await in_a_thread(body, event)
            return
        if event.get("channel_type") != "im":
            return
        user, channel = event.get("user"), event.get("channel")
        if not user or not channel:
            log.warning("slack_dm_ignored", problem="no user or channel", event_id=body.get("event_id"))
            return
        request = OpenTicket(
            text=with_files(await read_message_text(event.get("text") or "", names), event),
            requester=person(user),
            requester_name=(await names.names([user])).get(user),
            via="dm",
            platform=PLATFORM,
            command=command_name,
            workspace=body.get("team_id"),
            origin_place=channel,
            origin_ref=event.get("ts"),
            request_id=body.get("event_id"),
            confirm_directly=True,
        )
        # A follow-up joins the ticket the person has open in this DM; otherwise it opens one.
        answer = await bus.handle(CustomerWrote(request))
        if answer.retry:
            # Unanswered, Slack delivers the event again later; the event id keeps it to one ticket.
            raise Overloaded()
        if not answer.done:
            await tell(channel, user, answer.refusal or ())

    async def in_a_thread(body: dict[str, Any], event: dict[str, Any]) -> None:
        """A reply under a message in a channel: under a ticket's card, the ticket's conversation."""
        user, channel, thread, ts = (event.get(k) for k in ("user", "channel", "thread_ts", "ts"))
        if not (user and channel and isinstance(thread, str) and isinstance(ts, str)) or thread == ts:
            return
        answer = await bus.handle(
            ThreadMessage(
                platform=PLATFORM,
                place=channel,
                card=thread,
                author=person(user),
                text=with_files(await read_message_text(event.get("text") or "", names), event),
                ref=ts,
                under_own=event.get("parent_user_id") in _bot_users(body, identity),
            )
        )
        if answer.retry:
            raise Overloaded()
        if not answer.done:
            await tell(channel, user, answer.refusal or ())

    listen_for_prompts(app, bus=bus, person=person, tell=tell)
    listen_for_emoji(
        app,
        bus=bus,
        client=client,
        names=names,
        person=person,
        tell=tell,
        emoji=config.intake_emoji,
        command=command_name,
    )
    return app


async def _settled(client: AsyncWebClient, body: dict[str, Any], said: str) -> None:
    """The question a requester answered gives way to what became of it, so it is not pressed again; only
    how it looks is at stake, so a failure is logged and the answer stands."""
    channel = (body.get("channel") or {}).get("id")
    message = (body.get("message") or {}).get("ts")
    if not (isinstance(channel, str) and isinstance(message, str)):
        return
    try:
        await client.chat_update(
            channel=channel,
            ts=message,
            text=said,
            blocks=[{"type": "section", "text": mrkdwn_object(said)}],
        )
    except Exception as error:  # noqa: BLE001 - the answer is in; the question's buttons merely linger
        log.warning("slack_question_not_settled", channel=channel, error=str(error)[:200])


def _bot_users(body: dict[str, Any], identity: BotIdentity) -> set[str]:
    """The bot's own user id, as auth.test said, or as the event's authorizations say."""
    found = {a.get("user_id") for a in body.get("authorizations") or [] if isinstance(a, dict)}
    return {user for user in (identity.user_id, *found) if isinstance(user, str) and user}


def _request_id(body: dict[str, Any]) -> str | None:
    """The id that tells a replayed request from a new one: each invocation has a trigger of its own."""
    trigger = body.get("trigger_id")
    return f"trigger:{trigger}" if isinstance(trigger, str) and trigger else None


def _team(body: dict[str, Any]) -> str | None:
    team = body.get("team")
    return team.get("id") if isinstance(team, dict) else None


def _choice(action: dict[str, Any]) -> str | None:
    """The person or option a select control carries, if it carries one we can read."""
    option = action.get("selected_option")
    chosen = action.get("selected_user") or (option.get("value") if isinstance(option, dict) else None)
    return chosen if isinstance(chosen, str) else None


def _without_token_warning(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not ("`token`" in message and ("will be unused" in message or "will be ignored" in message))


async def _answering(
    ack: AsyncAck,
    run: Callable[[], Awaitable[None]],
    *,
    user: str | None,
    sorry: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run a listener; a failure outside the desk is told to the user instead of Slack's error page
    (by `sorry` where the answer is not a message, as for a form)."""
    try:
        await run()
    except Exception:  # noqa: BLE001 - the user gets a clear answer; the details go to the log
        log.exception("slack_listener_failed", user=user)
        if sorry is not None:
            await sorry()
        else:
            await ack(text=escape(plain(SORRY)), response_type="ephemeral")
