"""The configuration checks of ``taros check`` (and of ``taros run``, before it serves).

Every problem is found in one pass and told with what to do, not only the first:

- each ``TAROS_*`` variable is valid on its own (time zone, digest times, numbers, ...);
- no ``TAROS_*`` variable is unknown (a typo silently ignored is worse than an error); the
  known ones are those named anywhere in TAROS's code, so a new setting needs no list;
- the data dir can be created and written, and is private (0700, files 0600);
- the Telegram token looks like one (``123456789:AA...``), without quotes or a ``bot`` prefix;
- WhatsApp, when enabled, has a linked session in the data dir;
- the WhatsApp Cloud API has all four credentials or none, is not set beside the linked
  device (one route per number), has ``TAROS_HTTP`` for its webhook, and valid templates;
- ``TAROS_HTTP`` is a HOST:PORT;
- the database opens (created and migrated when needed) and passes a quick check.
"""

from __future__ import annotations

import difflib
import os
import re
import sqlite3
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

import aiosqlite

from bot.config import CLOUD_TEMPLATE_VARIABLES, ConfigError, Settings

__all__ = ["Report", "check_configuration", "known_variables", "whatsapp_linked"]

_NAME = re.compile(r"\bTAROS_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,100}")
PRIVATE_DIRS = ("media", "charts", "serving", "officer-copies")


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = list(self.enabled) if self.ok else []
        lines += [f"warning: {w}" for w in self.warnings]
        if self.problems:
            count = len(self.problems)
            lines.append(f"configuration: {count} problem{'s' if count > 1 else ''}")
            lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@cache
def known_variables() -> frozenset[str]:
    """Every ``TAROS_*`` name that appears in TAROS's source: the variables it can read."""
    names: set[str] = set()
    stack = [resources.files(package) for package in ("bot", "channels", "conversations")]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                stack.append(entry)
            elif entry.name.endswith(".py"):
                names.update(_NAME.findall(entry.read_text("utf-8")))
    return frozenset(names)


def whatsapp_linked(data_dir: Path) -> str | None:
    """Why WhatsApp cannot serve from ``data_dir`` (no session, or a session whose device was
    logged out), or None when a device is linked. Read without loading neonize."""
    try:
        from channels.whatsapp.files import SESSION, linked_device
    except ImportError:
        return None  # no WhatsApp channel in this installation: told separately
    session = data_dir / SESSION
    if not session.is_file():
        return f"there is no WhatsApp session in {data_dir}"
    if linked_device(session) is None:
        return f"the WhatsApp session in {session} has no linked device (logged out)"
    return None


async def check_configuration(environ: Mapping[str, str], *, database: bool = True) -> Report:
    """Check the configuration in ``environ`` (``os.environ`` for the real thing). With
    ``database`` the database is also opened and checked (``taros run`` opens it itself)."""
    report = Report()
    variables = {k: v for k, v in environ.items() if k.startswith("TAROS_")}
    _unknown_variables(variables, report)
    valid = {}
    for name in sorted(variables):  # each on its own, so that every bad one is told
        try:
            Settings.from_env({name: variables[name]})
        except ConfigError as exc:
            report.problems.append(str(exc))
        else:
            valid[name] = variables[name]
    try:  # the rest is checked with the valid values
        settings = Settings.from_env(valid)
    except ConfigError as exc:  # values valid alone but not together
        report.problems.append(str(exc))
        return report
    _telegram_token(variables.get("TAROS_TELEGRAM_TOKEN", ""), report)
    if _data_dir(settings.data_dir, report) and database:
        await _database(settings.database_path, report)
    if settings.whatsapp:
        if find_spec("channels.whatsapp.channel") is None:
            report.problems.append(
                "TAROS_WHATSAPP=1, but this installation has no WhatsApp channel"
            )
        missing = whatsapp_linked(settings.data_dir)
        if missing is not None:
            report.problems.append(
                f"TAROS_WHATSAPP=1, but {missing}: link the number first with `taros whatsapp link`"
            )
    _whatsapp_cloud(settings, variables, report)
    _enabled(settings, report)
    return report


def _whatsapp_cloud(settings: Settings, variables: Mapping[str, str], report: Report) -> None:
    """The Cloud API route: all four credentials or none, not beside the linked device, its
    webhook on TAROS_HTTP, and its templates."""
    cloud = sorted(n for n in variables if n.startswith("TAROS_WHATSAPP_CLOUD_") and variables[n])
    if settings.whatsapp and cloud:
        report.problems.append(
            "TAROS_WHATSAPP=1 and the WhatsApp Cloud API (" + ", ".join(cloud) + ") are both"
            " set: one WhatsApp route serves a number at a time; unset TAROS_WHATSAPP to use"
            " the Cloud API, or the TAROS_WHATSAPP_CLOUD_* variables to keep the linked device"
        )
    missing = settings.whatsapp_cloud_missing
    if missing:
        report.problems.append(
            "the WhatsApp Cloud API is half configured: "
            + ", ".join(missing)
            + (" is" if len(missing) == 1 else " are")
            + " not set (all four of TAROS_WHATSAPP_CLOUD_PHONE_ID, _TOKEN, _APP_SECRET and"
            " _VERIFY_TOKEN come from the Meta app; see the README, 'WhatsApp')"
        )
    if not settings.whatsapp_cloud:
        return
    if find_spec("pywa_async") is None:
        report.problems.append(
            "the WhatsApp Cloud API is configured, but pywa is not installed (pip install pywa)"
        )
        return
    if not settings.http_listen:
        report.problems.append(
            "the WhatsApp Cloud API receives messages on /webhooks/whatsapp of the HTTP server:"
            " set TAROS_HTTP (e.g. 127.0.0.1:8080) and point the reverse proxy's"
            " https://<your host>/webhooks/whatsapp at it"
        )
    from channels.whatsapp_cloud.templates import TemplateBook

    try:
        TemplateBook(settings.whatsapp_cloud_templates)
    except ValueError as exc:
        report.problems.append(f"TAROS_WHATSAPP_CLOUD_TEMPLATE_*: {exc}")
    absent = [p for p in CLOUD_TEMPLATE_VARIABLES if p not in settings.whatsapp_cloud_templates]
    if absent:
        report.warnings.append(
            "no WhatsApp template for "
            + ", ".join(absent)
            + " messages: such a message to someone who has not written for 24 hours is not"
            " delivered (staff are told); set "
            + ", ".join(CLOUD_TEMPLATE_VARIABLES[p] for p in absent)
            + " (docs/whatsapp-templates.md)"
        )
    token = settings.whatsapp_cloud_token or ""
    if not token.startswith("EAA"):
        report.warnings.append(
            "TAROS_WHATSAPP_CLOUD_TOKEN does not look like a Meta access token (EAA...)"
        )


