"""Tests of the Jira stand-in, driven over real HTTP through the `jira` library and a webhook receiver."""

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jira
import pytest
import requests
from aiohttp import web
from jira.exceptions import JIRAError

from adapters.devkit.standin import StandIn
from integrations.jira.devkit.standin import JiraStandIn

USER, TOKEN, SECRET = "bot@example.com", "jira-api-token", "hook-secret"
JIRA_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000")


@dataclass(frozen=True)
class Hook:
    """One webhook the receiver got."""

    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class Receiver(StandIn[Hook]):
    """A webhook receiver on a free port; a "server_error" fault injected for "hook" answers 500."""

    name = "webhook-receiver"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _name_of(self, call: Hook) -> str:
        return "hook"

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/hook", self._hook)

    async def _hook(self, request: web.Request) -> web.Response:
        hook = Hook(dict(request.query), dict(request.headers), await request.read())
        with self._lock:
            fault = self._next_fault("hook")
            self._calls.append(hook)
        return web.Response(status=500 if fault else 204)


@pytest.fixture
def standin() -> Iterator[JiraStandIn]:
    with JiraStandIn() as running:
        yield running


@pytest.fixture
def data_center() -> Iterator[JiraStandIn]:
    with JiraStandIn(deployment="Server", pat="pat-token") as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def connect(standin: JiraStandIn, **kwargs: object) -> jira.JIRA:
    options = {"basic_auth": (USER, TOKEN), **kwargs}
    return jira.JIRA(server=standin.base_url, max_retries=0, options={"check_update": False}, **options)


@pytest.fixture
def client(standin: JiraStandIn) -> jira.JIRA:
    return connect(standin)


def test_create_and_get(standin: JiraStandIn, client: jira.JIRA) -> None:
    created = client.create_issue(
        project="SUP", issuetype="Bug", summary="Printer on fire", description="Smoke.", labels=["desk-T-1"]
    )
    assert created.key == "SUP-1" and created.fields.status.name == "To Do"
    assert created.fields.status.statusCategory.key == "new" and created.fields.resolution is None
    assert created.fields.labels == ["desk-T-1"] and created.fields.issuetype.name == "Bug"
    assert JIRA_TIME.fullmatch(created.fields.created) and JIRA_TIME.fullmatch(created.fields.updated)
    # A project and an issue type by name cost two look-ups; the created issue is fetched again.
    assert [c.name for c in standin.calls()] == ["serverInfo", "project", "project", "create", "get"]

    bare = client.create_issue(
        fields={"project": {"key": "PROD"}, "issuetype": {"name": "Story"}, "summary": "Dark mode"},
        prefetch=False,
    )
    assert bare.key == "PROD-1" and set(bare.raw) == {"id", "key", "self"}
    assert [c.name for c in standin.calls()][-1] == "create"

    fetched = client.issue("SUP-1", fields="summary,status")
    assert set(fetched.raw["fields"]) == {"summary", "status"}
    assert client.issue(created.id).key == "SUP-1"
    stored = standin.issue("SUP-1")
    assert stored["summary"] == "Printer on fire" and stored["labels"] == ["desk-T-1"]
    assert stored["reporter"] == "Desk Bot" and stored["created"].tzinfo is UTC
    assert [i["key"] for i in standin.issues()] == ["SUP-1", "PROD-1"]
    assert client.myself()["emailAddress"] == USER

    with pytest.raises(JIRAError) as missing:
        client.issue("SUP-99")
    assert missing.value.status_code == 404
    assert missing.value.response.json()["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."
    ]


