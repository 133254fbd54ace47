"""TLS for ``nubo serve``: the certificate and key of the settings, checked before serving.

Both files or neither: with neither the API is plain HTTP (behind a
terminating proxy, or on loopback). The pair is loaded once at start-up, as
the server will load it, so a missing file, a key that does not belong to the
certificate or an unreadable PEM is one clear line and exit 1 instead of a
traceback from inside the HTTP server.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from nubo.settings import Settings


class TlsSettingsError(ValueError):
    """The TLS settings cannot serve: the message says which and why."""


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path


def server_tls(settings: Settings) -> TlsFiles | None:
    """The checked certificate and key, or None for plain HTTP."""
    cert, key = settings.tls_cert_file.strip(), settings.tls_key_file.strip()
    if not cert and not key:
        return None
    if not cert or not key:
        given, missing = ("NUBO_TLS_CERT_FILE", "NUBO_TLS_KEY_FILE")[:: 1 if cert else -1]
        raise TlsSettingsError(
            f"TLS needs a certificate and its key: {given} is set, {missing} is not "
            "(--tls-cert and --tls-key)"
        )
    files = TlsFiles(Path(cert).expanduser(), Path(key).expanduser())
    for what, path in (("certificate", files.certificate), ("key", files.key)):
        if not path.is_file():
            raise TlsSettingsError(f"the TLS {what} file {path} does not exist")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(files.certificate, files.key)
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        raise TlsSettingsError(
            f"the TLS certificate {files.certificate} and key {files.key} cannot serve: "
            f"{reason} (a PEM certificate, chain first, and the PEM private key that "
            "belongs to it; the key must not be encrypted)"
        ) from None
    except OSError as exc:
        raise TlsSettingsError(f"cannot read the TLS files: {exc}") from None
    return files
