"""Logging for operators: one structured line per record, and nothing private in it.

``setup_logging`` puts one handler on the root logger that writes ``key=value`` lines
(``TAROS_LOG_FORMAT=keyvalue``, the default) or one JSON object per line (``json``) to
stderr, which systemd hands to the journal. Extra fields given with ``extra={...}`` become
keys of their own.

The handler carries :class:`Redact`, which replaces, wherever they appear (the message, its
arguments, extra fields, a formatted traceback):

- the configured secrets (the Telegram bot token and webhook secret, the WhatsApp Cloud API's
  token, app secret and verify token) and anything shaped like
  a Telegram bot token (``<token>``);
- phone numbers, Indonesian (``0812...``, ``62812...``, ``+62 812-...``) or international
  (``+...``), and WhatsApp identities (``...@s.whatsapp.net``, ``...@lid``) (``<phone>``).

Message text cannot be recognised by a pattern, so it is kept out at the source: TAROS never
logs what a citizen or an officer wrote, and the libraries that would (python-telegram-bot at
debug level, aiosqlite's statement log, the HTTP clients' request lines) are held at a level
where they do not. :func:`message_line` writes the one line per inbound and outbound message:
its channel, what happened to it and the ticket number when there is one.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = [
    "JsonFormatter",
    "KeyValueFormatter",
    "Redact",
    "message_line",
    "redact",
    "setup_logging",
]

TOKEN_MASK = "<token>"
PHONE_MASK = "<phone>"

# A Telegram bot token: the bot's id, a colon, 20+ URL-safe characters (also inside
# ".../bot<token>/getMe").
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
# WhatsApp identities (a phone number or an opaque @lid id, optionally with a device).
_JID = re.compile(r"\d{5,}(?::\d+)?@(?:s\.whatsapp\.net|c\.us|lid|g\.us)")
# Indonesian mobile numbers as people write them: 0812..., 62812..., +62 812-3456-7890.
_PHONE_ID = re.compile(r"(?<![\d])(?:\+?62[\s-]?|0)8(?:[\s.-]?\d){7,12}(?![\d])")
# A Telegram chat as TAROS names it ("telegram:555123", a group "telegram:-100123"): the id is
# the person's account, masked like a WhatsApp number.
_TELEGRAM_ID = re.compile(r"\btelegram:-?\d+")
TELEGRAM_MASK = "telegram:<id>"
# Any other international number written with a plus.
_PHONE_INTL = re.compile(r"\+\d(?:[\s-]?\d){7,14}(?![\d])")

# Loggers that write message contents, URLs with the token or SQL parameters below these
# levels. An operator's TAROS_LOG_LEVEL=DEBUG does not lower them.
LIBRARY_FLOORS = (
    ("telegram", logging.INFO),
    ("pywa", logging.WARNING),  # its debug lines carry the messages' JSON (their text)
    ("pywa_async", logging.WARNING),
    ("httpx", logging.WARNING),
    ("httpcore", logging.WARNING),
    ("aiosqlite", logging.INFO),
    ("aiohttp.access", logging.WARNING),
    ("asyncio", logging.INFO),
    ("matplotlib", logging.WARNING),
    ("PIL", logging.INFO),
)

# The attributes every LogRecord has; anything else was passed with ``extra``.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret, token, phone number and Telegram chat masked."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, TOKEN_MASK)
    text = _TOKEN.sub(TOKEN_MASK, text)
    text = _JID.sub(PHONE_MASK, text)
    text = _TELEGRAM_ID.sub(TELEGRAM_MASK, text)
    text = _PHONE_ID.sub(PHONE_MASK, text)
    return _PHONE_INTL.sub(PHONE_MASK, text)


class Redact(logging.Filter):
    """Masks secrets, tokens and phone numbers in a record before any handler writes it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def add_secret(self, secret: str | None) -> None:
        if secret and secret not in self.secrets:
            self.secrets = (*self.secrets, secret)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record, drop the arguments
            message = f"{record.msg!s} (arguments not shown)"
        clean = redact(message, self.secrets)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        for key, value in list(record.__dict__.items()):
            if key in _STANDARD or value is None or isinstance(value, bool | int | float):
                continue
            text = value if isinstance(value, str) else str(value)
            masked = redact(text, self.secrets)
            if masked != text or not isinstance(value, str):
                record.__dict__[key] = masked
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key, value in record.__dict__.items():
        if key not in _STANDARD and not key.startswith("_"):
            fields[key] = value
    if record.exc_text:
        fields["exc"] = record.exc_text
    elif record.exc_info:
        fields["exc"] = logging.Formatter().formatException(record.exc_info)
    if record.stack_info:
        fields["stack"] = record.stack_info
    return fields


_BARE = re.compile(r"[A-Za-z0-9_.:/@<>+-]+")


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=info logger=taros.messages msg=inbound channel=telegram ...`` on one
    line; values with spaces or quotes are quoted, newlines escaped."""

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        for key, value in _fields(record).items():
            text = "" if value is None else str(value)
            if not _BARE.fullmatch(text):
                text = json.dumps(text, ensure_ascii=False)
            parts.append(f"{key}={text}")
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record), ensure_ascii=False, default=str)


class _TarosHandler(logging.StreamHandler[TextIO]):
    """The handler setup_logging installs (found again when it is called twice). Without a
    stream of its own it writes to whatever ``sys.stderr`` is at the time."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._fixed = stream

    @property
    def stream(self) -> TextIO:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        self._fixed = value


def setup_logging(
    level: str = "WARNING",
    fmt: str = "keyvalue",
    *,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> Redact:
    """Configure the root logger; returns the redaction filter (more secrets can be added).
    Safe to call again: the previous TAROS handler is replaced."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _TarosHandler):
            root.removeHandler(handler)
            handler.close()
    handler = _TarosHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    redactor = Redact(s for s in secrets if s)
    handler.addFilter(redactor)
    root.addHandler(handler)
    resolved = logging.getLevelName(level.upper())
    root.setLevel(resolved if isinstance(resolved, int) else logging.WARNING)
    for name, floor in LIBRARY_FLOORS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor:
            logger.setLevel(floor)
    return redactor


_messages = logging.getLogger("taros.messages")


def message_line(direction: str, channel: str, status: str, **fields: object) -> None:
    """One line for one message: ``direction`` (inbound/outbound), its channel and what
    happened, plus ids such as the ticket number and the outbox row. Never the text, the
    chat or the sender."""
    extra: dict[str, object] = {"direction": direction, "channel": channel, "status": status}
    extra.update({k: v for k, v in fields.items() if v is not None})
    _messages.info("%s message %s", direction, status, extra=extra)
