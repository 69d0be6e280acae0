"""What the ticket command answers to `help`: what it can do, on the platform it is typed on."""

from __future__ import annotations

from chatops.rich import Bullets, Code, Rich, Strong


def help_text(command: str, *, form: bool = True, tracker: str | None = None) -> Rich:
    """What `help` answers; `form` where the platform has the form and the message shortcut (Slack);
    `tracker`, the issue tracker tickets can be linked to, if the desk has one."""
    opening: list[Rich] = [
        (
            Code(f"{command} <what is wrong>"),
            " opens a ticket, e.g. ",
            Code(f"{command} The export crashes with error 500"),
        )
    ]
    if form:
        opening.append(
            (Code(command), " alone opens a form with summary, description, category and priority")
        )
    elsewhere: Rich = (
        (
            "You can also send the bot a direct message, or use ",
            Strong("Create ticket"),
            " on any message's menu.",
        )
        if form
        else (
            "You can also write to the bot in a personal chat: a message there that is not a command "
            "opens a ticket.",
        )
    )
    return (
        Strong("Support desk"),
        Bullets(
            (
                *opening,
                (Code(f"{command} status 42"), " shows ticket #42"),
                (
                    Code(f"{command} start 42"),
                    " starts work on your ticket #42, ",
                    Code(f"{command} escalate 42 <why>"),
                    " passes it to the next tier, and ",
                    Code(f"{command} move 42 <team>"),
                    " hands it to another team (agents)",
                ),
                (
                    Code(f"{command} list"),
                    " lists your tickets; agents can use ",
                    Code(f"{command} list open"),
                    " for their team's queue, and ",
                    Code(f"{command} sla"),
                    " for its tickets nearest to an SLA breach",
                ),
                *(
                    (
                        (
                            Code(f"{command} link 42 SUP-123"),
                            f" links ticket #42 to a {tracker.capitalize()} issue (agents); ",
                            Code(f"{command} unlink 42"),
                            " takes it off",
                        ),
                    )
                    if tracker
                    else ()
                ),
                (
                    Code(f"{command} channel on"),
                    " typed in a channel makes each new message there a ticket for your team (team leads); ",
                    Code(f"{command} channel off"),
                    " stops it",
                ),
                (
                    Code(f"{command} reply add <name> <text>"),
                    " saves a canned reply for the cards' menus, with {requester}, {ticket}, {title} and "
                    "{agent} filled in when sent (agents); ",
                    Code(f"{command} reply list"),
                    " shows them, ",
                    Code(f"{command} reply remove <name>"),
                    " takes one off",
                ),
                elsewhere,
            )
        ),
    )
