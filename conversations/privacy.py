"""How a reporter appears to officers: a pseudonym and, at most, a masked number.

The reporter's phone number, Telegram id and name never reach officer-facing text; the
only way to the full identity is the admin CLI, which audits each look-up. What a citizen
typed reaches staff through :func:`for_staff`: numbers, e-mail addresses and NIK masked,
nothing invisible, nothing a platform would read as formatting.
"""

from __future__ import annotations

import re
import unicodedata

from conversations import identifiers


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


# Characters shown literally instead of being read as formatting by WhatsApp (``*bold*``,
# ``_italic_``, ``~strike~``, ```mono```) or Telegram: look-alikes that mean nothing to either.
_FORMATTING = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_LINE_BREAKS = frozenset({"Zl", "Zp"})


# In ASCII the only invisible characters are the controls (Unicode's ``Cc``).
_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def visible(text: str) -> str:
    """``text`` without control characters (but line breaks and tabs), bidi overrides,
    zero-width and other invisible format characters."""
    if text.isascii():
        return _ASCII_CONTROLS.sub("", text)
    kept: list[str] = []
    for ch in text:
        if ch in "\n\t":
            kept.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in _LINE_BREAKS:
            kept.append("\n")
        elif category not in ("Cc", "Cf", "Cs", "Co"):
            kept.append(ch)
    return "".join(kept)


def for_staff(text: str) -> str:
    """What someone else typed (a story, a reply, a note), as staff may read it: nothing
    invisible, formatting characters shown as they were typed, and every phone number, e-mail
    address and NIK masked (``0813****2222``)."""
    return identifiers.mask(visible(text).translate(_FORMATTING))
