"""Checking the bearer token of every activity Teams sends: signed by a key its OpenID metadata names, for
this bot, from the Bot Framework, unexpired, and for the service URL the activity says to answer on.

The SDK's own validator does the checking, with its issuer check on (it is off by default, and with it off a
token from a foreign tenant whose audience is our app id would pass). Only its choice of keys is ours: it
picks hard-coded key URLs by the token's issuer, while a sovereign cloud, a private deployment or a test
names its keys through the OpenID metadata we are configured with.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

import aiohttp
import jwt
from microsoft_agents.hosting.core import AgentAuthConfiguration, ClaimsIdentity
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator

# Clocks differ a little between the channel and us; the Bot Framework allows five minutes.
LEEWAY = 300
# A token naming a key we do not know makes us fetch the keys again, but not more often than this: the
# channel rotates keys rarely, and a stream of forged key ids must not turn into a stream of fetches.
REFETCH_AFTER = 300.0
_FETCH_TIMEOUT = aiohttp.ClientTimeout(total=10)


class Refused(Exception):
    """The token does not show that the Bot Framework sent the request to this bot; the reason is for logs."""


class KeysUnavailable(Refused):
    """The channel's keys cannot be read, so no token can be checked: our trouble, not the sender's."""


class ChannelTokens:
    """Checks channel tokens against the keys of one OpenID metadata document, fetched and kept."""

    def __init__(self, app_id: str, metadata_url: str, *, ssl_context: ssl.SSLContext | None = None) -> None:
        """`metadata_url` names the issuer and the key set (`jwks_uri`); `ssl_context`, the TLS trust."""
        self.app_id = app_id
        self.metadata_url = metadata_url
        self._ssl = ssl_context if ssl_context is not None else True
        self._issuer: str | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._fetching = asyncio.Lock()

    async def check(self, authorization: str | None, service_url: str | None) -> ClaimsIdentity:
        """Who sent the activity, if the Authorization header holds a channel token for this bot and this
        activity's service URL; Refused otherwise."""
        # A header may carry any byte, and the token's libraries take only text they can encode.
        if authorization is not None and not authorization.isascii():
            raise Refused("the Authorization header is not ASCII")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused("no bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Refused(f"not a token: {error}") from None
        if header.get("alg") != "RS256":
            raise Refused(f"signed with {header.get('alg')!r}, not RS256")
        kid = header.get("kid")
        # The SDK looks the key id up without asking whether there is one: a KeyError, and a 500, otherwise.
        if not isinstance(kid, str) or not kid:
            raise Refused("no key id")
        key = await self._key(kid)
        validator = JwtTokenValidator(self._configuration())
        validator._jwk_client_manager = _KnownKey(key)
        try:
            identity = await validator.validate_token(token)
        except (jwt.PyJWTError, ValueError) as error:
            raise Refused(str(error)) from None
        # The SDK lets a token without an expiry live forever.
        if "exp" not in identity.claims:
            raise Refused('Token is missing the "exp" claim')
        # The channel names the service URL it will take answers on; an activity pointing elsewhere could
        # make us send a token-bearing reply to a stranger. The SDK compares hosts only, if at all.
        if service_url is None or identity.claims.get("serviceurl") != service_url:
            raise Refused("the token's service URL is not the activity's")
        return identity

    def _configuration(self) -> AgentAuthConfiguration:
        return AgentAuthConfiguration(
            client_id=self.app_id, issuers=[self._issuer or ""], validate_issuer=True
        )

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            async with self._fetching:
                stale = self._fetched_at is None or time.monotonic() - self._fetched_at > REFETCH_AFTER
                if kid not in self._keys and stale:
                    await self._fetch()
        key = self._keys.get(kid)
        if key is None:
            raise Refused(f"key {kid[:40]!r} is not one of the channel's")
        return key

    async def _fetch(self) -> None:
        """Read the metadata for the issuer and the key set's address, then the keys themselves."""
        try:
            async with aiohttp.ClientSession(timeout=_FETCH_TIMEOUT) as session:
                async with session.get(self.metadata_url, ssl=self._ssl) as answer:
                    answer.raise_for_status()
                    metadata = await answer.json(content_type=None)
                async with session.get(metadata["jwks_uri"], ssl=self._ssl) as answer:
                    answer.raise_for_status()
                    jwks = await answer.json(content_type=None)
            keys = jwt.PyJWKSet.from_dict(jwks)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError, jwt.PyJWTError) as error:
            # Nothing can be checked without keys: every request is refused until they can be read again.
            raise KeysUnavailable(
                f"the channel's keys cannot be read from {self.metadata_url}: {error!r}"
            ) from None
        self._issuer = metadata["issuer"]
        self._keys = {key.key_id: key for key in keys.keys if key.key_id}
        self._fetched_at = time.monotonic()


class _KnownKey:
    """Hands the SDK's validator the key we found for the token, wherever the SDK would have looked."""

    def __init__(self, key: jwt.PyJWK) -> None:
        self._key = key

    async def get_signing_key(self, _jwks_uri: str, _header: dict[str, Any]) -> jwt.PyJWK:
        return self._key
