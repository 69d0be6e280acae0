"""The bot's side of its connection to Teams: its app tokens, the TLS it trusts, and one kept-alive session
per service URL that every call to the Bot Connector goes through, in a turn or from the outbox."""

from __future__ import annotations

import asyncio
import os
import ssl
import time

import aiohttp
import jwt
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import AgentAuthConfiguration, AuthTypes, ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from chatops.errors import ConfigError

# Tokens for the Bot Connector are for this resource, in every public-cloud tenant.
BOT_FRAMEWORK = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = f"{BOT_FRAMEWORK}/.default"
# The user-token service (sign-in flows), which the SDK wants a client for on every turn; the desk uses none.
TOKEN_SERVICE = "https://api.botframework.com"
# The connection name the SDK's connection manager looks for by default.
SERVICE_CONNECTION = "SERVICE_CONNECTION"
_CONNECTIONS = 32


def outbound_tls() -> ssl.SSLContext:
    """Trust the system's certificate authorities, and those SSL_CERT_FILE and REQUESTS_CA_BUNDLE add.

    OpenSSL reads SSL_CERT_FILE instead of the system's store, not beside it; a private deployment that
    adds its own authority still has to reach Microsoft's public endpoints.
    """
    context = ssl.create_default_context()
    defaults = ssl.get_default_verify_paths()
    if defaults.openssl_cafile and os.path.exists(defaults.openssl_cafile):
        context.load_verify_locations(cafile=defaults.openssl_cafile)
    if defaults.openssl_capath and os.path.isdir(defaults.openssl_capath):
        context.load_verify_locations(capath=defaults.openssl_capath)
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        extra = os.environ.get(variable)
        if extra and os.path.isfile(extra):
            context.load_verify_locations(cafile=extra)
    return context


class TeamsConnection:
    """App tokens from the configured authority, and sessions to the Bot Connector, shared by every call."""

    def __init__(
        self,
        *,
        app_id: str,
        password: str,
        tenant_id: str,
        authority: str,
        timeout: float,
        insecure: bool = False,
    ) -> None:
        """`insecure`: no tokens either way, for a local emulator (never for a real Teams)."""
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.insecure = insecure
        self.tls = outbound_tls()
        self.configuration = AgentAuthConfiguration(
            auth_type=AuthTypes.client_secret,
            client_id=app_id,
            tenant_id=tenant_id,
            client_secret=password,
            authority=authority,
            scopes=[BOT_FRAMEWORK_SCOPE],
        )
        self.connections = MsalConnectionManager(
            connections_configurations={SERVICE_CONNECTION: self.configuration}
        )
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._clients: dict[str, tuple[str, TeamsConnectorClient]] = {}
        self._token: str | None = None
        self._token_renew_at = 0.0

    async def check_credentials(self) -> str | None:
        """Ask the authority for a token once, before serving: ConfigError if it refuses the app, else why it
        did not answer, or None. MSAL builds its client synchronously, with network calls: in a thread of its
        own here, so that it is built before serving and never blocks the event loop."""
        if self.insecure:
            return None
        try:
            await asyncio.to_thread(asyncio.run, self.token())
        except ValueError as refused:
            reason = str(refused)
            if "invalid_client" in reason or "unauthorized_client" in reason:
                raise ConfigError(
                    "MICROSOFT_APP_PASSWORD: the token authority refused the app's credentials; make a new "
                    "client secret for MICROSOFT_APP_ID and set it"
                ) from None
            if "invalid_request" in reason or "tenant" in reason.lower():
                raise ConfigError(
                    f"MICROSOFT_APP_TENANT_ID: the token authority refused it ({reason[:200]})"
                ) from None
            return reason[:300]
        except Exception as error:  # noqa: BLE001 - unreachable is not wrong: serve, and ask again later
            return f"{type(error).__name__}: {error}"[:300]
        return None

    async def token(self) -> str:
        """A token for the Bot Connector, kept until shortly before it expires."""
        if self.insecure:
            return ""
        if self._token is not None and time.time() < self._token_renew_at:
            return self._token
        provider = self.connections.get_default_connection()
        token = await provider.get_access_token(BOT_FRAMEWORK, [BOT_FRAMEWORK_SCOPE])
        # MSAL keeps it too, but asks for it from a thread of its own on every call: a hop per message.
        self._token, self._token_renew_at = token, _renew_at(token)
        return token

    def session(self, base_url: str) -> aiohttp.ClientSession:
        """The kept-alive session to one service URL (Teams has a few, by region)."""
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        session = self._sessions.get(base_url)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                base_url=base_url,
                connector=aiohttp.TCPConnector(limit=_CONNECTIONS, ssl=self.tls),
                timeout=self._timeout,
            )
            self._sessions[base_url] = session
        return session

    async def client(self, service_url: str) -> TeamsConnectorClient:
        """A Bot Connector client for a service URL, on its shared session, with a current token."""
        token = await self.token()
        known = self._clients.get(service_url)
        if known is None or known[0] != token or known[1].client.closed:
            # Made once per service URL and token: the SDK's client looks its own version up on creation.
            known = (token, _SharedSessionConnector(service_url, token, session=self.session(service_url)))
            self._clients[service_url] = known
        return known[1]

    async def close(self) -> None:
        """Close every session."""
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
        self._clients.clear()

    def client_factory(self) -> ClientFactory:
        """What the SDK's adapter builds its clients for a turn with: ours, on the shared sessions."""
        return ClientFactory(self)


# A token is renewed this long before it expires, so that none expires on its way to Teams.
RENEW_BEFORE = 300.0


def _renew_at(token: str) -> float:
    """When to ask for a new token: a while before this one expires (read from the token, which is ours)."""
    try:
        expires = float(jwt.decode(token, options={"verify_signature": False}).get("exp", 0))
    except (jwt.PyJWTError, TypeError, ValueError):
        expires = 0.0
    return max(expires - RENEW_BEFORE, time.time() + 60.0) if expires else time.time() + 60.0


class _SharedSessionConnector(TeamsConnectorClient):
    """A connector client whose session belongs to the connection, which outlives the client."""

    async def close(self) -> None:
        """Leave the shared session open for the next call."""


class _SharedSessionTokens(UserTokenClient):
    """A user-token client whose session belongs to the connection, which outlives the client."""

    async def close(self) -> None:
        """Leave the shared session open for the next turn."""


class ClientFactory:
    """The SDK's channel service client factory, handing out clients on the connection's shared sessions
    (the SDK's own opens a new session, and a new TLS handshake, for every turn)."""

    def __init__(self, connection: TeamsConnection) -> None:
        self._connection = connection
        self._user_tokens: UserTokenClient | None = None

    async def create_connector_client(
        self,
        context: TurnContext,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> TeamsConnectorClient:
        """The turn's Bot Connector client."""
        return await self._connection.client(service_url)

    async def create_user_token_client(
        self, context: TurnContext, claims_identity: ClaimsIdentity, use_anonymous: bool = False
    ) -> UserTokenClient:
        """The turn's user-token client: the desk signs no one in, so one tokenless client serves all."""
        if self._user_tokens is None or self._user_tokens.client.closed:
            self._user_tokens = _SharedSessionTokens(
                TOKEN_SERVICE,
                "",
                app_id=self._connection.app_id,
                session=self._connection.session(TOKEN_SERVICE),
            )
        return self._user_tokens
