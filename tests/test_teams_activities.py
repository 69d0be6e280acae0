"""The devkit's inbound Teams activities parse with the SDK's own model and carry what the SDK looks for."""

import json

import jwt
import pytest
from microsoft_agents.activity import Activity

from adapters.teams.devkit.activities import TeamsActivities, signed, teams_user
from adapters.teams.devkit.authority import APP_ID, BOT_FRAMEWORK_ISSUER, TENANT_ID, IdentityProvider
from adapters.teams.devkit.connector import personal_chat_id

SERVICE_URL = "https://localhost:4443/amer/"
CHANNEL = "19:a1b2c3d4e5f6@thread.tacv2"
ADA = teams_user("Ada Lovelace")


@pytest.fixture
def build() -> TeamsActivities:
    """Activities from a stand-in serviceUrl."""
    return TeamsActivities(SERVICE_URL)


def test_a_user_is_the_same_person_every_time() -> None:
    again = teams_user("Ada Lovelace")
    assert again == ADA
    assert ADA.user_id.startswith("29:")
    assert teams_user("Grace Hopper").aad_object_id != ADA.aad_object_id


def test_a_personal_message_is_in_the_chat_the_connector_makes(build: TeamsActivities) -> None:
    activity = Activity.model_validate(build.personal_message(ADA, "Export crashes", id="1700000000001"))
    reference = activity.get_conversation_reference()
    assert reference.service_url == SERVICE_URL
    assert reference.conversation.id == personal_chat_id(ADA.user_id)
    assert reference.activity_id == "1700000000001"
    assert activity.conversation.conversation_type == "personal"
    assert activity.from_property.aad_object_id == ADA.aad_object_id
    assert activity.recipient.id == f"28:{APP_ID}"
    assert activity.text == "Export crashes"
    assert activity.get_mentions() == []
    assert activity.timestamp is not None and activity.timestamp.utcoffset().total_seconds() == 0


def test_a_channel_message_mentions_the_bot_and_threads_on_itself(build: TeamsActivities) -> None:
    raw = build.channel_message(ADA, CHANNEL, "Export crashes", team_id="19:team@thread.tacv2")
    activity = Activity.model_validate(raw)
    assert activity.conversation.id == f"{CHANNEL};messageid={activity.id}"
    assert activity.conversation.is_group is True
    assert activity.text == "<at>chatops</at> Export crashes"
    [mention] = activity.get_mentions()
    assert mention.mentioned.id == f"28:{APP_ID}"
    assert mention.text == "<at>chatops</at>"
    assert raw["channelData"]["channel"] == {"id": CHANNEL}
    assert raw["channelData"]["teamsTeamId"] == "19:team@thread.tacv2"
    assert raw["channelData"]["tenant"] == {"id": TENANT_ID}


def test_a_group_message_can_go_without_a_mention(build: TeamsActivities) -> None:
    activity = Activity.model_validate(
        build.group_message(ADA, "19:chat@thread.v2", "anyone?", mention_bot=False)
    )
    assert activity.conversation.conversation_type == "groupChat"
    assert activity.text == "anyone?"
    assert activity.get_mentions() == []


def test_a_card_action_is_an_adaptive_card_invoke(build: TeamsActivities) -> None:
    conversation = f"{CHANNEL};messageid=1700000000001"
    raw = build.card_action(ADA, conversation, "1700000000002", {"ticket": 7}, "claim")
    activity = Activity.model_validate(raw)
    assert activity.type == "invoke"
    assert activity.name == "adaptiveCard/action"
    assert activity.reply_to_id == "1700000000002"
    assert activity.value == {
        "action": {"type": "Action.Execute", "verb": "claim", "data": {"ticket": 7}},
        "trigger": "manual",
    }
    assert raw["channelData"]["channel"] == {"id": CHANNEL}


def test_installation_and_team_events(build: TeamsActivities) -> None:
    installed = Activity.model_validate(build.installed_personal(ADA))
    assert (installed.type, installed.action) == ("installationUpdate", "add")
    assert installed.conversation.id == personal_chat_id(ADA.user_id)
    added = Activity.model_validate(build.bot_added_to_team(ADA, "19:team@thread.tacv2", CHANNEL))
    assert added.type == "conversationUpdate"
    assert [m.id for m in added.members_added] == [f"28:{APP_ID}"]
    assert added.channel_data["eventType"] == "teamMemberAdded"


def test_signed_carries_a_channel_token_for_the_service_url(build: TeamsActivities, ca) -> None:
    identity = IdentityProvider(ca)
    activity = build.personal_message(ADA, "hello")
    headers, body = signed(activity, identity)
    assert json.loads(body) == activity
    assert headers["Content-Type"] == "application/json"
    scheme, token = headers["Authorization"].split(" ")
    claims = jwt.decode(
        token, identity.channel_key.private_key.public_key(), algorithms=["RS256"], audience=APP_ID
    )
    assert scheme == "Bearer"
    assert (claims["serviceurl"], claims["iss"]) == (SERVICE_URL, BOT_FRAMEWORK_ISSUER)
    # Overrides reach the token, so a test can send the bad ones the same way.
    forged_headers, _ = signed(activity, identity, audience="someone-else")
    forged = forged_headers["Authorization"].removeprefix("Bearer ")
    assert jwt.decode(forged, options={"verify_signature": False})["aud"] == "someone-else"
