"""Settings: one root `Settings` with nested sections, read from (highest wins)

1. keyword arguments (tests),
2. ``SENDGUARD_*`` environment variables, ``__`` between section and field
   (``SENDGUARD_RELAY__HOST=mx.internal``),
3. one TOML file, the same for `serve` and every other command (`config_source`):
   ``--config FILE`` (before or after the subcommand), else ``$SENDGUARD_CONFIG``, else
   ``/etc/sendguard/sendguard.toml`` when it exists,
4. the defaults below, which ``config/sendguard.toml`` documents.

Relative paths (outbox, key file, SQLite database, policy) are resolved once against the
working directory (`resolve_paths`) and printed at start, so an operator sees which store and
outbox a command uses; a CLI run from another directory cannot silently create a second store.

Settings are passed explicitly to whatever needs them; nothing reads a global.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from scanner.assets import config_dir
from scanner.extract.attachments.walk import AttachmentLimits


class ListenSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 2525
    hostname: str = "sendguard.localhost"
    # RFC 1870 SIZE, advertised in EHLO and enforced (552 5.3.4)
    max_message_size: int = 25 * 1024 * 1024
    # seconds a client may stay idle before we close (RFC 5321 §4.5.3.2 suggests 5 min)
    timeout: float = 300.0
    # refuse new connections beyond this many concurrent sessions (421 4.3.2)
    max_sessions: int = 1000
    # concurrent sessions from one client address (421 4.3.2 beyond): one host cannot take all
    max_sessions_per_client: int = 200
    # bytes of message data held by all sessions at once (received or being scanned/relayed);
    # DATA beyond it gets 451 4.3.2 as soon as it arrives (RFC 5321 §4.5.3.1.10 storage)
    max_inflight_bytes: int = 512 * 1024 * 1024
    # STARTTLS (RFC 3207) offered when both are set; require_starttls refuses mail before it
    tls_cert: Path | None = None
    tls_key: Path | None = None
    require_starttls: bool = False
    # behind HAProxy & co: each connection starts with a PROXY protocol header (v1 or v2) naming
    # the real client; seconds to wait for it (0 = off). Only enable behind a proxy that sends it.
    proxy_protocol: float = 0.0


class RelaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # no host: mail accepted is written to `outbox_dir`, one .eml per message (embedded default)
    host: str | None = None
    port: int = 25
    starttls: bool = False
    tls_verify: bool = True
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = 30.0
    # persistent upstream connections kept open
    pool_size: int = 8
    outbox_dir: Path = Path("var/outbox")


class QuarantineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "sqlite+aiosqlite:///var/quarantine.db"
    # Fernet keys, newest first; old keys still decrypt (rotation). Empty: a key is generated
    # once into `key_file` so the embedded default works with nothing configured.
    keys: list[SecretStr] = Field(default_factory=list)
    key_file: Path = Path("var/quarantine.key")
    retention_days: int = 30
    # seconds a hold may take (store stalled, locked or paused) before the client gets 451
    hold_timeout: float = Field(default=10.0, gt=0)


class ScanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # worker processes running detection; 0 = one per core
    workers: int = 0
    max_batch: int = 32
    max_wait_ms: float = 5.0
    # messages waiting for a worker beyond which new mail gets 451 4.3.2
    queue_limit: int = 512
    # seconds one message may spend in detection before it is temp-failed
    timeout: float = 30.0
    # extraction bounds
    max_depth: int = 10
    max_text_bytes: int = 4 * 1024 * 1024
    # seconds of worker CPU one message (or one piece of a large one) may use; beyond it the
    # message is held unread (Unscanned BUDGET) and the worker moves on; 0 = no budget
    cpu_budget: float = 5.0
    # run spaCy (sentences, NER) around candidates that need it
    nlp: bool = True
    extra_recognizers: list[str] = Field(default_factory=list)
    # bounds of reading PDF, Office documents, spreadsheets and archives (defaults and meaning:
    # `scanner.extract.attachments.AttachmentLimits`); each bound reached is an unscanned finding
    attachments: AttachmentLimits = AttachmentLimits()


class ReviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8025
    # `sendguard serve` also serves the console in its own event loop (the embedded default of
    # `make run`); false: run it as its own process with `sendguard review`
    embedded: bool = True
    secure_cookies: bool = False
    # signs the login form's CSRF cookie (signed-in sessions are rows in the quarantine database)
    session_secret: SecretStr | None = None
    session_idle_minutes: int = 30
    session_max_hours: int = 8
    # proxies (addresses or CIDRs) whose X-Forwarded-For is believed for login throttling
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    # request bodies above this are refused with 413 (forms and JSON are small)
    max_body_bytes: int = 65536


class AdminSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # HTTP port of `serve` for /metrics (Prometheus), /healthz and /readyz; no authentication
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9025
    # label message counters by tenant (tenant_header), at most this many tenants, the rest "other"
    tenant_label: bool = False
    tenant_label_limit: int = 20


class ReportSettings(BaseModel):
    """``[report]``: how a rejected message is reported to its sender (see `scanner.reports`)."""

    model_config = ConfigDict(extra="forbid")

    # reply: 550 5.7.1 at end of DATA (before-queue); dsn: 250, then our RFC 3464 report to the
    # envelope sender (after-queue: the MTA in front would bounce the whole message otherwise)
    mode: Literal["reply", "dsn"] = "reply"
    # language of the human part when the tenant's policy names none
    language: Literal["en", "fr"] = "en"
    # days a rejected message's metadata record is kept (GET /api/references/{ref})
    retention_days: int = Field(default=90, ge=1)


class WebhookEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    # Standard Webhooks secret, ``whsec_`` + base64 (at least 24 bytes)
    secret: SecretStr


class WebhookSettings(BaseModel):
    """``[webhooks]``: signed events from the durable outbox (see `scanner.events`)."""

    model_config = ConfigDict(extra="forbid")

    # the default endpoint; a tenant listed in `tenants` gets its own instead
    url: str | None = None
    secret: SecretStr | None = None
    tenants: dict[str, WebhookEndpoint] = Field(default_factory=dict)
    timeout: float = 10.0
    # retries back off exponentially (with jitter) from `min_backoff` up to `max_backoff` seconds
    min_backoff: float = 1.0
    max_backoff: float = 900.0
    # an item still undelivered this long after it was queued is dead-lettered
    dead_after_hours: float = 72.0
    # how long a claimed item is leased to one delivery task (then another may take it)
    lease_seconds: float = 60.0
    poll_interval: float = 1.0
    batch_size: int = 20


class TenantSettings(BaseModel):
    """``[tenants]``: who the customer is, and the key allowlisted values are hashed with."""

    model_config = ConfigDict(extra="forbid")

    # tenant from this header when present, else from the sender's domain (`domains` in the policy)
    header: str | None = None
    # HMAC-SHA256 key for allowlisted IBANs / card numbers (``sendguard policy digest``);
    # empty: allowlists by digest are off
    digest_key: SecretStr | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SENDGUARD_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    listen: ListenSettings = ListenSettings()
    relay: RelaySettings = RelaySettings()
    quarantine: QuarantineSettings = QuarantineSettings()
    scan: ScanSettings = ScanSettings()
    review: ReviewSettings = ReviewSettings()
    admin: AdminSettings = AdminSettings()
    report: ReportSettings = ReportSettings()
    webhooks: WebhookSettings = WebhookSettings()
    tenants: TenantSettings = TenantSettings()
    policy_file: Path = Field(default_factory=lambda: config_dir() / "policy.toml")
    log_level: str = "INFO"
    # "text" (one line per event) or "json" (one JSON object per line, for log shippers)
    log_format: Literal["text", "json"] = "text"
    # header the sending platform sets to name the customer (shown and filterable in the console)
    tenant_header: str | None = None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build `Settings` from overrides > environment > `config_file` > defaults."""

    class _FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if config_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
            return tuple(sources)

    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"config file not found: {config_file}")
    return _FromFile(**overrides)


