"""The approved templates TAROS sends outside the 24-hour window, and how each is filled.

Which template serves which purpose (a status change, an officer's ``/balas``, the closing
question, the digest) is configuration: ``TAROS_WHATSAPP_CLOUD_TEMPLATE_<PURPOSE>``, each a
name and a language, submitted to Meta as ``docs/whatsapp-templates.md`` gives them. The
message's :class:`~conversations.messages.Template` fills the body's ``{{1}}``, ``{{2}}``, ...
in order; the closing question's options become the payloads of the template's two
quick-reply buttons, so the citizen's tap answers it like a button of a normal message.
Template parameters may not hold line breaks, tabs or long runs of spaces: they are joined
into one line and cut to a length the template body can hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pywa_async.types.templates import TemplateLanguage

from conversations.messages import Option, Purpose, Template

__all__ = ["TemplateBook", "TemplateRef", "components"]

MAX_PARAM = 600  # the whole body may hold 1024 characters
MAX_PAYLOAD = 256
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class TemplateRef:
    name: str
    language: TemplateLanguage


class TemplateBook:
    """The configured templates by purpose."""

    def __init__(self, configured: Mapping[str, tuple[str, str]]) -> None:
        known = {language.value: language for language in TemplateLanguage}
        self._refs: dict[Purpose, TemplateRef] = {}
        for purpose, (name, code) in configured.items():
            language = known.get(code)
            if language is None:
                raise ValueError(f"template {name}: unknown language code {code!r}")
            self._refs[Purpose(purpose)] = TemplateRef(name, language)

    def get(self, purpose: Purpose) -> TemplateRef | None:
        return self._refs.get(purpose)

    @property
    def purposes(self) -> tuple[Purpose, ...]:
        return tuple(self._refs)


def param(text: str) -> str:
    """One template parameter: one line, no runs of spaces, not empty, not too long."""
    line = _SPACES.sub(" ", text).strip() or "-"
    return line if len(line) <= MAX_PARAM else line[: MAX_PARAM - 1] + "…"


def components(template: Template, options: tuple[Option, ...]) -> list[dict[str, Any]]:
    """The ``components`` of a template message: the body's values, then a payload for each
    quick-reply button (the options, in order)."""
    parts: list[dict[str, Any]] = []
    if template.params:
        parts.append(
            {
                "type": "body",
                "parameters": [{"type": "text", "text": param(p)} for p in template.params],
            }
        )
    for index, option in enumerate(options):
        if len(option.id) > MAX_PAYLOAD:
            continue
        parts.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": option.id}],
            }
        )
    return parts
