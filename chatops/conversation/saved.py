"""Canned replies saved by agents from chat, beside those of the rules: held to the rules' own checks, each
name used once across both, and found wherever the rules' ones are."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.orm import Session

from chatops.config.rules import CannedReply, DeskConfig
from chatops.conversation import repository as conversation
from chatops.conversation.commands import ListReplies, RemoveReply, SaveReply
from chatops.desk import Desk
from chatops.errors import Forbidden, InvalidInput, NotFound
from chatops.rich import Code, Mention, Rich
from chatops.work import Work


@dataclass(frozen=True)
class Listed:
    """A canned reply as the list shows it: who saved it from chat (None: it is in the rules)."""

    name: str
    text: str
    saved_by: str | None = None


def canned(session: Session, config: DeskConfig, name: str) -> CannedReply | None:
    """The canned reply by this name: the rules' first, then those saved from chat."""
    found = config.canned(name)
    if found is not None:
        return found
    saved = conversation.saved_reply(session, name)
    return CannedReply(name=saved.name, text=saved.text) if saved is not None else None


def save_reply(work: Work, command: SaveReply, desk: Desk) -> CannedReply:
    """Keep a canned reply under a name no other has, if it passes the checks the rules' ones do."""
    _staff_only(desk, command.actor, "save canned replies")
    reply = _checked(command.name, command.text)
    taken = _taken(work.session, desk.config, reply.name, command.command)
    if taken is not None:
        raise taken
    if not conversation.save_reply(work.session, reply.name, reply.text, command.actor, work.now):
        # Someone saved one by that name between the look and the write: told as if they had been first.
        raise _taken(work.session, desk.config, reply.name, command.command) or InvalidInput(
            f"Someone was saving a canned reply “{reply.name}” at the same moment; try again."
        )
    return reply


def remove_reply(work: Work, command: RemoveReply, desk: Desk) -> str:
    """Take a canned reply saved from chat off the cards; the rules' ones are changed in the rules."""
    _staff_only(desk, command.actor, "remove canned replies")
    if desk.config.canned(command.name) is not None:
        raise InvalidInput(
            f"“{command.name}” is one of the canned replies in the desk's rules; it is changed there, "
            "not from chat."
        )
    if not conversation.drop_reply(work.session, command.name):
        raise NotFound(f"There is no saved canned reply “{command.name}”.")
    return command.name


def list_replies(session: Session, query: ListReplies, desk: Desk) -> list[Listed]:
    """The rules' canned replies, then those saved from chat, as the cards' menus offer them."""
    _staff_only(desk, query.actor, "see the canned replies")
    rules = [Listed(c.name, c.text) for c in desk.config.canned_replies]
    known = {c.name for c in desk.config.canned_replies}
    saved = [
        Listed(r.name, r.text, r.added_by) for r in conversation.saved_replies(session) if r.name not in known
    ]
    return rules + saved


def _staff_only(desk: Desk, person: str, doing: str) -> None:
    if not desk.roles.teams_of(person):
        raise Forbidden(f"Only the support teams' agents and leads can {doing}.")


def _checked(name: str, text: str) -> CannedReply:
    """The reply as the rules would take it, or what is wrong with it in the person's terms."""
    try:
        return CannedReply(name=name, text=text)
    except ValidationError as invalid:
        error = invalid.errors()[0]
    where = error["loc"][0] if error["loc"] else None
    if where == "name":
        raise InvalidInput(
            f"“{name}” cannot name a canned reply: use up to 40 lowercase letters, digits, - and _, "
            "starting with a letter or digit, as in ",
            Code("thanks-wait"),
            ".",
        ) from None
    if where == "text" and error["type"] == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        raise InvalidInput(
            f"Not saved: a canned reply takes at most {limit:,} characters, and this one has {len(text):,}."
        ) from None
    if where == "text":
        raise InvalidInput("Not saved: write the reply's text after its name.") from None
    problem = str(error.get("ctx", {}).get("error") or error["msg"])
    raise InvalidInput(f"Not saved: {problem}.") from None


def _taken(session: Session, config: DeskConfig, name: str, command: str | None) -> InvalidInput | None:
    """Why the name cannot be had, if another canned reply goes by it."""
    if config.canned(name) is not None:
        return InvalidInput(
            f"“{name}” is already one of the canned replies in the desk's rules; pick another name."
        )
    saved = conversation.saved_reply(session, name)
    if saved is None:
        return None
    remove: Rich = (Code(f"{command} reply remove {name}" if command else f"reply remove {name}"),)
    return InvalidInput(
        f"“{name}” is already a canned reply, saved by ",
        Mention(saved.added_by),
        "; pick another name, or remove that one first with ",
        *remove,
        ".",
    )