DEFAULT_CONFIG = Path("/etc/sendguard/sendguard.toml")
CONFIG_ENV = "SENDGUARD_CONFIG"


def config_source(cli: Path | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The one settings file: ``--config``, else ``$SENDGUARD_CONFIG``, else the system file if any."""
    if cli is not None:
        return cli
    env = (os.environ if environ is None else environ).get(CONFIG_ENV)
    if env:
        return Path(env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite+aiosqlite:///path`` URL (None: not SQLite, or in memory)."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def resolve_paths(settings: Settings, base: Path | None = None) -> Settings:
    """A copy with every relative path made absolute against `base` (default: the working dir)."""
    root = (base or Path.cwd()).resolve()

    def absolute(path: Path) -> Path:
        return path if path.is_absolute() else root / path

    relay = settings.relay.model_copy(update={"outbox_dir": absolute(settings.relay.outbox_dir)})
    quarantine = settings.quarantine.model_copy(update={"key_file": absolute(settings.quarantine.key_file)})
    db = sqlite_file(settings.quarantine.url)
    if db is not None and not db.is_absolute():
        quarantine = quarantine.model_copy(update={"url": f"sqlite+aiosqlite:///{absolute(db)}"})
    listen = settings.listen
    if listen.tls_cert is not None and listen.tls_key is not None:
        tls = {"tls_cert": absolute(listen.tls_cert), "tls_key": absolute(listen.tls_key)}
        listen = listen.model_copy(update=tls)
    return settings.model_copy(
        update={
            "relay": relay,
            "quarantine": quarantine,
            "listen": listen,
            "policy_file": absolute(settings.policy_file),
        }
    )


def describe_paths(settings: Settings, config_file: Path | None) -> str:
    """One line naming the files a command will use (no secrets: URLs lose any password)."""
    from sqlalchemy.engine import make_url

    store = make_url(settings.quarantine.url).render_as_string(hide_password=True)
    upstream = (
        f"{settings.relay.host}:{settings.relay.port}"
        if settings.relay.host
        else f"outbox {settings.relay.outbox_dir}"
    )
    config = str(config_file.resolve()) if config_file else "none (defaults + environment)"
    key = settings.quarantine.key_file
    return f"config {config}; quarantine {store}; key file {key}; upstream {upstream}"
