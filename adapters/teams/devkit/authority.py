"""A Bot Framework and Entra ID look-alike: signing keys, metadata, minted channel tokens, token endpoint."""

import base64
import datetime
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapters.teams.devkit.server import StandInServer
from adapters.teams.devkit.tls import LocalCA

# What the Bot Framework channel puts in `iss` of the tokens it signs, and the audience of outbound tokens.
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = f"{BOT_FRAMEWORK_ISSUER}/.default"
# Where the SDK looks for the channel's keys; a test has to redirect it (see the package's tests).
BOT_FRAMEWORK_KEYS_PATH = "/v1/.well-known/keys"
BOT_FRAMEWORK_METADATA_PATH = "/v1/.well-known/openidconfiguration"
# Values in the shape the real ones take (GUIDs), so code that parses them meets what it will meet live.
APP_ID = "00000000-0000-4000-8000-00000000a11d"
APP_SECRET = "devkit-client-secret"
TENANT_ID = "00000000-0000-4000-8000-0000000007e1"
# Tokens are checked with five minutes of leeway by the SDK; an expired token is older than that.
EXPIRED_BY = 3600

Signer = Literal["trusted", "foreign", "none"]
_TRUSTED_KID = object()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_uint(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """An RSA key with the self-signed certificate the Bot Framework publishes alongside each key."""

    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def kid(self) -> str:
        """The key id: like the real service's, the certificate's SHA-1 thumbprint, base64url."""
        return self.x5t

    @property
    def x5t(self) -> str:
        """The certificate's SHA-1 thumbprint, base64url (the JWK `x5t`)."""
        return _b64url(self.certificate.fingerprint(hashes.SHA1()))

    def jwk(self, endorsements: Iterable[str] = ()) -> dict[str, Any]:
        """The public key as an entry of a JWKS document, Bot Framework style."""
        numbers = self.private_key.public_key().public_numbers()
        entry: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.x5t,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
            "x5c": [base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()],
        }
        if endorsements:
            entry["endorsements"] = list(endorsements)
        return entry


