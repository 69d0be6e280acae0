"""Bolt listeners: Slack's commands, clicks, shortcuts and forms turned into what the desk's pipeline
takes, and its replies into Slack's answers. Messages, reactions and prompts have listeners of their own."""

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
from adapters.slack.menus import listen_for_menus
from adapters.slack.messages import listen_for_messages
from adapters.slack.prompts import listen_for_prompts
from adapters.slack.text import SlackNames, read_message_text
from chatops.bus import SORRY
from chatops.config.rules import DeskConfig
from chatops.messaging.cards import ActionRef
from chatops.rich import Rich, plain
from commands.inbound import Pressed, Shortcut, Submitted, Typed
from commands.pipeline import Pipeline

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
    pipeline: Pipeline,
    identity: BotIdentity,
    names: SlackNames,
) -> AsyncApp:
    """A Bolt app whose every listener answers only after the desk has committed what it was asked."""
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our client and authorize win; they do, on purpose.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_without_token_warning)
    token = client.token or ""
    people = pipeline.bus.desk.directory
    command_name = config.slack.command

    def text(rich: Rich) -> str:
        return mrkdwn(rich, people)

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

    @app.command(command_name)
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        async def run() -> None:
            typed = Typed(
                platform=PLATFORM,
                user=body["user_id"],
                place=body["channel_id"],
                request_id=_request_id(body),
                name=body.get("user_name") or None,
                workspace=body.get("team_id"),
                command=command_name,
                answer_later=False,
                text=await read_message_text(body.get("text", ""), names),
                form=True,
            )
            reply = await pipeline.take(typed)
            if reply.form:
                await _open_form(ack, client, body, config)
                return
            await ack(text=text(reply.said or ()), response_type="ephemeral")

        await _answering(ack, run, user=body.get("user_id"))

    async def _open_form(
        ack: AsyncAck, client: AsyncWebClient, body: dict[str, Any], rules: DeskConfig
    ) -> None:
        try:
            await client.views_open(
                trigger_id=body["trigger_id"], view=ticket_form(rules, channel=body["channel_id"])
            )
        except SlackApiError as error:
            log.warning("form_not_opened", user=body.get("user_id"), error=error.response.get("error"))
            await ack(text=escape(FORM_FAILED.format(command=command_name)), response_type="ephemeral")
            return
        await ack()

    @app.view(FORM_CALLBACK)
    async def on_form(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        async def run() -> None:
            entry = read_form(view)
            if not entry.summary:
                await ack(response_action="errors", errors={"summary": "Give the ticket a short summary."})
                return
            reply = await pipeline.take(
                Submitted(
                    platform=PLATFORM,
                    user=body["user"]["id"],
                    place=entry.channel,
                    request_id=_request_id(body),
                    name=body["user"].get("name") or None,
                    workspace=_team(body),
                    command=command_name,
                    answer_later=False,
                    summary=entry.summary,
                    description=entry.description,
                    category=entry.category,
                    priority=entry.priority,
                )
            )
            opened = reply.ticket is not None and reply.refused is None and not reply.retry
            title = f"Ticket #{reply.ticket}" if opened else "Ticket not opened"
            await ack(response_action="update", view=notice_view(title, text(reply.said or SORRY)))

        async def sorry() -> None:
            await ack(response_action="update", view=notice_view("Ticket not opened", text(SORRY)))

        await _answering(ack, run, user=body["user"]["id"], sorry=sorry)

    @app.shortcut(SHORTCUT_CALLBACK)
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        message = body["message"]
        # A bot's message has no one behind it to tell: the person who filed it stands in.
        author = None if message.get("bot_id") else message.get("user")

        async def run() -> None:
            reply = await pipeline.take(
                Shortcut(
                    platform=PLATFORM,
                    user=body["user"]["id"],
                    place=body["channel"]["id"],
                    request_id=_request_id(body),
                    workspace=_team(body),
                    command=command_name,
                    author=author,
                    author_name=(await names.names([author])).get(author) if author else None,
                    ref=message.get("ts"),
                    text=await read_message_text(message.get("text", ""), names),
                )
            )
            if reply.retry:
                await ack(text=escape(plain(SORRY)), response_type="ephemeral")
                return
            await ack()

        await _answering(ack, run, user=body["user"]["id"])

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
            reply = await pipeline.take(
                Pressed(
                    platform=PLATFORM,
                    user=user,
                    place=place or None,
                    workspace=_team(body),
                    command=command_name,
                    ref=ref,
                    choice=_choice(action),
                    chose_user=action.get("type") == "users_select",
                )
            )
            await ack()
            if reply.settled is not None:
                await _settled(client, body, text(reply.settled))

        await _answering(ack, run, user=user)

    listen_for_messages(app, pipeline=pipeline, names=names, identity=identity, command=command_name)
    listen_for_prompts(app, pipeline=pipeline, command=command_name)
    listen_for_menus(app, pipeline=pipeline, command=command_name)
    listen_for_emoji(
        app, pipeline=pipeline, client=client, names=names, emoji=config.intake_emoji, command=command_name
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
