"""The state of one chat's dialogue, kept in the database as JSON between messages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from conversations.messages import ChatKey, Option


class Step(StrEnum):
    """Where a chat is in the intake dialogue. Stored by value: never rename a member."""

    IDLE = "idle"
    CATEGORY = "category"
    CATEGORY_MORE = "category_more"
    LOCATION = "location"
    LOCATION_CONFIRM = "location_confirm"
    LOCATION_CHOOSE = "location_choose"
    CHRONOLOGY = "chronology"
    EVIDENCE = "evidence"
    SUMMARY = "summary"
    EDIT = "edit"
    CANCEL_CONFIRM = "cancel_confirm"
    PREFILL_CONFIRM = "prefill_confirm"
    LANGUAGE = "language"
    ERASE_CONFIRM = "erase_confirm"
    WHICH_REPORT = "which_report"  # questions on two reports are open: which one is answered


@dataclass(slots=True)
class EvidenceItem:
    kind: str
    sha256: str
    mime: str
    size: int
    stored_path: str


@dataclass(slots=True)
class Draft:
    """What the citizen has told so far. ``None`` means not asked or not answered yet."""

    started_at: str
    category: str | None = None
    location_done: bool = False
    kecamatan_code: str | None = None
    desa_code: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    outside_garut: bool = False
    chronology: str | None = None
    incident_time: str | None = None
    incident_time_end: str | None = None
    evidence: list[EvidenceItem] = field(default_factory=list)
    evidence_done: bool = False
    urgent: bool = False
    prefilled: list[str] = field(default_factory=list)  # fields the first message answered
    # the desa a photo's GPS position lies in, proposed while the place is unknown
    photo_kecamatan: str | None = None
    photo_desa: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The draft as JSON values: what ``dataclasses.asdict`` gives, without its deep copy
        of every field (all are str, number, bool or None but the two lists, copied here)."""
        values = {name: getattr(self, name) for name in _DRAFT_FIELDS}
        values["evidence"] = [
            {name: getattr(item, name) for name in _EVIDENCE_FIELDS} for item in self.evidence
        ]
        values["prefilled"] = list(self.prefilled)
        return values

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Draft:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        values["evidence"] = [EvidenceItem(**item) for item in values.get("evidence", [])]
        return cls(**values)


_DRAFT_FIELDS = tuple(f.name for f in fields(Draft))
_EVIDENCE_FIELDS = tuple(f.name for f in fields(EvidenceItem))


@dataclass(slots=True)
class Conversation:
    key: ChatKey
    step: Step = Step.IDLE
    draft: Draft | None = None
    locale: str | None = None
    options: list[Option] = field(default_factory=list)
    invalid: int = 0
    editing: bool = False
    resume: Step | None = None
    pending: dict[str, Any] = field(default_factory=dict)
    language_asked: bool = False
    version: int = 0

    def data_json(self) -> str:
        return json.dumps(
            {
                "draft": self.draft.to_dict() if self.draft else None,
                "options": [[o.id, o.label] for o in self.options],
                "invalid": self.invalid,
                "editing": self.editing,
                "resume": self.resume.value if self.resume else None,
                "pending": self.pending,
                "language_asked": self.language_asked,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_row(
        cls, key: ChatKey, step: str, data: str, locale: str | None, version: int
    ) -> Conversation:
        raw = json.loads(data)
        try:
            parsed_step = Step(step)
        except ValueError:
            parsed_step = Step.IDLE
        resume = raw.get("resume")
        return cls(
            key=key,
            step=parsed_step,
            draft=Draft.from_dict(raw["draft"]) if raw.get("draft") else None,
            locale=locale,
            options=[Option(str(i), str(label)) for i, label in raw.get("options", [])],
            invalid=int(raw.get("invalid", 0)),
            editing=bool(raw.get("editing", False)),
            resume=Step(resume) if resume in Step._value2member_map_ else None,
            pending=dict(raw.get("pending") or {}),
            language_asked=bool(raw.get("language_asked", False)),
            version=version,
        )
