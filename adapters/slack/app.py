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

from adapters.slack.blocks import escape, mrkdwn
from adapters.slack.form import FORM_CALLBACK, notice_view, read_form, ticket_form
from adapters.slack.identity import BotIdentity
from adapters.slack.text import SlackNames, read_message_text
from chatops.cards import ActionRef
from chatops.config import DeskConfig
from chatops.desk import Intake
from chatops.errors import DeskError, Overloaded
from chatops.ports import Destination
from chatops.service import DeskService
from commands.handlers import Caller, CommandHandler
from commands.parser import OpenForm, parse

log = structlog.get_logger("chatops.slack")

SHORTCUT_CALLBACK = "chatops_create_ticket"

PLATFORM = "slack"
FORM_FAILED = (
    "The form could not be opened just now. Describe the problem after the command instead, "
    "as in `{command} The export fails with error 500`."
)
SORRY = (
    "Something went wrong on our side and your request was not recorded. Please try again in a minute; "
    "if it keeps happening, tell the support team."
)


def build_bolt_app(
    *,
    client: AsyncWebClient,
    config: DeskConfig,
    service: DeskService,
    identity: BotIdentity,
    names: SlackNames,
) -> AsyncApp:
    """A Bolt app whose every listener answers only after the desk has committed what it was asked."""
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our client and authorize win; they do, on purpose.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_without_token_warning)
    token = client.token or ""

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
    handler = CommandHandler(service, config.slack.command)

    @app.command(config.slack.command)
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        async def run() -> None:
            text = await read_message_text(body.get("text", ""), names)
            command = parse(text, command=config.slack.command)
            if isinstance(command, OpenForm):
                try:
                    await client.views_open(
                        trigger_id=body["trigger_id"],
                        view=ticket_form(config, channel=body["channel_id"]),
                    )
                except SlackApiError as error:
                    log.warning(
                        "form_not_opened", user=body.get("user_id"), error=error.response.get("error")
                    )
                    await ack(
                        text=escape(FORM_FAILED.format(command=config.slack.command)),
                        response_type="ephemeral",
                    )
                    return
                await ack()
                return
            caller = Caller(
                body["user_id"],
                body["channel_id"],
                PLATFORM,
                body.get("team_id"),
                request_id=_request_id(body),
            )
            await ack(text=mrkdwn(await handler.handle(command, caller)), response_type="ephemeral")

        await _answering(ack, run, user=body.get("user_id"))

    @app.view(FORM_CALLBACK)
    async def on_form(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        async def run() -> None:
            entry = read_form(view)
            if not entry.summary:
                await ack(response_action="errors", errors={"summary": "Give the ticket a short summary."})
                return
            ticket = await service.open(
                Intake(
                    text=entry.description,
                    title=entry.summary,
                    requester=body["user"]["id"],
                    via="form",
                    platform=PLATFORM,
                    command=config.slack.command,
                    workspace=_team(body),
                    origin_place=entry.channel,
                    category=entry.category,
                    priority=entry.priority,
                    event_id=_request_id(body),
                )
            )
            text = mrkdwn(service.desk.confirmation(ticket, config.slack.command))
            await ack(response_action="update", view=notice_view(f"Ticket {ticket.number}", text))

        async def refuse(message: str) -> None:
            await ack(response_action="update", view=notice_view("Ticket not opened", escape(message)))

        await _answering(ack, run, user=body["user"]["id"], refuse=refuse)

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
            await service.open(
                Intake(
                    text=await read_message_text(message.get("text", ""), names),
                    requester=requester,
                    filed_by=user if requester != user else None,
                    via="shortcut",
                    platform=PLATFORM,
                    command=config.slack.command,
                    workspace=_team(body),
                    origin_place=channel,
                    origin_ref=message.get("ts"),
                    confirm_privately_in=channel,
                    event_id=_request_id(body),
                )
            )
            await ack()

        async def refuse(message_text: str) -> None:
            await service.tell(channel, user, message_text)
            await ack()

        await _answering(ack, run, user=user, refuse=refuse)

    @app.action(re.compile(r"^chatops\|"))
    async def on_click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        user = body["user"]["id"]
        place = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")

        async def run() -> None:
            try:
                ref = ActionRef.unpack(action["action_id"])
            except ValueError:
                log.warning("slack_action_unknown", user=user, action_id=action["action_id"][:255])
                await ack()
                return
            await service.act(ref, user, _choice(action), place=place)
            await ack()

        async def refuse(message: str) -> None:
            await service.tell(place, user, message)
            await ack()

        await _answering(ack, run, user=user, refuse=refuse)

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Only plain messages a person sends the bot directly; edits, joins and bot posts are not requests.
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        user, channel = event.get("user"), event.get("channel")
        if not user or not channel:
            log.warning("slack_dm_ignored", problem="no user or channel", event_id=body.get("event_id"))
            return
        intake = Intake(
            text=await read_message_text(event.get("text") or "", names),
            requester=user,
            via="dm",
            platform=PLATFORM,
            command=config.slack.command,
            workspace=body.get("team_id"),
            origin_place=channel,
            origin_ref=event.get("ts"),
            event_id=body.get("event_id"),
            confirm_to=Destination(place=channel),
        )
        try:
            await service.open(intake)
        except Overloaded:
            # Unanswered, Slack delivers the event again later; the event id keeps it to one ticket.
            raise
        except DeskError as refusal:
            await service.tell(channel, user, refusal.message)

    return app


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
    refuse: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """Run a listener; a refusal or a failure is told to the user instead of Slack's error page."""
    try:
        await run()
    except DeskError as refusal:
        if refuse is not None:
            await refuse(refusal.message)
        else:
            await ack(text=escape(refusal.message), response_type="ephemeral")
    except Exception:  # noqa: BLE001 - the user gets a clear answer; the details go to the log
        log.exception("slack_listener_failed", user=user)
        if refuse is not None:
            try:
                await refuse(SORRY)
                return
            except Exception:  # noqa: BLE001
                log.exception("slack_refusal_failed", user=user)
        await ack(text=SORRY, response_type="ephemeral")
