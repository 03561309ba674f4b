"""Configuration: read once from the environment, validated, passed down."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SUPPORTED_LOCALES = ("id", "en", "su")
LOG_FORMATS = ("keyvalue", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A configuration value an operator must fix; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("data")
    locale: str = "id"
    tz_name: str = "Asia/Jakarta"
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None  # unset: long polling
    telegram_listen: str = "127.0.0.1:8443"  # where the webhook server listens
    telegram_secret: str | None = None  # webhook secret token; unset: a random one per start
    whatsapp: bool = False
    whatsapp_chat_gap: float = 1.0  # seconds between two messages to one WhatsApp chat
    whatsapp_per_minute: float = 30.0  # WhatsApp messages a minute overall
    # The WhatsApp Cloud API (the official route): enabled when all four are set.
    whatsapp_cloud_phone_id: str | None = None
    whatsapp_cloud_token: str | None = None
    whatsapp_cloud_app_secret: str | None = None
    whatsapp_cloud_verify_token: str | None = None
    whatsapp_cloud_api_url: str = "https://graph.facebook.com"
    whatsapp_cloud_per_second: float = 80.0  # the number's throughput, inbound included
    whatsapp_cloud_chat_gap: float = 6.0  # seconds between two messages to one person
    # purpose (status, relay, closing, digest) -> (template name, language code)
    whatsapp_cloud_templates: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    digest_at: tuple[time, ...] = (time(7, 0),)
    sla_hours: int = 24
    ticket_prefix: str = "GRT"
    draft_reminder: timedelta = timedelta(minutes=30)
    draft_expiry: timedelta = timedelta(hours=24)
    max_evidence_bytes: int = 20 * 1024 * 1024
    max_evidence_items: int = 10
    messages_per_minute: int = 20
    tickets_per_day: int = 5
    prank_strikes: int = 3
    block_days: int = 30
    evidence_retention_days: int = 365
    identity_retention_days: int = 730
    http_listen: str | None = None  # TAROS_HTTP: /healthz and /metrics; unset: no server
    health_outbox_seconds: int = 300  # /healthz fails when a reply waits longer than this
    log_format: str = "keyvalue"  # or "json"
    log_level: str = "WARNING"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def whatsapp_cloud_missing(self) -> tuple[str, ...]:
        """The Cloud API variables still unset when at least one is set (a half-configured
        route); empty when none or all are set."""
        values = {
            "TAROS_WHATSAPP_CLOUD_PHONE_ID": self.whatsapp_cloud_phone_id,
            "TAROS_WHATSAPP_CLOUD_TOKEN": self.whatsapp_cloud_token,
            "TAROS_WHATSAPP_CLOUD_APP_SECRET": self.whatsapp_cloud_app_secret,
            "TAROS_WHATSAPP_CLOUD_VERIFY_TOKEN": self.whatsapp_cloud_verify_token,
        }
        missing = tuple(name for name, value in values.items() if not value)
        return missing if len(missing) < len(values) else ()

    @property
    def whatsapp_cloud(self) -> bool:
        """Whether the WhatsApp Cloud API route is configured (all four variables set)."""
        return bool(self.whatsapp_cloud_phone_id) and not self.whatsapp_cloud_missing

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "taros.db"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        get = env.get
        locale = get("TAROS_LOCALE", "id").strip().lower() or "id"
        if locale not in SUPPORTED_LOCALES:
            raise ConfigError(
                f"TAROS_LOCALE={locale!r} is not supported;"
                f" use one of {', '.join(SUPPORTED_LOCALES)}"
            )
        tz_name = get("TAROS_TZ", "Asia/Jakarta").strip() or "Asia/Jakarta"
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"TAROS_TZ={tz_name!r} is not a known time zone") from exc
        prefix = get("TAROS_TICKET_PREFIX", "GRT").strip() or "GRT"
        if not re.fullmatch(r"[A-Z]{2,6}", prefix):
            raise ConfigError(f"TAROS_TICKET_PREFIX={prefix!r} must be 2 to 6 capital letters")
        token = get("TAROS_TELEGRAM_TOKEN", "").strip() or None
        return cls(
            data_dir=Path(get("TAROS_DATA_DIR", "data").strip() or "data"),
            locale=locale,
            tz_name=tz_name,
            telegram_token=token,
            telegram_api_url=(
                get("TAROS_TELEGRAM_API_URL", "https://api.telegram.org").strip().rstrip("/")
                or "https://api.telegram.org"
            ),
            telegram_webhook_url=_webhook_url(get("TAROS_TELEGRAM_WEBHOOK_URL", "")),
            telegram_listen=_listen(get("TAROS_TELEGRAM_LISTEN", "127.0.0.1:8443")),
            telegram_secret=_secret(get("TAROS_TELEGRAM_SECRET", "")),
            whatsapp=_flag(get("TAROS_WHATSAPP", ""), "TAROS_WHATSAPP"),
            whatsapp_chat_gap=_positive_number(
                get("TAROS_WHATSAPP_CHAT_GAP", "1"), "TAROS_WHATSAPP_CHAT_GAP"
            ),
            whatsapp_per_minute=_positive_number(
                get("TAROS_WHATSAPP_PER_MINUTE", "30"), "TAROS_WHATSAPP_PER_MINUTE"
            ),
            whatsapp_cloud_phone_id=_cloud_id(get("TAROS_WHATSAPP_CLOUD_PHONE_ID", "")),
            whatsapp_cloud_token=_cloud_secret(
                get("TAROS_WHATSAPP_CLOUD_TOKEN", ""), "TAROS_WHATSAPP_CLOUD_TOKEN"
            ),
            whatsapp_cloud_app_secret=_cloud_secret(
                get("TAROS_WHATSAPP_CLOUD_APP_SECRET", ""), "TAROS_WHATSAPP_CLOUD_APP_SECRET"
            ),
            whatsapp_cloud_verify_token=_cloud_secret(
                get("TAROS_WHATSAPP_CLOUD_VERIFY_TOKEN", ""), "TAROS_WHATSAPP_CLOUD_VERIFY_TOKEN"
            ),
            whatsapp_cloud_api_url=_api_url(
                get("TAROS_WHATSAPP_CLOUD_API_URL", ""), "TAROS_WHATSAPP_CLOUD_API_URL"
            )
            or "https://graph.facebook.com",
            whatsapp_cloud_per_second=_positive_number(
                get("TAROS_WHATSAPP_CLOUD_PER_SECOND", "80"), "TAROS_WHATSAPP_CLOUD_PER_SECOND"
            ),
            whatsapp_cloud_chat_gap=_positive_number(
                get("TAROS_WHATSAPP_CLOUD_CHAT_GAP", "6"), "TAROS_WHATSAPP_CLOUD_CHAT_GAP"
            ),
            whatsapp_cloud_templates=_templates(env),
            digest_at=_times(get("TAROS_DIGEST_AT", "07:00")),
            sla_hours=_positive_int(get("TAROS_SLA_HOURS", "24"), "TAROS_SLA_HOURS"),
            ticket_prefix=prefix,
            draft_reminder=timedelta(
                minutes=_positive_int(
                    get("TAROS_DRAFT_REMINDER_MINUTES", "30"), "TAROS_DRAFT_REMINDER_MINUTES"
                )
            ),
            draft_expiry=timedelta(
                hours=_positive_int(
                    get("TAROS_DRAFT_EXPIRY_HOURS", "24"), "TAROS_DRAFT_EXPIRY_HOURS"
                )
            ),
            max_evidence_bytes=_positive_int(
                get("TAROS_MAX_EVIDENCE_MB", "20"), "TAROS_MAX_EVIDENCE_MB"
            )
            * 1024
            * 1024,
            max_evidence_items=_positive_int(
                get("TAROS_MAX_EVIDENCE_ITEMS", "10"), "TAROS_MAX_EVIDENCE_ITEMS"
            ),
            messages_per_minute=_positive_int(
                get("TAROS_MESSAGES_PER_MINUTE", "20"), "TAROS_MESSAGES_PER_MINUTE"
            ),
            tickets_per_day=_positive_int(
                get("TAROS_TICKETS_PER_DAY", "5"), "TAROS_TICKETS_PER_DAY"
            ),
            prank_strikes=_positive_int(get("TAROS_PRANK_STRIKES", "3"), "TAROS_PRANK_STRIKES"),
            block_days=_positive_int(get("TAROS_BLOCK_DAYS", "30"), "TAROS_BLOCK_DAYS"),
            evidence_retention_days=_positive_int(
                get("TAROS_EVIDENCE_RETENTION_DAYS", "365"), "TAROS_EVIDENCE_RETENTION_DAYS"
            ),
            identity_retention_days=_positive_int(
                get("TAROS_IDENTITY_RETENTION_DAYS", "730"), "TAROS_IDENTITY_RETENTION_DAYS"
            ),
            http_listen=_listen(get("TAROS_HTTP", ""), "TAROS_HTTP", "127.0.0.1:8080")
            if get("TAROS_HTTP", "").strip()
            else None,
            health_outbox_seconds=_positive_int(
                get("TAROS_HEALTH_OUTBOX_SECONDS", "300"), "TAROS_HEALTH_OUTBOX_SECONDS"
            ),
            log_format=_choice(
                get("TAROS_LOG_FORMAT", ""), "TAROS_LOG_FORMAT", LOG_FORMATS, "keyvalue"
            ),
            log_level=_choice(get("TAROS_LOG_LEVEL", ""), "TAROS_LOG_LEVEL", LOG_LEVELS, "WARNING"),
            extra={k: v for k, v in env.items() if k.startswith("TAROS_")},
        )


def _webhook_url(raw: str) -> str | None:
    url = raw.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"TAROS_TELEGRAM_WEBHOOK_URL={raw!r} must be a URL like https://bot.example.id/telegram"
        )
    return url


def _api_url(raw: str, name: str) -> str | None:
    """An API root (``https://graph.facebook.com``), without a trailing slash."""
    url = raw.strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query:
        raise ConfigError(f"{name}={raw!r} must be a URL like https://graph.facebook.com")
    return url


def _cloud_id(raw: str) -> str | None:
    value = raw.strip()
    if value and not re.fullmatch(r"\d{5,30}", value):
        raise ConfigError(
            f"TAROS_WHATSAPP_CLOUD_PHONE_ID={raw!r} must be the phone number ID (digits) from"
            " Meta's WhatsApp > API Setup page, not the phone number itself"
        )
    return value or None


def _cloud_secret(raw: str, name: str) -> str | None:
    value = raw.strip()
    if value and (value[:1] in "'\"" or value[-1:] in "'\"" or any(c.isspace() for c in value)):
        raise ConfigError(f"{name} has quotes or spaces in it: give the value alone")
    return value or None


# The purposes a WhatsApp template is configured for (outside the 24-hour window), each by
# its own variable: TAROS_WHATSAPP_CLOUD_TEMPLATE_<PURPOSE>=name or name:language.
CLOUD_TEMPLATE_VARIABLES = {
    "status": "TAROS_WHATSAPP_CLOUD_TEMPLATE_STATUS",
    "relay": "TAROS_WHATSAPP_CLOUD_TEMPLATE_RELAY",
    "closing": "TAROS_WHATSAPP_CLOUD_TEMPLATE_CLOSING",
    "digest": "TAROS_WHATSAPP_CLOUD_TEMPLATE_DIGEST",
}
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


def _templates(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each configured template as (name, language); the language is
    TAROS_WHATSAPP_CLOUD_TEMPLATE_LANGUAGE (``id``) unless the value names its own."""
    default = env.get("TAROS_WHATSAPP_CLOUD_TEMPLATE_LANGUAGE", "").strip() or "id"
    if not _LANGUAGE.fullmatch(default):
        raise ConfigError(
            f"TAROS_WHATSAPP_CLOUD_TEMPLATE_LANGUAGE={default!r} must be a template language"
            " code such as id, en or en_US"
        )
    templates: dict[str, tuple[str, str]] = {}
    for purpose, name in CLOUD_TEMPLATE_VARIABLES.items():
        raw = env.get(name, "").strip()
        if not raw:
            continue
        template, _sep, language = raw.partition(":")
        language = language or default
        if not _TEMPLATE_NAME.fullmatch(template) or not _LANGUAGE.fullmatch(language):
            raise ConfigError(
                f"{name}={raw!r} must be a template name (lower-case letters, digits and '_'),"
                " optionally followed by ':' and its language, e.g. taros_status_update:id"
            )
        templates[purpose] = (template, language)
    return templates


def _listen(raw: str, name: str = "TAROS_TELEGRAM_LISTEN", example: str = "127.0.0.1:8443") -> str:
    text = raw.strip() or example
    match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[\w.\-]+):(\d{1,5})", text)
    if not match or not 0 < int(match[2]) < 65536:
        raise ConfigError(f"{name}={raw!r} must be HOST:PORT, e.g. {example}")
    return text


def _choice(raw: str, name: str, choices: tuple[str, ...], default: str) -> str:
    """One of ``choices`` (``default`` when unset), matched without regard to case."""
    value = raw.strip()
    if not value:
        return default
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name}={raw!r} must be one of {', '.join(choices)}")


def _secret(raw: str) -> str | None:
    secret = raw.strip()
    if secret and not re.fullmatch(r"[A-Za-z0-9_\-]{1,256}", secret):
        raise ConfigError(
            "TAROS_TELEGRAM_SECRET must be 1 to 256 characters: letters, digits, '_' and '-'"
        )
    return secret or None


def _flag(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r} must be 1 or 0")


def _positive_int(raw: str, name: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} must be a whole number") from exc
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be greater than zero")
    return value


def _positive_number(raw: str, name: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} must be a number greater than zero") from exc
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name}={raw!r} must be a number greater than zero")
    return value


def _times(raw: str) -> tuple[time, ...]:
    result: list[time] = []
    for part in raw.split(","):
        match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", part)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ConfigError(f"TAROS_DIGEST_AT={raw!r} must be times like 07:00 or 07:00,17:30")
        result.append(time(int(match[1]), int(match[2])))
    return tuple(sorted(set(result)))