def test_create_is_checked_as_jira_checks_it(standin: JiraStandIn, client: jira.JIRA) -> None:
    def refusal(fields: dict) -> dict:
        with pytest.raises(JIRAError) as refused:
            client.create_issue(fields=fields, prefetch=False)
        assert refused.value.status_code == 400
        return refused.value.response.json()["errors"]

    assert set(refusal({"project": {"key": "NOPE"}, "issuetype": {"name": "Bug"}, "summary": "x"})) == {
        "project"
    }
    assert set(refusal({"project": {"key": "PROD"}, "issuetype": {"name": "Task"}, "summary": "x"})) == {
        "issuetype"
    }
    assert set(refusal({"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}})) == {"summary"}
    assert (
        "newline"
        in refusal({"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "a\nb"})["summary"]
    )
    spaced = {"project": {"id": "10000"}, "issuetype": {"id": "10001"}, "summary": "x", "labels": ["a b"]}
    assert refusal(spaced) == {"labels": "The label 'a b' contains spaces which is invalid."}
    assert "cannot be set" in refusal({**spaced, "labels": [], "priority": {"name": "High"}})["priority"]
    assert standin.issues() == []
    with pytest.raises(KeyError):
        client.create_issue(project="SUP", issuetype="Story", summary="x")


def test_issue_types_of_a_project(standin: JiraStandIn, client: jira.JIRA) -> None:
    # The library keeps its createmeta helper from Cloud without asking; a project lists its types anywhere.
    with pytest.raises(JIRAError) as declined:
        client.project_issue_types("SUP")
    assert declined.value.status_code is None and standin.calls("issuetypes") == []
    assert [t.name for t in client.project("SUP").issueTypes] == ["Bug", "Task"]
    with pytest.raises(JIRAError) as unknown:
        client.project("NOPE")
    assert unknown.value.status_code == 404
    answered = requests.get(
        f"{standin.base_url}/rest/api/2/issue/createmeta/PROD/issuetypes", auth=(USER, TOKEN)
    )
    assert [t["name"] for t in answered.json()["issueTypes"]] == ["Story", "Bug"]


def test_update_fields_and_labels(standin: JiraStandIn, client: jira.JIRA) -> None:
    issue = client.create_issue(project="SUP", issuetype="Task", summary="Old", labels=["a", "b"])
    issue.update(fields={"summary": "New"}, update={"labels": [{"add": "c"}, {"remove": "a"}]})
    assert issue.fields.summary == "New" and issue.fields.labels == ["b", "c"]
    # Issue.update PUTs to the issue's self URL (by id) and reloads it from there.
    assert [(c.name, c.method, c.path) for c in standin.calls()[-2:]] == [
        ("update", "PUT", f"/rest/api/2/issue/{issue.id}"),
        ("get", "GET", f"/rest/api/2/issue/{issue.id}"),
    ]
    issue.add_field_value("labels", "d")
    assert standin.issue("SUP-1")["labels"] == ["b", "c", "d"]
    with pytest.raises(JIRAError) as bare:
        # A list keyword goes to "update" as it is, and Jira wants operations there.
        issue.update(labels=["e"])
    assert bare.value.status_code == 400 and standin.issue("SUP-1")["labels"] == ["b", "c", "d"]


def test_comments(standin: JiraStandIn, client: jira.JIRA) -> None:
    key = standin.add_issue("SUP", "Existing")
    comment = client.add_comment(key, "We are on it.", visibility={"type": "role", "value": "Developers"})
    assert comment.body == "We are on it." and comment.author.displayName == "Desk Bot"
    assert JIRA_TIME.fullmatch(comment.created) and comment.visibility.value == "Developers"
    standin.add_comment(key, "Thanks!")
    assert [(c.author.displayName, c.body) for c in client.comments(key)] == [
        ("Desk Bot", "We are on it."),
        ("Pat Product", "Thanks!"),
    ]
    assert [c["body"] for c in standin.issue(key)["comments"]] == ["We are on it.", "Thanks!"]
    with pytest.raises(JIRAError) as empty:
        client.add_comment(key, " ")
    assert empty.value.status_code == 400


def test_transitions(standin: JiraStandIn, client: jira.JIRA) -> None:
    key = standin.add_issue("SUP", "Move me")
    assert {t["name"]: t["to"]["statusCategory"]["key"] for t in client.transitions(key)} == {
        "In Progress": "indeterminate",
        "Done": "done",
        "Won't Do": "done",
    }
    client.transition_issue(key, "In Progress")
    assert client.issue(key).fields.status.name == "In Progress"
    wont = next(t["id"] for t in client.transitions(key) if t["name"] == "Won't Do")
    client.transition_issue(key, wont)
    done = client.issue(key)
    assert done.fields.status.statusCategory.key == "done" and done.fields.resolution.name == "Won't Do"
    assert "Won't Do" not in [t["name"] for t in client.transitions(key)]
    with pytest.raises(JIRAError) as invalid:
        client.transition_issue(key, "99")
    assert invalid.value.status_code == 400 and "not valid" in invalid.value.text
    standin.set_status(key, "To Do")
    assert standin.issue(key)["status"] == "To Do" and standin.issue(key)["resolution"] is None


def test_search_by_label_project_key_and_time(standin: JiraStandIn, client: jira.JIRA) -> None:
    old = standin.add_issue("SUP", "Old", labels=["desk", "desk-T-1"])
    new = standin.add_issue("PROD", "New", labels=["desk", "desk-T-2"])
    standin.set_updated(old, datetime.now(UTC) - timedelta(hours=2))

    def keys(jql: str) -> list[str]:
        return [i.key for i in client.search_issues(jql, maxResults=False)]

    assert keys('labels = "desk-T-1"') == [old]
    assert keys("labels in (desk-T-1, desk-T-2) ORDER BY key") == [new, old]
    assert keys('labels = desk AND updated >= "-15m"') == [new]
    assert keys("labels = desk AND updated >= -3h ORDER BY updated DESC") == [new, old]
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y/%m/%d %H:%M")
    assert keys(f'updated < "{an_hour_ago}"') == [old]
    assert keys(f"project = PROD AND key in ({old}, {new})") == [new]
    assert keys("labels = desk ORDER BY created ASC") == [old, new]

    for jql, message in (
        ("labels ~ desk", "Error in the JQL Query"),
        ("assignee = me", "Error in the JQL Query"),
        ("labels = desk OR labels = x", "Error in the JQL Query"),
        ("key in (SUP-404)", "An issue with key 'SUP-404' does not exist"),
    ):
        with pytest.raises(JIRAError) as refused:
            client.search_issues(jql)
        assert (
            refused.value.status_code == 400 and message in refused.value.response.json()["errorMessages"][0]
        )


def test_cloud_search_pages_by_token(standin: JiraStandIn, client: jira.JIRA) -> None:
    created = [standin.add_issue("SUP", f"Issue {n}", labels=["bulk"]) for n in range(5)]
    standin.set_page_limit(2)
    everything = client.enhanced_search_issues("labels = bulk ORDER BY key", maxResults=0)
    assert [i.key for i in everything] == created and everything.nextPageToken is None
    pages = standin.calls("search")
    assert [c.path for c in pages] == ["/rest/api/2/search/jql"] * 3
    assert "nextPageToken" not in pages[0].query and pages[1].query["nextPageToken"]

    first = client.enhanced_search_issues("labels = bulk ORDER BY key", maxResults=2, use_post=True)
    assert [i.key for i in first] == created[:2] and first.nextPageToken
    rest = client.enhanced_search_issues(
        "labels = bulk ORDER BY key", maxResults=10, nextPageToken=first.nextPageToken
    )
    assert [i.key for i in rest] == created[2:4]
    ids_only = client.enhanced_search_issues("labels = bulk", fields="", json_result=True, maxResults=1)
    assert set(ids_only["issues"][0]) == {"id"} and ids_only["isLast"] is False

    # On Cloud the library's search_issues goes the enhanced way; the old search is gone.
    assert len(client.search_issues("labels = bulk", maxResults=False)) == 5
    retired = requests.get(f"{standin.base_url}/rest/api/2/search", auth=(USER, TOKEN), params={"jql": ""})
    assert retired.status_code == 410


def test_data_center_search_pages_by_start(data_center: JiraStandIn) -> None:
    client = connect(data_center, basic_auth=None, token_auth="pat-token")
    created = [data_center.add_issue("SUP", f"Issue {n}", labels=["bulk"]) for n in range(5)]
    data_center.set_page_limit(2)
    everything = client.search_issues("labels = bulk ORDER BY key", maxResults=False)
    assert [i.key for i in everything] == created and everything.total == 5
    assert [c.query["startAt"] for c in data_center.calls("search")] == ["0", "2", "4"]
    posted = client.search_issues("labels = bulk ORDER BY key", startAt=3, maxResults=5, use_post=True)
    assert [i.key for i in posted] == created[3:] and data_center.calls("search")[-1].method == "POST"
    # Data Center has no enhanced search: the library declines on its own, the server answers 404.
    assert client.enhanced_search_issues("labels = bulk") is None
    assert [t.name for t in client.project_issue_types("PROD")] == ["Story", "Bug"]
    assert data_center.calls("issuetypes")[0].path == "/rest/api/2/issue/createmeta/PROD/issuetypes"
    assert client.myself()["name"] == USER and "accountId" not in client.myself()


def test_authentication_is_required(standin: JiraStandIn) -> None:
    with pytest.raises(JIRAError) as refused:
        connect(standin, basic_auth=(USER, "wrong"))
    assert refused.value.status_code == 401 and "not authenticated" in refused.value.text
    with pytest.raises(JIRAError):
        connect(standin, basic_auth=None, token_auth="no-pat-configured")
    assert [c.name for c in standin.calls()] == ["serverInfo", "serverInfo"]


def test_faults(standin: JiraStandIn, client: jira.JIRA) -> None:
    summary = {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "x"}
    standin.inject("create", "ratelimit", retry_after=7)
    with pytest.raises(JIRAError) as limited:
        client.create_issue(fields=summary, prefetch=False)
    # JIRAError.headers holds the request's headers; the answer's are on its response.
    assert limited.value.status_code == 429 and limited.value.response.headers["Retry-After"] == "7"

    standin.inject("get", "server_error")
    with pytest.raises(JIRAError) as failed:
        client.issue("SUP-1")
    assert failed.value.status_code == 500

    standin.inject("create", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.create_issue(fields=summary, prefetch=False)
    assert [i["key"] for i in standin.issues()] == ["SUP-1"]

    impatient = connect(standin, timeout=0.2)
    standin.inject("create", "slow_effect", delay=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.create_issue(fields=summary, prefetch=False)
    assert [i["key"] for i in standin.issues()] == ["SUP-1", "SUP-2"]
    standin.inject("create", "timeout", delay=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.create_issue(fields=summary, prefetch=False)
    time.sleep(0.5)
    assert len(standin.issues()) == 2
    assert [c.fault for c in standin.calls("create")] == ["ratelimit", "drop", "slow_effect", "timeout"]

    standin.set_latency(0.3)
    began = time.monotonic()
    client.myself()
    assert time.monotonic() - began >= 0.3
    with pytest.raises(ValueError):
        standin.inject("create", "gremlins")


def test_webhooks_are_signed_and_carry_the_change(standin: JiraStandIn, receiver: Receiver) -> None:
    standin.send_webhooks(receiver.url, secret=SECRET)
    key = standin.add_issue("SUP", "Hooked")
    standin.set_status(key, "Done", by="Pat Product")
    standin.add_comment(key, "Shipped")
    hooks = receiver.wait_for("hook", 4)
    events = [json.loads(h.body) for h in hooks]
    assert [(e["webhookEvent"], e.get("issue_event_type_name")) for e in events] == [
        ("jira:issue_created", "issue_created"),
        ("jira:issue_updated", "issue_generic"),
        ("comment_created", None),
        ("jira:issue_updated", "issue_commented"),
    ]
    for hook in hooks:
        expected = "sha256=" + hmac.new(SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(hook.headers["X-Hub-Signature"], expected) and hook.query == {}
        assert hook.headers["Content-Type"] == "application/json"
        assert "X-Atlassian-Webhook-Retry" not in hook.headers
    assert len({h.headers["X-Atlassian-Webhook-Identifier"] for h in hooks}) == 4

    moved = events[1]
    assert moved["user"]["displayName"] == "Pat Product" and moved["issue"]["key"] == key
    assert moved["issue"]["fields"]["status"] == {**moved["issue"]["fields"]["status"], "name": "Done"}
    assert moved["issue"]["fields"]["resolution"] == {"name": "Done"}
    status, resolution = moved["changelog"]["items"]
    assert (status["field"], status["fromString"], status["toString"]) == ("status", "To Do", "Done")
    assert (resolution["field"], resolution["toString"]) == ("resolution", "Done")
    assert (
        events[2]["comment"]["body"] == "Shipped"
        and events[2]["comment"]["author"]["displayName"] == "Pat Product"
    )
    assert [d.event for d in standin.wait_for_delivery(key=key, count=4)] == [
        "jira:issue_created",
        "jira:issue_updated",
        "comment_created",
        "jira:issue_updated",
    ]


def test_rest_changes_send_webhooks_in_query_mode(
    standin: JiraStandIn, client: jira.JIRA, receiver: Receiver
) -> None:
    standin.send_webhooks(receiver.url, secret="s&cret", mode="query", events={"jira:issue_updated"})
    issue = client.create_issue(project="SUP", issuetype="Bug", summary="Via REST")
    issue.update(update={"labels": [{"add": "linked"}]})
    client.transition_issue(issue, "Done")
    hooks = receiver.wait_for("hook", 2)
    assert all(h.query == {"secret": "s&cret"} and "X-Hub-Signature" not in h.headers for h in hooks)
    assert standin.deliveries()[0].url == receiver.url + "?secret=s%26cret"
    labelled, done = (json.loads(h.body) for h in hooks)
    assert labelled["changelog"]["items"][0]["toString"] == "linked"
    assert labelled["user"]["displayName"] == "Desk Bot"
    assert done["issue"]["fields"]["status"]["statusCategory"]["key"] == "done"
    standin.settle_webhooks()
    assert len(receiver.calls()) == 2


def test_webhooks_are_retried_redelivered_and_lost_when_muted(
    standin: JiraStandIn, receiver: Receiver
) -> None:
    standin.send_webhooks(receiver.url, secret=SECRET, retry_delay=0.02)
    receiver.inject("hook", "server_error", times=2)
    key = standin.add_issue("SUP", "Flaky receiver")
    attempts = standin.wait_for_delivery(event="jira:issue_created", count=3)
    assert [d.status for d in attempts] == [500, 500, 204] and attempts[-1].ok
    hooks = receiver.wait_for("hook", 3)
    assert len({h.headers["X-Atlassian-Webhook-Identifier"] for h in hooks}) == 1
    assert [h.headers.get("X-Atlassian-Webhook-Retry") for h in hooks] == [None, "1", "2"]
    assert len({h.body for h in hooks}) == 1

    standin.redeliver(attempts[0].identifier)
    duplicate = receiver.wait_for("hook", 4)[-1]
    assert (duplicate.headers["X-Atlassian-Webhook-Identifier"], duplicate.body) == (
        attempts[0].identifier,
        hooks[0].body,
    )

    standin.mute_webhooks()
    standin.set_status(key, "In Progress")
    standin.unmute_webhooks()
    standin.add_comment(key, "After the gap")
    standin.settle_webhooks()
    kinds = [json.loads(h.body)["webhookEvent"] for h in receiver.calls()[4:]]
    assert kinds == ["comment_created", "jira:issue_updated"]
    assert standin.issue(key)["status"] == "In Progress"

    garbled = standin.deliver_raw(b"{not json")
    expected = "sha256=" + hmac.new(SECRET.encode(), b"{not json", hashlib.sha256).hexdigest()
    assert garbled.status == 204 and receiver.calls()[-1].headers["X-Hub-Signature"] == expected


def test_an_unreachable_receiver_is_retried_then_given_up(standin: JiraStandIn) -> None:
    with Receiver() as gone:
        url = gone.url
    standin.send_webhooks(url, secret=SECRET, retries=2, retry_delay=0.01, timeout=1.0)
    standin.add_issue("SUP", "Nobody listens")
    attempts = standin.wait_for_delivery(count=3)
    assert [d.attempt for d in attempts] == [1, 2, 3]
    assert all(d.status is None and d.error for d in attempts)
    standin.settle_webhooks()
    assert len(standin.deliveries()) == 3