def _unknown_variables(variables: Mapping[str, str], report: Report) -> None:
    known = known_variables()
    for name in sorted(variables):
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        report.problems.append(f"{name} is not a TAROS setting{hint}")


def _telegram_token(raw: str, report: Report) -> None:
    token = raw.strip()
    if not token:
        return
    if token[:1] in "'\"" or token[-1:] in "'\"":
        report.problems.append("TAROS_TELEGRAM_TOKEN has quotes around it: remove them")
    elif token.lower().startswith("bot"):
        report.problems.append(
            "TAROS_TELEGRAM_TOKEN starts with 'bot': give the token alone, as BotFather"
            " shows it (123456789:AA...)"
        )
    elif not _TOKEN.fullmatch(token):
        report.problems.append(
            "TAROS_TELEGRAM_TOKEN does not look like a bot token (digits, a colon, then"
            " letters, digits, '_' or '-': 123456789:AA...); copy it again from BotFather"
        )


def _data_dir(data_dir: Path, report: Report) -> bool:
    """Create the data dir if needed and check that it is writable and private."""
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=data_dir, prefix=".check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        report.problems.append(
            f"TAROS_DATA_DIR={data_dir}: cannot be created or written ({reason}); give the"
            " user that runs TAROS a folder it owns"
        )
        return False
    for path in _data_files(data_dir):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir() and mode & 0o077:
            report.problems.append(
                f"{path} is readable by others (mode {mode:o}): chmod 700 {path}"
            )
        elif path.is_file() and mode & 0o077:
            report.problems.append(
                f"{path} is readable by others (mode {mode:o}): chmod 600 {path}"
            )
    return True


def _data_files(data_dir: Path) -> list[Path]:
    """The data dir, its private folders and the files directly in them (not every
    evidence file: those are created 0600 in 0700 folders)."""
    paths = [data_dir]
    paths += [p for p in data_dir.iterdir() if p.is_file() and not p.is_symlink()]
    for name in PRIVATE_DIRS:
        folder = data_dir / name
        if folder.is_dir() and not folder.is_symlink():
            paths.append(folder)
    return paths


async def _database(path: Path, report: Report) -> None:
    from bot.storage.database import Database

    async def quick_check(conn: aiosqlite.Connection) -> str:
        async with conn.execute("PRAGMA quick_check") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else "no answer"

    try:
        db = await Database.open(path)
        try:
            result = await db.read(quick_check)
        finally:
            await db.close()
    except (sqlite3.Error, OSError) as exc:
        report.problems.append(f"database {path}: {type(exc).__name__}: {exc}")
        return
    if result != "ok":
        report.problems.append(
            f"database {path}: damaged ({result}); restore the last backup with `taros restore`"
        )


def _enabled(settings: Settings, report: Report) -> None:
    channels = []
    if settings.telegram_token:
        mode = "webhook" if settings.telegram_webhook_url else "long polling"
        channels.append(f"telegram ({mode})")
    if settings.whatsapp:
        channels.append("whatsapp (linked device)")
    if settings.whatsapp_cloud:
        templates = ", ".join(sorted(settings.whatsapp_cloud_templates)) or "none"
        channels.append(
            f"whatsapp (Cloud API, phone number id {settings.whatsapp_cloud_phone_id},"
            f" webhook /webhooks/whatsapp, templates: {templates})"
        )
    report.enabled += [
        f"data dir: {settings.data_dir.resolve()}",
        f"database: {settings.database_path.resolve()}",
        f"language: {settings.locale}; time zone: {settings.tz_name}",
        "channels: " + (", ".join(channels) if channels else "console only (no platform set)"),
        "digest at: " + ", ".join(t.strftime("%H:%M") for t in settings.digest_at),
        f"response promise: {settings.sla_hours} h; ticket numbers: {settings.ticket_prefix}-",
        "http: "
        + (
            f"{settings.http_listen} (/healthz, /metrics"
            + (", /webhooks/whatsapp" if settings.whatsapp_cloud else "")
            + ")"
            if settings.http_listen
            else "off (set TAROS_HTTP=127.0.0.1:8080 for /healthz and /metrics)"
        ),
        f"logs: {settings.log_format}, level {settings.log_level}",
    ]
