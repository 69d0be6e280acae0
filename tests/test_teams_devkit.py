"""Tests of the Teams stand-ins, through the clients that will call them: PyJWT, aiohttp, requests, MSAL."""

import asyncio
import base64
import json
import time
from typing import Any

import aiohttp
import aiohttp.connector
import jwt
import msal
import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding

from adapters.teams.devkit.authority import BOT_FRAMEWORK_ISSUER, BOT_FRAMEWORK_SCOPE, IdentityProvider
from adapters.teams.devkit.connector import DENIED, BotConnector
from adapters.teams.devkit.tls import LocalCA
from harness import wait_until

USER = {
    "id": "29:1devkit-user",
    "name": "Ada Lovelace",
    "aadObjectId": "00000000-0000-4000-8000-0000000000ad",
}


def https_session(ca: LocalCA, **kwargs: Any) -> aiohttp.ClientSession:
    """An aiohttp session that trusts the test CA."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ca.client_context()), **kwargs)


def fetch_json(ca: LocalCA, url: str) -> Any:
    """GET a JSON document over https with aiohttp, trusting the test CA."""

    async def get() -> Any:
        async with https_session(ca) as session, session.get(url) as response:
            response.raise_for_status()
            return await response.json()

    return asyncio.run(get())


def validate(identity: IdentityProvider, token: str, ca: LocalCA) -> dict[str, Any]:
    """Validate a channel token the way a careful bot does, with PyJWT and the served JWKS."""
    keys = jwt.PyJWKClient(identity.keys_url, ssl_context=ca.client_context())
    key = keys.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=identity.app_id,
        issuer=BOT_FRAMEWORK_ISSUER,
        options={"require": ["exp", "nbf", "iss", "aud"]},
    )


def app_token(identity: IdentityProvider) -> str:
    """An access token for the Bot Connector, fetched from the token endpoint with requests."""
    answer = requests.post(
        identity.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": identity.app_id,
            "client_secret": identity.app_secret,
            "scope": BOT_FRAMEWORK_SCOPE,
        },
        timeout=5,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def post(
    ca: LocalCA,
    url: str,
    body: Any,
    token: str | None = None,
    timeout: float = 5.0,
    answer_within: float | None = None,
) -> tuple[int, Any, dict]:
    """POST JSON over https with aiohttp; return status, decoded body and headers. `answer_within` bounds
    only the wait for the answer, once the request is sent."""

    async def send() -> tuple[int, Any, dict]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client_timeout = aiohttp.ClientTimeout(total=timeout, sock_read=answer_within)
        async with (
            https_session(ca, timeout=client_timeout) as session,
            session.post(url, json=body, headers=headers) as response,
        ):
            text = await response.text()
            return response.status, json.loads(text) if text else None, dict(response.headers)

    return asyncio.run(send())


# The identity provider.


def test_the_jwks_has_the_shape_of_the_bot_framework_keys(identity: IdentityProvider, ca: LocalCA) -> None:
    document = fetch_json(ca, identity.keys_url)
    (key,) = document["keys"]
    assert set(key) == {"kty", "use", "kid", "x5t", "n", "e", "x5c", "endorsements"}
    assert (key["kty"], key["use"], key["e"], key["endorsements"]) == ("RSA", "sig", "AQAB", ["msteams"])
    # The certificate in x5c carries the same public key as n and e.
    assert (
        jwt.PyJWK(key).key.public_numbers() == identity.channel_key.certificate.public_key().public_numbers()
    )
    assert base64.b64decode(key["x5c"][0]) == identity.channel_key.certificate.public_bytes(Encoding.DER)


def test_the_metadata_points_at_the_jwks(identity: IdentityProvider, ca: LocalCA) -> None:
    metadata = fetch_json(ca, identity.metadata_url)
    assert metadata["issuer"] == BOT_FRAMEWORK_ISSUER
    assert metadata["jwks_uri"] == identity.keys_url
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]


def test_a_minted_token_validates_against_the_served_keys(identity: IdentityProvider, ca: LocalCA) -> None:
    token = identity.mint("https://smba.trafficmanager.net/amer/")
    claims = validate(identity, token, ca)
    assert claims["serviceurl"] == "https://smba.trafficmanager.net/amer/"
    assert claims["aud"] == identity.app_id
    assert jwt.get_unverified_header(token)["kid"] == identity.channel_key.kid


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"expired": True}, jwt.ExpiredSignatureError),
        ({"audience": "someone-else"}, jwt.InvalidAudienceError),
        ({"issuer": "https://sts.windows.net/evil/"}, jwt.InvalidIssuerError),
        ({"signer": "none"}, jwt.PyJWTError),
        ({"signer": "foreign"}, jwt.PyJWKClientError),
        ({"signer": "foreign", "kid": "trusted"}, jwt.InvalidSignatureError),
        ({"kid": None}, jwt.PyJWKClientError),
        ({"not_before": time.time() + 3600}, jwt.ImmatureSignatureError),
    ],
    ids=[
        "expired",
        "audience",
        "issuer",
        "unsigned",
        "foreign-key",
        "foreign-key-trusted-kid",
        "no-kid",
        "nbf",
    ],
)
def test_each_bad_token_fails_validation(
    identity: IdentityProvider, ca: LocalCA, overrides: dict[str, Any], error: type[Exception]
) -> None:
    if overrides.get("kid") == "trusted":
        overrides = {**overrides, "kid": identity.channel_key.kid}
    token = identity.mint("https://smba.trafficmanager.net/amer/", **overrides)
    with pytest.raises(error):
        validate(identity, token, ca)


def test_a_token_can_name_another_service_url(identity: IdentityProvider, ca: LocalCA) -> None:
    token = identity.mint(
        "https://smba.trafficmanager.net/amer/", claims={"serviceurl": "https://evil.example/"}
    )
    assert validate(identity, token, ca)["serviceurl"] == "https://evil.example/"


def test_the_token_endpoint_issues_tokens_to_the_app_only(
    identity: IdentityProvider, trusting: LocalCA
) -> None:
    token = app_token(identity)
    assert identity.is_issued(token)
    assert not identity.is_issued(token, audience="https://graph.microsoft.com")
    assert not identity.is_issued(identity.mint("https://x.example/"))
    (call,) = identity.calls("token")
    assert call.body["client_id"] == identity.app_id and call.status == 200

    wrong_secret = requests.post(
        identity.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": identity.app_id,
            "client_secret": "guess",
            "scope": BOT_FRAMEWORK_SCOPE,
        },
        timeout=5,
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"


def test_msal_gets_a_token_from_the_oidc_authority(identity: IdentityProvider, trusting: LocalCA) -> None:
    app = msal.ConfidentialClientApplication(
        identity.app_id, authority=identity.oidc_authority, client_credential=identity.app_secret
    )
    result = app.acquire_token_for_client([BOT_FRAMEWORK_SCOPE])
    assert identity.is_issued(result["access_token"])
    # Only the metadata and the token endpoint were needed: no instance discovery anywhere.
    assert [c.operation for c in identity.calls()] == ["tenant_metadata", "token"]


def test_msal_gets_a_token_from_an_entra_style_authority_without_instance_discovery(
    identity: IdentityProvider, trusting: LocalCA
) -> None:
    app = msal.ConfidentialClientApplication(
        identity.app_id,
        authority=identity.authority,
        client_credential=identity.app_secret,
        instance_discovery=False,
    )
    result = app.acquire_token_for_client([BOT_FRAMEWORK_SCOPE])
    assert identity.is_issued(result["access_token"])
    assert identity.calls("tenant_metadata")[0].path.endswith("/v2.0/.well-known/openid-configuration")


def test_the_token_endpoint_takes_faults(identity: IdentityProvider, trusting: LocalCA) -> None:
    identity.inject("token", "server_error")
    with pytest.raises(requests.HTTPError):
        app_token(identity)
    assert app_token(identity)
    assert [c.fault for c in identity.calls("token")] == ["server_error", None]


# TLS: which client honours which variable.


def test_requests_trusts_the_ca_through_requests_ca_bundle_only(
    identity: IdentityProvider, ca: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(identity.keys_url, timeout=5)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.ca_file))
    assert requests.get(identity.keys_url, timeout=5).status_code == 200


def test_pyjwt_key_fetching_trusts_the_ca_through_ssl_cert_file(
    identity: IdentityProvider, ca: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    token = identity.mint("https://smba.trafficmanager.net/amer/")
    # No ssl_context given: this is how the SDK builds its key client.
    assert (
        jwt.PyJWKClient(identity.keys_url).get_signing_key_from_jwt(token).key_id == identity.channel_key.kid
    )


def test_the_connector_refuses_a_missing_or_foreign_token(
    connector: BotConnector, identity: IdentityProvider, ca: LocalCA
) -> None:
    url = connector.service_url + "v3/conversations/a:1x/activities"
    activity = {"type": "message", "text": "hi"}
    assert post(ca, url, activity)[:2] == (401, DENIED)
    assert post(ca, url, activity, token=identity.mint(connector.service_url))[:2] == (401, DENIED)
    assert (
        post(
            ca,
            url,
            activity,
            token=identity.issue("another-app", "https://graph.microsoft.com/.default").token,
        )[0]
        == 401
    )
    assert [c.status for c in connector.calls("send_to_conversation")] == [401, 401, 401]
    assert connector.messages("a:1x") == []


def test_the_connector_refuses_an_expired_token(
    connector: BotConnector, identity: IdentityProvider, ca: LocalCA
) -> None:
    stale = identity.issue(identity.app_id, BOT_FRAMEWORK_SCOPE, lifetime=-1).token
    url = connector.service_url + "v3/conversations/a:1x/activities"
    assert post(ca, url, {"type": "message", "text": "hi"}, token=stale)[0] == 401


def test_the_connector_stores_sent_and_replied_messages(
    connector: BotConnector, identity: IdentityProvider, ca: LocalCA, trusting: LocalCA
) -> None:
    token = app_token(identity)
    conversation = "19:general@thread.tacv2"
    status, sent, _ = post(
        ca,
        connector.service_url + f"v3/conversations/{conversation}/activities",
        {"type": "message", "text": "a"},
        token,
    )
    assert status == 201
    status, replied, _ = post(
        ca,
        connector.service_url + f"v3/conversations/{conversation}/activities/{sent['id']}",
        {"type": "message", "text": "b"},
        token,
    )
    assert status == 201
    assert [(m["id"], m["text"]) for m in connector.messages(conversation)] == [
        (sent["id"], "a"),
        (replied["id"], "b"),
    ]
    assert connector.messages(conversation)[1]["replyToId"] == sent["id"]
    (call,) = connector.calls("reply_to_activity")
    assert call.token == token and call.body["text"] == "b"


def test_the_connector_injects_a_rate_limit_with_retry_after(
    connector: BotConnector, identity: IdentityProvider, ca: LocalCA, trusting: LocalCA
) -> None:
    connector.inject("send_to_conversation", "ratelimit", retry_after=7)
    url = connector.service_url + "v3/conversations/a:1x/activities"
    status, body, headers = post(ca, url, {"type": "message", "text": "hi"}, app_token(identity))
    assert (status, headers["Retry-After"], body["error"]["code"]) == (429, "7", "TooManyRequests")
    assert connector.messages("a:1x") == []


def test_a_held_answer_is_acted_on_only_if_the_caller_waits(
    connector: BotConnector, identity: IdentityProvider, ca: LocalCA, trusting: LocalCA
) -> None:
    token = app_token(identity)
    url = connector.service_url + "v3/conversations/a:1x/activities"
    connector.inject("send_to_conversation", "timeout", delay=3.0)
    with pytest.raises(TimeoutError):
        post(ca, url, {"type": "message", "text": "lost"}, token, answer_within=1.0)
    connector.inject("send_to_conversation", "timeout", delay=0.3)
    assert post(ca, url, {"type": "message", "text": "late"}, token)[0] == 201
    # The first is over once its hold is: abandoned by its caller, it was never acted on.
    calls = wait_until(
        lambda: connector.calls("send_to_conversation"),
        lambda calls: None not in [c.status for c in calls],
        "both held calls over",
        10,
    )
    assert [(c.fault, c.status) for c in calls] == [("timeout", 504), ("timeout", 201)]
    assert [m["text"] for m in connector.messages("a:1x")] == ["late"]


# The SDK against the stand-ins.