def make_signing_key(common_name: str) -> SigningKey:
    """Generate an RSA-2048 key and a self-signed certificate for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key, certificate)


@dataclass(frozen=True)
class IssuedToken:
    """An access token the token endpoint handed out."""

    token: str
    client_id: str
    scope: str
    expires_at: float


class IdentityProvider(StandInServer):
    """Serves the channel's JWKS and metadata, mints channel tokens, and issues app tokens like Entra ID."""

    name = "teams-identity"

    def __init__(
        self,
        ca: LocalCA,
        *,
        app_id: str = APP_ID,
        app_secret: str = APP_SECRET,
        tenant_id: str = TENANT_ID,
        endorsements: Iterable[str] = ("msteams",),
        token_lifetime: int = 3599,
        port: int = 0,
    ) -> None:
        """Trust `app_id`/`app_secret` at the token endpoint of `tenant_id`; keys carry `endorsements`."""
        super().__init__(ca, port=port)
        self.app_id = app_id
        self.app_secret = app_secret
        self.tenant_id = tenant_id
        self.endorsements = tuple(endorsements)
        self.token_lifetime = token_lifetime
        self.channel_key = make_signing_key("login.botframework.com")
        # A well-formed key the channel never published: what a forger would sign with.
        self.foreign_key = make_signing_key("login.botframework.com")
        self.entra_key = make_signing_key("login.microsoftonline.com")
        self._issued: dict[str, IssuedToken] = {}
        self._issued_lock = threading.Lock()

    # URLs to configure a client with.

    @property
    def keys_url(self) -> str:
        """The channel's JWKS, standing in for https://login.botframework.com/v1/.well-known/keys."""
        return self.base_url + BOT_FRAMEWORK_KEYS_PATH

    @property
    def metadata_url(self) -> str:
        """The channel's OpenID metadata, standing in for login.botframework.com's openidconfiguration."""
        return self.base_url + BOT_FRAMEWORK_METADATA_PATH

    @property
    def authority(self) -> str:
        """An Entra-style authority (https://host/{tenant}); MSAL needs instance discovery off for it."""
        return f"{self.base_url}/{self.tenant_id}"

    @property
    def oidc_authority(self) -> str:
        """An authority MSAL treats as a generic OIDC one (no instance discovery) by its /dstsv2 path."""
        return f"{self.base_url}/dstsv2/{self.tenant_id}"

    @property
    def token_url(self) -> str:
        """The client-credentials token endpoint."""
        return f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token"

    # Inbound: tokens the channel signs.

    def mint(
        self,
        service_url: str,
        *,
        audience: str | None = None,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        lifetime: int = 3600,
        expired: bool = False,
        not_before: float | None = None,
        signer: Signer = "trusted",
        kid: Any = _TRUSTED_KID,
        claims: Mapping[str, Any] | None = None,
        omit: Iterable[str] = (),
    ) -> str:
        """A bearer token as the Bot Framework channel signs it for an activity sent to the bot.

        Overrides make the bad ones: `audience`, `issuer`, `expired` (past even the SDK's 5-minute leeway),
        `not_before` (epoch seconds), `signer` "foreign" (a key not in the JWKS) or "none" (alg none),
        `kid` (a string, or None for no kid header), extra `claims`, and claims to `omit`.
        """
        now = int(time.time())
        expires = now - EXPIRED_BY if expired else now + lifetime
        payload: dict[str, Any] = {
            "serviceurl": service_url,
            "nbf": int(not_before) if not_before is not None else min(now, expires) - 300,
            "exp": expires,
            "iss": issuer,
            "aud": self.app_id if audience is None else audience,
        }
        payload.update(claims or {})
        for name in omit:
            payload.pop(name, None)
        key = self.foreign_key if signer == "foreign" else self.channel_key
        headers: dict[str, Any] = {"typ": "JWT"}
        if kid is _TRUSTED_KID:
            headers["kid"] = key.kid
        elif kid is not None:
            headers["kid"] = kid
        if signer == "none":
            return jwt.encode(payload, None, algorithm="none", headers=headers)
        return jwt.encode(payload, key.private_key, algorithm="RS256", headers=headers)

    def jwks(self) -> dict[str, Any]:
        """The JWKS document the channel publishes."""
        return {"keys": [self.channel_key.jwk(self.endorsements)]}

    def metadata(self) -> dict[str, Any]:
        """The channel's OpenID metadata document."""
        return {
            "issuer": BOT_FRAMEWORK_ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": self.keys_url,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    # Outbound: tokens the token endpoint issues.

    def issued(self) -> list[IssuedToken]:
        """Tokens handed out by the token endpoint, oldest first."""
        with self._issued_lock:
            return list(self._issued.values())

    def is_issued(self, token: str | None, *, audience: str = BOT_FRAMEWORK_ISSUER) -> bool:
        """Whether `token` came from the token endpoint, is unexpired and is for `audience`."""
        if not token:
            return False
        with self._issued_lock:
            issued = self._issued.get(token)
        if issued is None:
            return False
        try:
            jwt.decode(
                token,
                self.entra_key.private_key.public_key(),
                algorithms=["RS256"],
                audience=audience,
            )
        except jwt.PyJWTError:
            return False
        return True

    def issue(self, client_id: str, scope: str, *, lifetime: int | None = None) -> IssuedToken:
        """Issue an app-only access token directly, as the token endpoint would."""
        now = int(time.time())
        expires = now + (self.token_lifetime if lifetime is None else lifetime)
        resource = scope.removesuffix("/.default")
        payload = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now - 300,
            "exp": expires,
            "appid": client_id,
            "appidacr": "1",
            "tid": self.tenant_id,
            "ver": "1.0",
            "uti": uuid.uuid4().hex,
        }
        token = jwt.encode(
            payload, self.entra_key.private_key, algorithm="RS256", headers={"kid": self.entra_key.kid}
        )
        issued = IssuedToken(token, client_id, scope, float(expires))
        with self._issued_lock:
            self._issued[token] = issued
        return issued

    def clear(self) -> None:
        """Forget recorded calls, pending faults and issued tokens."""
        super().clear()
        with self._issued_lock:
            self._issued.clear()

    # Serving.

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get(
            BOT_FRAMEWORK_METADATA_PATH, self._route("channel_metadata", self._channel_metadata)
        )
        app.router.add_get(BOT_FRAMEWORK_KEYS_PATH, self._route("channel_keys", self._channel_keys))
        app.router.add_get(
            "/{tail:.+}/.well-known/openid-configuration",
            self._route("tenant_metadata", self._tenant_metadata),
        )
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._route("tenant_keys", self._tenant_keys))
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._route("token", self._token, json_body=False))

    async def _channel_metadata(self, request: web.Request, body: Any, token: str | None) -> web.Response:
        return web.json_response(self.metadata())

    async def _channel_keys(self, request: web.Request, body: Any, token: str | None) -> web.Response:
        return web.json_response(self.jwks())

    async def _tenant_keys(self, request: web.Request, body: Any, token: str | None) -> web.Response:
        if request.match_info["tenant"] != self.tenant_id:
            return _aad_error(400, "invalid_tenant", "AADSTS90002: Tenant not found.")
        return web.json_response({"keys": [self.entra_key.jwk()]})

    async def _tenant_metadata(self, request: web.Request, body: Any, token: str | None) -> web.Response:
        # Entra serves /{tenant}/v2.0/...; MSAL asks an OIDC authority (/dstsv2/{tenant}) at its own root.
        segments = [s for s in request.match_info["tail"].split("/") if s not in ("v2.0", "dstsv2")]
        if segments != [self.tenant_id]:
            return _aad_error(400, "invalid_tenant", "AADSTS90002: Tenant not found.")
        tenant_root = f"{self.base_url}/{self.tenant_id}"
        return web.json_response(
            {
                "issuer": f"{tenant_root}/v2.0",
                "authorization_endpoint": f"{tenant_root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{tenant_root}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{tenant_root}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{tenant_root}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
                "tenant_region_scope": "WW",
            }
        )

    async def _token(self, request: web.Request, body: Any, token: str | None) -> web.Response:
        form: dict[str, Any] = body or {}
        if request.match_info["tenant"] != self.tenant_id:
            return _aad_error(400, "invalid_tenant", "AADSTS90002: Tenant not found.")
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", "AADSTS70003: Grant type not supported.")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if request.headers.get("Authorization", "").lower().startswith("basic "):
            decoded = base64.b64decode(request.headers["Authorization"][6:]).decode()
            client_id, _, secret = decoded.partition(":")
        if client_id != self.app_id:
            return _aad_error(400, "unauthorized_client", f"AADSTS700016: Application {client_id} not found.")
        if secret != self.app_secret:
            return _aad_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        scopes = str(form.get("scope", "")).split()
        resource_scopes = [s for s in scopes if s not in ("openid", "profile", "offline_access")]
        if len(resource_scopes) != 1 or not resource_scopes[0].endswith("/.default"):
            return _aad_error(
                400, "invalid_scope", "AADSTS1002012: The scope must be one resource with /.default."
            )
        issued = self.issue(client_id, resource_scopes[0])
        lifetime = max(0, int(issued.expires_at - time.time()))
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": issued.token,
            }
        )


def _aad_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response(
        {
            "error": error,
            "error_description": description,
            "error_codes": [int(description[6 : description.index(":")])],
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
        status=status,
    )
