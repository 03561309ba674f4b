"""How a reporter appears to officers: a pseudonym and, at most, a masked number.

The reporter's phone number, Telegram id and name never reach officer-facing text; the
only way to the full identity is the admin CLI, which audits each look-up.
"""

from __future__ import annotations

import re


def masked_identity(channel: str, external_id: str) -> str:
    """``whatsapp:6281113404040`` -> ``0811****4040``; other channels show nothing."""
    if channel != "whatsapp":
        return ""
    digits = re.sub(r"\D", "", external_id.split("@", 1)[0])
    if external_id.endswith("@lid") or len(digits) < 8:
        return ""
    local = "0" + digits[2:] if digits.startswith("62") else digits
    return f"{local[:4]}****{local[-4:]}"


def reporter_label(pseudonym: str, masked: str) -> str:
    """``Pelapor #7F3A (0811****4040)`` — the word itself is translated by the caller."""
    return f"#{pseudonym}" + (f" ({masked})" if masked else "")
