"""Meta's webhook: the subscription handshake, the signature of every POST, and a body cut
into the single updates it carries.

The signature (``X-Hub-Signature-256: sha256=<hex>``, an HMAC-SHA256 of the raw body with
the app secret) is checked with pywa's validator (``hmac.compare_digest``: constant time),
after the header's form is checked here (``compare_digest`` raises on non-ASCII text).

pywa reads one update per POST: ``entry[0].changes[0].value.messages[0]`` (see
``pywa.types.RawUpdate``), while the Graph API's webhook format lets one POST carry several
entries, changes, messages and statuses. :func:`split` cuts a body into single-item bodies
of the same shape, so that each is read by pywa as if it came alone and none is left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pywa_async import utils as pywa_utils

__all__ = ["MAX_BODY", "Item", "signed", "split"]

MAX_BODY = 3 * 1024 * 1024  # Meta's webhook bodies are small; anything near this is not one
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


def signed(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether ``header`` is Meta's signature of ``body`` with ``app_secret``."""
    if not header or not _SIGNATURE.fullmatch(header.strip()):
        return False
    return pywa_utils.webhook_updates_validator(
        app_secret=app_secret, request_body=body, x_hub_signature=header.strip().lower()
    )


@dataclass(frozen=True, slots=True)
class Item:
    """One message or one status of a webhook body, as a body of its own."""

    kind: str  # "message" or "status"
    body: bytes  # the same envelope, with this one item
    value: dict[str, Any]  # its ``entry[].changes[].value``


def split(raw: bytes) -> list[Item] | None:
    """The messages and statuses of a webhook body, each as a body of its own; None when the
    body is not a WhatsApp webhook at all. Other fields (account updates, templates' review)
    are left out."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        return None
    items: list[Item] = []
    for entry in data["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
            continue
        for change in entry["changes"]:
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            for kind, key in (("message", "messages"), ("status", "statuses")):
                for element in value.get(key) or ():
                    if isinstance(element, dict):
                        items.append(_item(data, entry, change, value, kind, key, element))
    return items


def _item(
    data: dict[str, Any],
    entry: dict[str, Any],
    change: dict[str, Any],
    value: dict[str, Any],
    kind: str,
    key: str,
    element: dict[str, Any],
) -> Item:
    """The body with one element: its own contact first (pywa reads ``contacts[0]``)."""
    contacts = [c for c in value.get("contacts") or () if isinstance(c, dict)]
    who = element.get("from") if kind == "message" else element.get("recipient_id")
    own = [c for c in contacts if c.get("wa_id") == who] or contacts[:1]
    single = {k: v for k, v in value.items() if k not in ("messages", "statuses", "contacts")}
    single[key] = [element]
    if own:
        single["contacts"] = own
    envelope = {
        **data,
        "entry": [{**entry, "changes": [{**change, "value": single}]}],
    }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    return Item(kind, body, single)
