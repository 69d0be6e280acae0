"""A throwaway certificate authority, made at run time, so the stand-ins can serve https://localhost."""

import datetime
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The SDK and MSAL refuse plain http, and certificates for IP literals are rare in the wild, so serve a name.
HOSTNAME = "localhost"
# The environment variables through which each client library finds extra trust anchors:
# OpenSSL's default verify paths (urllib, PyJWT's key fetcher, and aiohttp when the variable is set
# before aiohttp is first imported) read SSL_CERT_FILE; requests and so MSAL read REQUESTS_CA_BUNDLE.
CA_ENV_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class LocalCA:
    """A certificate authority and one server certificate for localhost, written to a temporary folder."""

    def __init__(self, hostnames: tuple[str, ...] = (HOSTNAME,)) -> None:
        """Make the CA and a server certificate whose SANs are `hostnames` (DNS names)."""
        self._folder = tempfile.TemporaryDirectory(prefix="teams-devkit-ca-")
        folder = Path(self._folder.name)
        now = datetime.datetime.now(datetime.UTC)
        # Backdated so that clocks a little behind ours still accept the certificates.
        not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)

        ca_key = _key()
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chatops devkit test CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )

        server_key = _key()
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
            .issuer_name(ca_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            # Python 3.13+ verifies with VERIFY_X509_STRICT, which wants the key identifiers present.
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )

        self.ca_file = folder / "ca.pem"
        self.cert_file = folder / "server.pem"
        self.key_file = folder / "server-key.pem"
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        # The chain a server presents: its own certificate, then the issuer.
        ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
        self.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
        self.key_file.write_bytes(_pem(server_key))
        self.hostnames = hostnames

    def __enter__(self) -> "LocalCA":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Delete the temporary folder with the keys and certificates."""
        self._folder.cleanup()

    def server_context(self) -> ssl.SSLContext:
        """A TLS context for a server presenting the localhost certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A TLS context for a client that trusts this CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    @property
    def environment(self) -> dict[str, str]:
        """Environment variables that make the usual client libraries trust this CA (see CA_ENV_VARS)."""
        return {name: str(self.ca_file) for name in CA_ENV_VARS}
