"""Settings of a nubo orchestrator, read once by the composition root."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _flag(text: str) -> bool:
    return text.strip().lower() not in ("0", "false", "no", "off")


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "nubo"


@dataclass(frozen=True)
class Settings:
    """Everything configurable; defaults run a complete platform on one Docker host."""

    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    #: the VIM registered on first start when none is registered
    default_vim_name: str = "local-docker"
    default_vim_type: str = "docker"
    default_vim_endpoint: str = ""
    subnet_pool: str = "10.137.0.0/16"
    start_timeout: float = 60.0
    stop_timeout: float = 10.0
    #: seconds each lifecycle script of a VNF package may run inside its VNFC
    script_timeout: float = 300.0
    op_timeout: float = 600.0
    #: this process's name among the replicas sharing one database (default host:port);
    #: a replica that starts again under the same name takes its own leases back at once
    replica_id: str = ""
    #: seconds an NS lease lives unless its replica renews it: a dead replica's
    #: operations are taken over by another one within about that time
    lease_seconds: float = 10.0
    log_level: str = "INFO"
    #: fault management: watch VIMs, raise alarms, heal failed VNFCs
    fault_management: bool = True
    #: seconds between two fault-management passes (VIM events trigger one at once)
    fault_interval: float = 1.0
    #: seconds between two full comparisons of a VIM's servers with the records when
    #: its events are followed (in between, the events tell what changed)
    fault_resync_interval: float = 30.0
    #: monitoring: sample every VNFC's CPU, memory and network from the VIM
    monitoring: bool = True
    metrics_interval: float = 5.0
    #: auto-scaling from the descriptors' auto_scale_policy (needs monitoring)
    autoscaling: bool = True
    autoscale_interval: float = 1.0
    #: seconds the auto-scaler's decisions are kept (then deleted, oldest first)
    decision_retention: float = 7 * 86400.0
    #: seconds one notification POST (or a new subscription's callback test) may take
    notification_timeout: float = 5.0
    #: tries per notification before it is dropped, the first one included
    notification_attempts: int = 5
    #: seconds before the first retry of a notification; each further retry doubles it
    notification_backoff: float = 0.5
    #: notifications queued per subscription; when full the oldest is dropped
    notification_queue_size: int = 1000
    #: hosts callbacks may name: names, addresses, CIDR networks, comma-separated; empty: any
    notification_allowed_hosts: str = ""
    #: hosts VNF package content may be fetched from (upload_from_uri): names, addresses,
    #: CIDR networks, comma-separated; empty: none (a fetch is refused)
    package_fetch_allowed_hosts: str = ""
    #: the largest VNF package content fetched from a URI, in bytes (as a PUT upload)
    package_fetch_max_bytes: int = 64 * 1024 * 1024
    #: seconds a fetch of VNF package content may take
    package_fetch_timeout: float = 300.0
    #: items per page of a SOL005 list; the next page is linked (SOL013 §5.4)
    page_size: int = 100
    #: the password of the administrator ``admin`` made on a first start; else from the
    #: file ``admin_password_file`` names; else one is generated and printed once
    admin_password: str = field(default="", repr=False)
    admin_password_file: str = ""
    #: seconds an access token lives; a refresh token lives ``refresh_token_ttl``
    token_ttl: float = 3600.0
    refresh_token_ttl: float = 7 * 86400.0
    #: seconds a replica trusts its copy of revocations and signing keys: a token revoked
    #: on another replica is refused here within that time (at once on this one)
    token_sync_interval: float = 1.0
    #: Argon2id cost of password and client secret hashes (RFC 9106's second choice)
    password_time_cost: int = 3
    password_memory_cost: int = 65536
    password_parallelism: int = 4
    #: token requests allowed per user (or API client) and per client address, per period
    token_rate_per_user: int = 10
    token_rate_per_address: int = 30
    token_rate_period: float = 60.0
    #: seconds the audit trail keeps an event (then deleted, oldest first)
    audit_retention: float = 90 * 86400.0
    #: TLS for ``nubo serve``: a PEM certificate (chain) and its private key; both or neither
    tls_cert_file: str = ""
    tls_key_file: str = ""
    #: the Fernet key that seals subscriptions' callback credentials (``nubo.notify.sealing``)
    callback_credentials_key: str = field(default="", repr=False)

    @property
    def replica(self) -> str:
        return self.replica_id or f"{socket.gethostname()}:{self.port}"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'nubo.db'}"

    def initial_admin_password(self) -> str | None:
        """The initial administrator's password from the settings; ``None``: generate one."""
        if self.admin_password:
            return self.admin_password
        if self.admin_password_file:
            path = Path(self.admin_password_file).expanduser()
            try:
                text = path.read_text().strip()
            except OSError as exc:
                raise ValueError(f"NUBO_ADMIN_PASSWORD_FILE={path}: {exc.strerror}") from None
            if not text:
                raise ValueError(f"NUBO_ADMIN_PASSWORD_FILE={path} is empty")
            return text
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``NUBO_*`` environment variables, then explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        casts: dict[str, Callable[[str], object]] = {
            "data_dir": Path,
            "database_url": str,
            "host": str,
            "port": int,
            "default_vim_name": str,
            "default_vim_type": str,
            "default_vim_endpoint": str,
            "subnet_pool": str,
            "start_timeout": float,
            "stop_timeout": float,
            "script_timeout": float,
            "op_timeout": float,
            "replica_id": str,
            "lease_seconds": float,
            "log_level": str,
            "fault_management": _flag,
            "fault_interval": float,
            "fault_resync_interval": float,
            "monitoring": _flag,
            "metrics_interval": float,
            "autoscaling": _flag,
            "autoscale_interval": float,
            "decision_retention": float,
            "notification_timeout": float,
            "notification_attempts": int,
            "notification_backoff": float,
            "notification_queue_size": int,
            "notification_allowed_hosts": str,
            "package_fetch_allowed_hosts": str,
            "package_fetch_max_bytes": int,
            "package_fetch_timeout": float,
            "page_size": int,
            "admin_password": str,
            "admin_password_file": str,
            "token_ttl": float,
            "refresh_token_ttl": float,
            "token_sync_interval": float,
            "password_time_cost": int,
            "password_memory_cost": int,
            "password_parallelism": int,
            "token_rate_per_user": int,
            "token_rate_per_address": int,
            "token_rate_period": float,
            "audit_retention": float,
            "tls_cert_file": str,
            "tls_key_file": str,
            "callback_credentials_key": str,
        }
        for name, cast in casts.items():
            raw = env.get("NUBO_" + name.upper())
            if raw:
                try:
                    values[name] = cast(raw)
                except ValueError:
                    raise ValueError(f"NUBO_{name.upper()}={raw!r} is not a valid {name}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
