"""Every activity's token is checked against the keys Teams' OpenID metadata names, and every kind of bad
token is refused: tested against a local identity provider holding a key made at run time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.teams.auth import ChannelTokens, KeysUnavailable, Refused
from adapters.teams.devkit.authority import APP_ID, IdentityProvider
from adapters.teams.devkit.tls import LocalCA

SERVICE_URL = "https://smba.example.test/amer/"


def checker(identity: IdentityProvider, ca: LocalCA) -> ChannelTokens:
    return ChannelTokens(APP_ID, identity.metadata_url, ssl_context=ca.client_context())


def check(tokens: ChannelTokens, token: str | None, service_url: str | None = SERVICE_URL) -> dict[str, Any]:
    header = f"Bearer {token}" if token is not None else None
    return asyncio.run(tokens.check(header, service_url)).claims


def test_a_channel_token_for_this_bot_is_accepted(identity: IdentityProvider, ca: LocalCA) -> None:
    claims = check(checker(identity, ca), identity.mint(SERVICE_URL))
    assert (claims["aud"], claims["iss"], claims["serviceurl"]) == (
        APP_ID,
        "https://api.botframework.com",
        SERVICE_URL,
    )


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"expired": True}, "expired"),
        ({"audience": "00000000-0000-4000-8000-0000000000ff"}, "(?i)audience"),
        ({"issuer": "https://sts.windows.net/another-tenant/"}, "issuer"),
        ({"signer": "foreign", "kid": "the channel's"}, "Signature verification failed"),
        ({"signer": "foreign"}, "is not one of the channel's"),
        ({"signer": "none"}, "not RS256"),
        ({"kid": None}, "no key id"),
        ({"omit": ["exp"]}, 'Token is missing the "exp" claim'),
        ({"claims": {"serviceurl": "https://evil.example/"}}, "service URL"),
        ({"not_before": 4_102_444_800}, "not yet valid"),
    ],
)
def test_each_bad_token_is_refused(
    identity: IdentityProvider, ca: LocalCA, bad: dict[str, Any], reason: str
) -> None:
    if bad.get("kid") == "the channel's":
        # A forger's key passed off under the id of the channel's own key.
        bad = {**bad, "kid": identity.channel_key.kid}
    with pytest.raises(Refused, match=reason):
        check(checker(identity, ca), identity.mint(SERVICE_URL, **bad))


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer not.a.token", "Bearer \u00e9"])
def test_a_missing_or_garbled_header_is_refused(
    identity: IdentityProvider, ca: LocalCA, header: str | None
) -> None:
    with pytest.raises(Refused):
        asyncio.run(checker(identity, ca).check(header, SERVICE_URL))


def test_an_activity_naming_another_service_url_is_refused(identity: IdentityProvider, ca: LocalCA) -> None:
    tokens = checker(identity, ca)
    token = identity.mint(SERVICE_URL)
    for other in ("https://smba.example.test/emea/", "https://smba.example.test/amer", None):
        with pytest.raises(Refused, match="service URL"):
            check(tokens, token, other)


def test_the_keys_are_fetched_once_and_a_forged_key_id_fetches_no_more(
    identity: IdentityProvider, ca: LocalCA
) -> None:
    tokens = checker(identity, ca)
    for _ in range(3):
        check(tokens, identity.mint(SERVICE_URL))
    for _ in range(3):
        with pytest.raises(Refused):
            check(tokens, identity.mint(SERVICE_URL, signer="foreign", kid="forged"))
    assert len(identity.calls("channel_metadata")) == 1 and len(identity.calls("channel_keys")) == 1


def test_keys_that_cannot_be_read_refuse_every_request_as_our_trouble(
    identity: IdentityProvider, ca: LocalCA
) -> None:
    identity.inject("channel_keys", "server_error")
    tokens = checker(identity, ca)
    with pytest.raises(KeysUnavailable):
        check(tokens, identity.mint(SERVICE_URL))
    # Read again on the next request, once the keys can be had.
    assert check(tokens, identity.mint(SERVICE_URL))["aud"] == APP_ID


def test_keys_over_an_untrusted_connection_are_not_read(identity: IdentityProvider) -> None:
    tokens = ChannelTokens(APP_ID, identity.metadata_url)
    with pytest.raises(KeysUnavailable, match="certificate"):
        check(tokens, identity.mint(SERVICE_URL))
