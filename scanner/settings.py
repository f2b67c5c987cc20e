"""Settings: one root `Settings` with nested sections, read from (highest wins)

1. keyword arguments (tests),
2. ``SENDGUARD_*`` environment variables, ``__`` between section and field
   (``SENDGUARD_RELAY__HOST=mx.internal``),
3. an optional TOML file (``sendguard serve --config sendguard.toml``),
4. the defaults below, which ``config/sendguard.toml`` documents.

Settings are passed explicitly to whatever needs them; nothing reads a global.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
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
    # STARTTLS (RFC 3207) offered when both are set; require_starttls refuses mail before it
    tls_cert: Path | None = None
    tls_key: Path | None = None
    require_starttls: bool = False


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
    secure_cookies: bool = False
    session_secret: SecretStr | None = None


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
    policy_file: Path = Field(default_factory=lambda: config_dir() / "policy.toml")
    log_level: str = "INFO"
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
