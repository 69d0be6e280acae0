"""Bolt listeners: Slack commands, clicks, shortcuts, form submissions and DMs, turned into desk calls."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import escape, mrkdwn
from adapters.slack.form import FORM_CALLBACK, notice_view, read_form, ticket_form
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
    *, signing_secret: str, client: AsyncWebClient, config: DeskConfig, service: DeskService
) -> AsyncApp:
    """A Bolt app whose every listener answers only after the desk has committed what it was asked."""
    # Bolt reads SLACK_BOT_TOKEN itself and warns that the client we hand it wins; it does, on purpose.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_without_token_warning)
    app = AsyncApp(
        signing_secret=signing_secret,
        client=client,
        # Acknowledge after the listener has run: acked means committed, and no 10 ms ack polling.
        process_before_response=True,
    )
    handler = CommandHandler(service, config.slack.command)

    @app.command(config.slack.command)
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        async def run() -> None:
            command = parse(body.get("text", ""), command=config.slack.command)
            if isinstance(command, OpenForm):
                try:
                    await client.views_open(
                        trigger_id=body["trigger_id"],
                        view=ticket_form(config, channel=body.get("channel_id", "")),
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
            caller = Caller(body["user_id"], body.get("channel_id", ""), PLATFORM, body.get("team_id"))
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
                    workspace=(body.get("team") or {}).get("id"),
                    origin_place=entry.channel,
                    category=entry.category,
                    priority=entry.priority,
                )
            )
            assert ticket is not None
            text = mrkdwn(service.desk.confirmation(ticket, config.slack.command))
            await ack(response_action="update", view=notice_view(f"Ticket {ticket.number}", text))

        async def refuse(message: str) -> None:
            await ack(response_action="update", view=notice_view("Ticket not opened", escape(message)))

        await _answering(ack, run, user=body.get("user", {}).get("id"), refuse=refuse)

    @app.shortcut(SHORTCUT_CALLBACK)
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        channel = body["channel"]["id"]
        message = body.get("message", {})

        async def run() -> None:
            await service.open(
                Intake(
                    text=message.get("text", ""),
                    requester=user,
                    via="shortcut",
                    platform=PLATFORM,
                    command=config.slack.command,
                    workspace=(body.get("team") or {}).get("id"),
                    origin_place=channel,
                    origin_ref=message.get("ts"),
                    confirm_privately_in=channel,
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
                await ack()
                return
            argument = action.get("selected_user") or (action.get("selected_option") or {}).get("value")
            await service.act(ref, user, argument, place=place)
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
            return
        intake = Intake(
            text=event.get("text", ""),
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


def _without_token_warning(record: logging.LogRecord) -> bool:
    return "`token` will be unused" not in record.getMessage()


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
