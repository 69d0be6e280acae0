"""Tests of the Slack stand-in and the signed request builders, driven through the real slack_sdk and Bolt."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from slack_bolt import Ack, App, BoltContext, BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.aiohttp import SocketModeClient as AsyncSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.devkit.parsing import pings
from adapters.slack.devkit.payloads import find_action
from adapters.slack.devkit.rate_limits import POST_MESSAGE_LIMIT, TIER_3, Limit
from adapters.slack.devkit.requests import SignedRequest, SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn

SECRET = "s3cr3t-signing"
BUTTON = {
    "type": "button",
    "action_id": "ticket.claim",
    "value": "T-1",
    "text": {"type": "plain_text", "text": "Claim"},
}
PICKER = {
    "type": "users_select",
    "action_id": "ticket.assign",
    "placeholder": {"type": "plain_text", "text": "Who"},
}
CARD = [
    {
        "type": "section",
        "block_id": "summary",
        "text": {"type": "mrkdwn", "text": "*T-1* printer on fire"},
        "accessory": PICKER,
    },
    {"type": "actions", "block_id": "buttons", "elements": [BUTTON]},
]
MODAL = {
    "type": "modal",
    "callback_id": "ticket.new",
    "private_metadata": "C0GENERAL",
    "title": {"type": "plain_text", "text": "New ticket"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(
        users={"U1": {"real_name": "Ada Lovelace"}}, channels={"general": "C0GENERAL"}
    ) as running:
        yield running


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=standin.base_url)


def test_post_update_and_history_with_metadata(standin: SlackStandIn, client: WebClient) -> None:
    metadata = {"event_type": "ticket_card", "event_payload": {"ticket": "T-1"}}
    posted = client.chat_postMessage(channel="C1", text="T-1", blocks=CARD, metadata=metadata)
    second = client.chat_postMessage(channel="C1", text="later")
    assert posted["ok"] and posted["channel"] == "C1" and posted["message"]["bot_id"] == "B0BOT"
    assert float(second["ts"]) > float(posted["ts"])

    updated = client.chat_update(channel="C1", ts=posted["ts"], text="T-1 claimed", blocks=CARD[:1])
    assert updated["ts"] == posted["ts"] and updated["text"] == "T-1 claimed"

    history = client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["later", "T-1 claimed"]
    assert history["messages"][1]["metadata"] == metadata
    assert history["messages"][1]["blocks"] == CARD[:1]
    plain = client.conversations_history(channel="C1", limit=1)
    assert "metadata" not in plain["messages"][0] and plain["has_more"] is True
    assert standin.calls("chat.update")[0].params["blocks"] == CARD[:1]
    assert standin.calls("chat.postMessage")[0].token == "xoxb-test"


def test_threads_permalinks_and_history_windows(client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="parent")["ts"]
    reply = client.chat_postMessage(
        channel="C1", text="reply", thread_ts=parent, metadata={"event_type": "note", "event_payload": {}}
    )["ts"]
    after = client.chat_postMessage(channel="C1", text="after")["ts"]

    assert [m["text"] for m in client.conversations_history(channel="C1")["messages"]] == ["after", "parent"]
    windowed = client.conversations_history(channel="C1", oldest=parent, latest=after)
    assert windowed["messages"] == []
    inclusive = client.conversations_history(channel="C1", oldest=parent, latest=after, inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["after", "parent"]
    thread = client.conversations_replies(channel="C1", ts=parent, include_all_metadata=True)["messages"]
    assert [m["text"] for m in thread] == ["parent", "reply"] and thread[0]["reply_count"] == 1
    assert thread[1]["metadata"]["event_type"] == "note"

    link = client.chat_getPermalink(channel="C1", message_ts=parent)["permalink"]
    assert link == f"https://standin.slack.test/archives/C1/p{parent.replace('.', '')}"
    assert f"thread_ts={parent}" in client.chat_getPermalink(channel="C1", message_ts=reply)["permalink"]
    with pytest.raises(SlackApiError) as missing:
        client.conversations_replies(channel="C1", ts="1.000001")
    assert missing.value.response["error"] == "thread_not_found"


def test_direct_messages_map_user_ids_to_dm_channels(standin: SlackStandIn, client: WebClient) -> None:
    assert client.conversations_open(users="U1")["channel"]["id"] == "DU1"
    assert client.chat_postMessage(channel="U1", text="hello")["channel"] == "DU1"
    assert client.chat_postMessage(channel="W2", text="hi")["channel"] == "DW2"
    assert [m["text"] for m in standin.messages("DU1")] == ["hello"]
    assert standin.messages("U1") == standin.messages("DU1")


def test_ephemerals_users_and_views(standin: SlackStandIn, client: WebClient) -> None:
    assert client.chat_postEphemeral(channel="C1", user="U1", text="only you")["message_ts"]
    assert standin.messages("C1") == []
    assert standin.ephemerals("C1") == [{"channel": "C1", "user": "U1", "text": "only you", "blocks": []}]

    assert client.users_info(user="U1")["user"]["real_name"] == "Ada Lovelace"
    generated = client.users_info(user="U9")["user"]
    assert generated["name"] == "u9" and generated["profile"]["email"] == "u9@standin.test"

    opened = client.views_open(trigger_id="1.2.abc", view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "ticket.new"
    assert client.views_update(view_id=opened["id"], view=MODAL)["view"]["id"] == opened["id"]
    with pytest.raises(SlackApiError) as refused:
        client.api_call("views.open", json={"view": MODAL})
    assert refused.value.response["error"] == "invalid_trigger_id"


TYPED = (
    "@here and @channel: see #general, not #nowhere, at https://app.example/a?b=1&amp;c=2. or www.example.com"
)
PARSED = (
    "<!here> and <!channel>: see <#C0GENERAL|general>, not #nowhere, at <https://app.example/a?b=1&amp;c=2>. "
    "or <http://www.example.com|www.example.com>"
)


def test_mrkdwn_without_verbatim_is_parsed_as_slack_parses_it(
    standin: SlackStandIn, client: WebClient
) -> None:
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": TYPED},
            "fields": [{"type": "mrkdwn", "text": "@everyone"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": TYPED, "verbatim": True}]},
        {"type": "section", "text": {"type": "plain_text", "text": "@here"}},
    ]
    ts = client.chat_postMessage(channel="C1", text=TYPED, blocks=blocks)["ts"]

    [stored] = standin.messages("C1")
    assert stored["blocks"][0]["text"]["text"] == PARSED
    assert stored["blocks"][0]["fields"][0]["text"] == "<!everyone>"
    assert stored["blocks"][1]["elements"][0]["text"] == TYPED
    assert stored["blocks"][2]["text"]["text"] == "@here"
    # The text is parsed only when asked to link names: by default a typed @here stays words.
    assert stored["text"] == TYPED
    assert pings(stored) == {"<!here>", "<!channel>", "<!everyone>"}
    assert standin.calls("chat.postMessage")[0].params["blocks"] == blocks

    client.chat_update(
        channel="C1",
        ts=ts,
        text="x",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "hi @here"}}],
    )
    assert pings(standin.messages("C1")[0]) == {"<!here>"}
    written = "<!here> <@U1|ada> <!subteam^S0ONCALL|@oncall> <https://x.test|x> email@here &lt;!channel&gt;"
    client.chat_postEphemeral(
        channel="C1",
        user="U1",
        text="-",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": written, "verbatim": True}}],
    )
    [whisper] = standin.ephemerals("C1")
    assert whisper["blocks"][0]["text"]["text"] == written
    assert pings(whisper) == {"<!here>", "<@U1>", "<!subteam^S0ONCALL>"}


def test_text_is_parsed_when_names_are_to_be_linked(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="@here <@U1> in #general", link_names=True)
    client.chat_postMessage(channel="C2", text="<!channel> &amp; @here", parse="full")
    client.chat_postMessage(channel="C3", text="@here <@U1> in #general", parse="none")

    [linked], [full], [none] = (standin.messages(c) for c in ("C1", "C2", "C3"))
    assert linked["text"] == "<!here> <@U1> in <#C0GENERAL|general>" and pings(linked) == {"<!here>", "<@U1>"}
    # Full parsing takes the text as typed: markup written in it is shown, not followed.
    assert full["text"] == "&lt;!channel&gt; &amp;amp; <!here>" and pings(full) == {"<!here>"}
    assert none["text"] == "@here <@U1> in #general" and pings(none) == {"<@U1>"}


def _select(kind: str, options: int | None = None) -> dict:
    listed = [
        {"text": {"type": "plain_text", "text": f"o{n}"}, "value": f"o{n}"} for n in range(options or 0)
    ]
    return {"type": kind, "action_id": "pick", **({"options": listed} if options is not None else {})}


def _actions(*elements: dict) -> dict:
    return {"type": "actions", "elements": list(elements)}


def test_post_message_takes_menus_slack_can_show(client: WebClient) -> None:
    listed, searched = _select("static_select", 100), _select("external_select")
    posted = client.chat_postMessage(channel="C1", text="x", blocks=[_actions(listed, searched)])
    assert posted["ok"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x"}, "channel_not_found"),
        ({"channel": "C1"}, "no_text"),
        ({"channel": "C1", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        ({"channel": "C1", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C1", "blocks": [_actions(_select("static_select", 101))]}, "invalid_blocks"),
        ({"channel": "C1", "blocks": [_actions(_select("static_select", 0))]}, "invalid_blocks"),
        ({"channel": "C1", "blocks": [_actions(_select("external_select", 3))]}, "invalid_blocks"),
        ({"channel": "C1", "blocks": [_actions(*[_select("external_select")] * 26)]}, "invalid_blocks"),
        ({"channel": "C1", "text": "x", "metadata": {"event_payload": {}}}, "invalid_metadata_format"),
    ],
)
def test_post_message_enforces_slack_limits(client: WebClient, kwargs: dict, error: str) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.api_call("chat.postMessage", json=kwargs)
    assert refused.value.response["error"] == error


def test_unknown_methods_tokens_and_missing_messages(standin: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as unknown:
        client.api_call("chat.scheduleTelepathy")
    assert unknown.value.response["error"] == "unknown_method"
    assert standin.calls("chat.scheduleTelepathy")
    with pytest.raises(SlackApiError) as unauthenticated:
        WebClient(base_url=standin.base_url).auth_test()
    assert unauthenticated.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as missing:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert missing.value.response["error"] == "message_not_found"


def test_form_encoded_json_fields_decode_like_json_bodies(standin: SlackStandIn, client: WebClient) -> None:
    metadata = {"event_type": "e", "event_payload": {}}
    form = {"channel": "C1", "text": "form", "blocks": json.dumps(CARD), "metadata": json.dumps(metadata)}
    client.api_call("chat.postMessage", data=form)
    assert standin.calls("chat.postMessage")[0].params == {**form, "blocks": CARD, "metadata": metadata}
    assert standin.messages("C1")[0]["blocks"] == CARD


def test_async_client_uses_the_same_api(standin: SlackStandIn) -> None:
    async def scenario() -> tuple[str, list[str]]:
        client = AsyncWebClient(token="xoxb-test", base_url=standin.base_url)
        standin.inject("chat.postMessage", "ratelimit", retry_after=3)
        with pytest.raises(SlackApiError) as limited:
            await client.chat_postMessage(channel="C1", text="too soon")
        assert limited.value.response.status_code == 429
        assert limited.value.response.headers["Retry-After"] == "3"
        posted = await client.chat_postMessage(channel="C1", text="async", blocks=CARD)
        # AsyncWebClient sends GET methods as query strings, unlike WebClient's form bodies.
        history = await client.conversations_history(channel="C1", limit=5)
        return posted["ts"], [m["text"] for m in history["messages"]]

    ts, texts = asyncio.run(scenario())
    assert texts == ["async"] and standin.messages("C1")[0]["ts"] == ts
    assert standin.calls("chat.postMessage")[1].params["blocks"] == CARD
    assert standin.calls("conversations.history")[0].params == {"channel": "C1", "limit": "5"}


def test_ratelimit_fault_is_a_429_with_retry_after(standin: SlackStandIn, client: WebClient) -> None:
    standin.inject("chat.postMessage", "ratelimit", retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert limited.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert [c.fault for c in standin.calls("chat.postMessage")] == ["ratelimit", None]
    assert len(standin.messages("C1")) == 1


def test_server_error_and_error_code_faults(standin: SlackStandIn, client: WebClient) -> None:
    standin.inject("chat.update", "server_error")
    standin.inject("chat.postMessage", "error:is_archived", times=2)
    with pytest.raises(SlackApiError) as broken:
        client.chat_update(channel="C1", ts="1.0", text="x")
    assert broken.value.response.status_code == 500
    for _ in range(2):
        with pytest.raises(SlackApiError) as archived:
            client.chat_postMessage(channel="C1", text="x")
        assert archived.value.response["error"] == "is_archived"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_timeout_fault_never_performs_the_effect(standin: SlackStandIn) -> None:
    impatient = WebClient(token="xoxb-test", base_url=standin.base_url, timeout=0.3)
    standin.inject("chat.postMessage", "timeout", delay=0.6)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C1", text="lost")
    time.sleep(1.0)  # well past the held request's delay
    assert standin.messages("C1") == []
    assert standin.calls("chat.postMessage")[0].fault == "timeout"


def test_slow_effect_fault_performs_the_effect_but_the_caller_times_out(standin: SlackStandIn) -> None:
    impatient = WebClient(token="xoxb-test", base_url=standin.base_url, timeout=0.3)
    standin.inject("chat.postMessage", "slow_effect", delay=1.0)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C1", text="did it land?")
    assert [m["text"] for m in standin.messages("C1")] == ["did it land?"]


def test_inject_rejects_unknown_faults(standin: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        standin.inject("chat.postMessage", "gremlins")


def test_wait_for_returns_calls_arriving_later(standin: SlackStandIn, client: WebClient) -> None:
    later = threading.Timer(0.1, lambda: client.chat_postMessage(channel="C7", text="late"))
    later.start()
    calls = standin.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C7", timeout=3)
    later.join()
    assert calls[0].params["text"] == "late" and calls[0].at <= time.monotonic()


def test_wait_for_timeout_names_the_methods_called(standin: SlackStandIn, client: WebClient) -> None:
    client.auth_test()
    client.chat_postMessage(channel="C1", text="x")
    started = time.monotonic()
    with pytest.raises(AssertionError) as timed_out:
        standin.wait_for("chat.update", count=1, timeout=0.2)
    assert time.monotonic() - started < 2
    assert "chat.update" in str(timed_out.value)
    assert "auth.test x1" in str(timed_out.value) and "chat.postMessage x1" in str(timed_out.value)


def test_clear_forgets_everything(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x")
    standin.inject("auth.test", "server_error")
    standin.clear()
    assert standin.calls() == [] and standin.messages("C1") == []
    assert client.auth_test()["user_id"] == "U0BOT"


@pytest.fixture
def limited() -> Iterator[SlackStandIn]:
    with SlackStandIn(rate_limits=True) as running:
        yield running


def rate_limited(standin: SlackStandIn) -> list[str]:
    return [c.method for c in standin.calls() if c.fault == "rate_limited"]


def test_a_burst_to_one_channel_is_refused_with_retry_after_until_a_token_is_free(
    limited: SlackStandIn,
) -> None:
    client = WebClient(token="xoxb-test", base_url=limited.base_url)
    for i in range(POST_MESSAGE_LIMIT.burst):
        client.chat_postMessage(channel="C1", text=f"burst {i}")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="one too many")
    assert refused.value.response.status_code == 429
    assert refused.value.response["error"] == "ratelimited"
    retry_after = refused.value.response.headers["Retry-After"]
    assert retry_after == "1"
    assert [m["text"] for m in limited.messages("C1")] == ["burst 0", "burst 1", "burst 2"]
    assert client.chat_postMessage(channel="C2", text="another channel")["ok"]
    assert client.chat_postMessage(channel="U1", text="a DM is a channel too")["ok"]

    time.sleep(int(retry_after))
    assert client.chat_postMessage(channel="C1", text="after the wait")["ok"]
    assert [m["text"] for m in limited.messages("C1")][-1] == "after the wait"
    assert rate_limited(limited) == ["chat.postMessage"]


def test_chat_update_is_limited_per_workspace_across_channels(limited: SlackStandIn) -> None:
    client = WebClient(token="xoxb-test", base_url=limited.base_url)
    channels = [f"C{i}" for i in range(TIER_3.burst + 1)]
    posted = {c: client.chat_postMessage(channel=c, text="card")["ts"] for c in channels}
    for channel in channels[:-1]:
        client.chat_update(channel=channel, ts=posted[channel], text="edited")
    with pytest.raises(SlackApiError) as refused:
        client.chat_update(channel=channels[-1], ts=posted[channels[-1]], text="edited")
    assert refused.value.response.status_code == 429
    assert int(refused.value.response.headers["Retry-After"]) >= 1
    assert limited.messages(channels[-1])[0]["text"] == "card"
    # Other methods keep their own buckets, and some have none.
    assert client.users_info(user="U1")["ok"] and client.chat_postMessage(channel="C1", text="x")["ok"]
    for _ in range(30):
        client.auth_test()
    assert rate_limited(limited) == ["chat.update"]


def test_limits_can_be_overridden_and_apply_only_when_asked_for(standin: SlackStandIn) -> None:
    strict = {"users.info": Limit(per_second=0.25, burst=1)}
    with SlackStandIn(rate_limits=True, limits=strict) as running:
        client = WebClient(token="xoxb-test", base_url=running.base_url)
        client.users_info(user="U1")
        with pytest.raises(SlackApiError) as refused:
            client.users_info(user="U1")
        assert refused.value.response.headers["Retry-After"] == "4"
    with pytest.raises(ValueError, match="rate_limits"):
        SlackStandIn(limits=strict)

    client = WebClient(token="xoxb-test", base_url=standin.base_url)
    for i in range(30):
        client.chat_postMessage(channel="C1", text=f"{i}")
        client.chat_update(channel="C1", ts=standin.messages("C1")[-1]["ts"], text="edited")
    assert len(standin.messages("C1")) == 30 and rate_limited(standin) == []


def test_injected_faults_come_first_and_spend_no_token(limited: SlackStandIn) -> None:
    client = WebClient(token="xoxb-test", base_url=limited.base_url)
    limited.inject("chat.postMessage", "ratelimit", retry_after=7)
    with pytest.raises(SlackApiError) as injected:
        client.chat_postMessage(channel="C1", text="x")
    assert injected.value.response.headers["Retry-After"] == "7"
    for _ in range(POST_MESSAGE_LIMIT.burst):
        client.chat_postMessage(channel="C1", text="x")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x")
    assert [c.fault for c in limited.calls("chat.postMessage")] == [
        "ratelimit",
        None,
        None,
        None,
        "rate_limited",
    ]
    limited.clear()
    assert client.chat_postMessage(channel="C1", text="the buckets are full again")["ok"]


def test_added_chatter_is_people_talking(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="card")
    standin.add_messages("C1", 3)
    standin.add_messages("U1", 1, user="U1", text="in the DM")
    stored = standin.messages("C1")
    assert [m["text"] for m in stored] == ["card", "chatter", "chatter", "chatter"]
    assert all(m["user"] == "U0CHATTER" and "bot_id" not in m for m in stored[1:])
    assert sorted(float(m["ts"]) for m in stored) == [float(m["ts"]) for m in stored]
    assert len({m["ts"] for m in stored}) == 4
    assert standin.messages("DU1")[0]["user"] == "U1"
    assert standin.calls() == [standin.calls("chat.postMessage")[0]]
    with pytest.raises(ValueError, match="count"):
        standin.add_messages("C1", -1)


def test_history_pages_through_more_than_a_thousand_messages_after_oldest(
    standin: SlackStandIn, client: WebClient
) -> None:
    before = client.chat_postMessage(channel="C1", text="before")["ts"]
    metadata = {"event_type": "chatops_message", "event_payload": {"key": "ticket-1-card"}}
    card = client.chat_postMessage(channel="C1", text="card", metadata=metadata)["ts"]
    standin.add_messages("C1", 1100)

    def walk(*, post_meanwhile: bool = False, **kwargs: object) -> list[dict]:
        seen, cursor = [], None
        while True:
            page = client.conversations_history(channel="C1", cursor=cursor, **kwargs)
            seen += page["messages"]
            cursor = page["response_metadata"]["next_cursor"]
            assert page["has_more"] is bool(cursor)
            if not cursor:
                return seen
            if post_meanwhile:
                # A message posted while a caller pages must not repeat an item on the next page.
                client.chat_postMessage(channel="C1", text="posted meanwhile")

    found = walk(oldest=before, limit=200, include_all_metadata=True, post_meanwhile=True)
    assert len(found) == 1101 and len({m["ts"] for m in found}) == 1101
    assert [float(m["ts"]) for m in found] == sorted((float(m["ts"]) for m in found), reverse=True)
    assert found[-1]["ts"] == card and found[-1]["metadata"] == metadata
    assert {m["text"] for m in found[:-1]} == {"chatter"}

    assert len(client.conversations_history(channel="C1", limit=1000)["messages"]) == 999
    everything = walk(limit=999)
    assert [m["text"] for m in everything][-2:] == ["card", "before"] and len(everything) == 1107
    assert "metadata" not in everything[-2]
    with pytest.raises(SlackApiError) as bad:
        client.conversations_history(channel="C1", cursor="bm90IGEgY3Vyc29y")
    assert bad.value.response["error"] == "invalid_cursor"


def test_replies_page_through_a_long_thread(client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="parent")["ts"]
    for i in range(5):
        client.chat_postMessage(channel="C1", text=f"reply {i}", thread_ts=parent)
    first = client.conversations_replies(channel="C1", ts=parent, limit=4)
    rest = client.conversations_replies(
        channel="C1", ts=parent, limit=4, cursor=first["response_metadata"]["next_cursor"]
    )
    texts = [m["text"] for m in first["messages"] + rest["messages"]]
    assert texts == ["parent", *(f"reply {i}" for i in range(5))] and rest["has_more"] is False


def test_signatures_verify_and_tampering_is_refused() -> None:
    requests = SlackRequests(SECRET)
    verifier = SignatureVerifier(SECRET)
    signed = requests.slash_command("new printer on fire", user_id="U1")
    assert verifier.is_valid_request(signed.body, signed.headers)
    assert not verifier.is_valid_request(signed.body.replace(b"printer", b"plotter"), signed.headers)
    stale = requests.slash_command("x", user_id="U1", timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(stale.body, stale.headers)
    retried = requests.event({"type": "app_mention", "text": "hi"}, retry_num=1)
    assert retried.headers["X-Slack-Retry-Num"] == "1"
    assert retried.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert verifier.is_valid_request(retried.body, retried.headers)


def test_find_action_fills_block_id_and_names_what_exists() -> None:
    assert find_action(CARD, "ticket.claim")["block_id"] == "buttons"
    assert find_action(CARD, "ticket.assign")["block_id"] == "summary"
    with pytest.raises(KeyError, match="ticket.claim"):
        find_action(CARD, "ticket.close")


def test_signed_payloads_parse_in_bolt(standin: SlackStandIn, client: WebClient) -> None:
    # Listeners run before the response so each dispatch's effects are visible right after it.
    app = App(signing_secret=SECRET, client=client, process_before_response=True)
    seen: dict[str, dict] = {}

    @app.command("/ticket")
    def command(ack: Ack, command: dict) -> None:
        seen["command"] = command
        ack("created")

    @app.action("ticket.assign")
    def assign(ack: Ack, action: dict, context: BoltContext) -> None:
        seen.update(action=action, context=dict(context))
        ack()

    @app.view("ticket.new")
    def submit(ack: Ack, view: dict) -> None:
        seen["view"] = view
        ack()

    @app.shortcut("ticket.from_message")
    def from_message(ack: Ack, shortcut: dict) -> None:
        seen["shortcut"] = shortcut
        ack()

    @app.event("message")
    def direct_message(event: dict) -> None:
        seen["dm"] = event

    def dispatch(signed: SignedRequest) -> tuple[int, str]:
        response = app.dispatch(BoltRequest(body=signed.body.decode(), headers=signed.headers))
        return response.status, response.body

    requests = SlackRequests(SECRET)

    posted = client.chat_postMessage(channel="C1", text="T-1", blocks=CARD)["message"]
    assert dispatch(requests.slash_command("printer", user_id="U1")) == (200, "created")
    assert seen["command"]["text"] == "printer" and seen["command"]["user_id"] == "U1"
    picked = requests.block_action(PICKER, user_id="U1", channel_id="C1", message=posted, selected_user="U2")
    assert dispatch(picked)[0] == 200
    assert seen["action"]["selected_user"] == "U2" and seen["action"]["block_id"] == "summary"
    assert (seen["context"]["channel_id"], seen["context"]["user_id"], seen["context"]["team_id"]) == (
        "C1",
        "U1",
        "T0TEST",
    )
    submitted = requests.view_submission(
        MODAL,
        user_id="U1",
        values={"title": {"value": {"type": "plain_text_input", "value": "Broken chair"}}},
    )
    assert dispatch(submitted)[0] == 200
    assert seen["view"]["state"]["values"]["title"]["value"]["value"] == "Broken chair"
    assert seen["view"]["private_metadata"] == "C0GENERAL"
    shortcut = requests.message_shortcut(
        callback_id="ticket.from_message", user_id="U1", channel_id="C1", message=posted
    )
    assert dispatch(shortcut)[0] == 200 and seen["shortcut"]["message"]["ts"] == posted["ts"]
    assert dispatch(requests.direct_message("help", user_id="U1"))[0] == 200
    assert seen["dm"]["channel"] == "DU1" and seen["dm"]["channel_type"] == "im"
    assert dispatch(requests.url_verification("abc123")) == (200, '{"challenge": "abc123"}')
    stale = requests.slash_command("x", user_id="U1", timestamp=int(time.time()) - 600)
    assert dispatch(stale)[0] == 401


def test_payload_builders_refuse_impossible_interactions() -> None:
    requests = SlackRequests(SECRET)
    message = {"ts": "1.000001", "text": "T-1", "blocks": CARD}
    with pytest.raises(ValueError, match="selected_user"):
        requests.block_action(PICKER, user_id="U1", channel_id="C1", message=message)
    with pytest.raises(KeyError):
        requests.block_action(
            {"type": "button", "action_id": "gone"}, user_id="U1", channel_id="C1", message=message
        )
    with pytest.raises(ValueError, match="not in the view"):
        requests.view_submission(MODAL, user_id="U1", values={"nope": {}})
    clicked = requests.block_action(BUTTON, user_id="U1", channel_id="C1", message=message)
    action = json.loads(parse_qs(clicked.body.decode())["payload"][0])["actions"][0]
    assert action["block_id"] == "buttons" and action["value"] == "T-1" and "action_ts" in action


def test_send_returns_error_statuses(standin: SlackStandIn) -> None:
    requests = SlackRequests(SECRET)
    signed = requests.sign(b"{}", content_type="application/json")
    assert send(standin.base_url + "auth.test", signed).json() == {"ok": False, "error": "not_authed"}
    standin.inject("auth.test", "server_error")
    failed = send(standin.base_url + "auth.test", signed)
    assert failed.status == 500 and failed.text == "internal error"
    with pytest.raises(ValueError, match="not JSON"):
        failed.json()


def test_socket_mode_round_trip_with_builtin_client(standin: SlackStandIn) -> None:
    socket_client = SocketModeClient(
        app_token="xapp-test", web_client=WebClient(base_url=standin.base_url), auto_reconnect_enabled=False
    )

    def acknowledge(client: SocketModeClient, request: SocketModeRequest) -> None:
        reply = {"text": f"got {request.payload['text']}"}
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id, payload=reply))

    socket_client.socket_mode_request_listeners.append(acknowledge)
    socket_client.connect()
    try:
        standin.wait_socket_connected()
        payload = SlackRequests(SECRET).slash_command_payload("status", user_id="U1")
        ack = standin.socket_request("slash_commands", payload)
        assert ack["payload"] == {"text": "got status"} and ack["envelope_id"]
        assert standin.calls("apps.connections.open")[0].token == "xapp-test"
    finally:
        socket_client.close()


def test_socket_mode_round_trip_with_aiohttp_client(standin: SlackStandIn) -> None:
    async def scenario() -> dict:
        web_client = AsyncWebClient(base_url=standin.base_url)
        socket_client = AsyncSocketModeClient(
            app_token="xapp-test", web_client=web_client, auto_reconnect_enabled=False
        )

        async def acknowledge(client: AsyncSocketModeClient, request: SocketModeRequest) -> None:
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

        socket_client.socket_mode_request_listeners.append(acknowledge)
        await socket_client.connect()
        try:
            await asyncio.to_thread(standin.wait_socket_connected)
            event = SlackRequests(SECRET).event_payload({"type": "app_mention", "text": "hi", "user": "U1"})
            return await asyncio.to_thread(standin.socket_request, "events_api", event)
        finally:
            await socket_client.close()

    assert "payload" not in asyncio.run(scenario())


def test_bolt_socket_mode_acks_and_unanswered_envelopes_time_out(standin: SlackStandIn) -> None:
    app = App(client=WebClient(token="xoxb-test", base_url=standin.base_url))

    @app.command("/ticket")
    def command(ack: Ack, command: dict) -> None:
        ack(f"opened {command['text']}")

    handler = SocketModeHandler(app, app_token="xapp-test")
    handler.connect()
    try:
        standin.wait_socket_connected()
        requests = SlackRequests(SECRET)
        opened = standin.socket_request("slash_commands", requests.slash_command_payload("jam", user_id="U1"))
        assert opened["payload"] == {"text": "opened jam"}
        # Bolt answers nothing for a command no listener handles, so the envelope stays unacknowledged.
        unhandled = requests.slash_command_payload("x", user_id="U1", command="/nobody")
        with pytest.raises(AssertionError, match="no ack"):
            standin.socket_request("slash_commands", unhandled, timeout=0.5)
    finally:
        handler.close()


def test_socket_request_without_a_client_fails_readably(standin: SlackStandIn) -> None:
    with pytest.raises(AssertionError, match="no Socket Mode client"):
        standin.socket_request("events_api", {}, timeout=0.1)
    with pytest.raises(AssertionError, match="no Socket Mode client connected"):
        standin.wait_socket_connected(timeout=0.05)
