"""TLS for the capture server: a certificate pair the user supplies, or a private CA made on demand.

``--tls self-signed`` creates a throwaway CA and a leaf certificate for ``localhost``/``127.0.0.1``/``::1``.
Clients trust it with :meth:`TlsFiles.client_context` (or ``ca_path``) instead of turning verification off.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Imported with the module, not inside self_signed(): a late first import (e.g. inside an in-process pytester run
# that later unloads it) leaves cryptography's Rust types and its Python classes out of step.
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the server certificate chain and key, and of the CA that signed it (when we made it)."""

    cert_path: Path
    key_path: Path
    ca_path: Path | None = None

    def server_context(self) -> ssl.SSLContext:
        """An SSL context for the server side. Raises ``ssl.SSLError``/``OSError`` for unreadable files."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert_path), str(self.key_path))
        return context

    def client_context(self) -> ssl.SSLContext:
        """An SSL context for clients that trusts this server's certificate (and verifies the host name)."""
        return ssl.create_default_context(cafile=str(self.ca_path or self.cert_path))


def self_signed(directory: Path | None = None, hostnames: tuple[str, ...] = ("localhost",)) -> TlsFiles:
    """Create a private CA and a server certificate signed by it, valid for loopback names, in ``directory``."""
    folder = Path(directory or tempfile.mkdtemp(prefix="mailtrap-lite-tls-"))
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    valid_from, valid_to = now - datetime.timedelta(days=1), now + datetime.timedelta(days=825)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailtrap-lite test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    names += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    files = TlsFiles(folder / "server.pem", folder / "server.key", folder / "ca.pem")
    files.ca_path.write_bytes(ca_cert.public_bytes(pem))  # type: ignore[union-attr]
    files.cert_path.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    files.key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.key_path.chmod(0o600)
    return files
