"""Is this an emergency happening now, or a person in danger now?

An urgent message gets the advice to call 110 before anything else and flags the ticket. The
rules, on canonical words and the signal lists of ``conversations/understanding/data/signals.csv``:

* Over when it says so ("sudah bubar", "sudah ketemu", "sudah aman"): not urgent.
* A missing person (the category is a missing person, a missing/abduction cue and a relative
  named: "anak saya belum pulang dari kemarin") is urgent unless it was long ago (over a month)
  or is a rumour ("katanya", "viral", "grup WA").
* Otherwise there must be danger: a violent, injury, fire or water word, or a category whose
  emergencies happen (theft, thuggery, brawls, accidents, violence). Then:
  a habit ("tiap malam", "sering", "marak") without "sedang/masih/barusan" is a complaint;
  "sedang", "masih", "barusan", "berlangsung" make it urgent; a past event (kemarin, minggu
  lalu, a time over three hours ago) is not; "sekarang" or "lagi <verb>" make it urgent; and
  so does an emphatic plea for something present ("tolong ada begal", "TOLONG!!", "tolooong",
  "darurat").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations.understanding.signals import Signals
from conversations.understanding.timeparse import TimeSpan

__all__ = ["CUE_KINDS", "UrgencyInput", "is_urgent", "urgency_cues"]

PAST_AFTER = timedelta(hours=3)
"""A stated time that ended longer ago than this makes the event past."""
LONG_AGO = timedelta(days=30)
URGENT_CATEGORIES = frozenset(
    {"pencurian", "premanisme", "tawuran", "kecelakaan", "kekerasan", "orang_hilang"}
)
MIN_CATEGORY_CONFIDENCE = 0.35

_EMPHATIC_PUNCT = re.compile(r"!{2,}|\?!|!\?")
_STRETCHED = re.compile(r"([a-zA-Z])\1{2,}")
_LETTERS = re.compile(r"[A-Za-z]")
_PARTICLES = frozenset({"dong", "deh", "sih", "nih", "ya", "pak", "bu", "lah", "kah", "pula"})


@dataclass(frozen=True, slots=True)
class UrgencyInput:
    texts: Sequence[str]
    raw: str
    category: str | None
    category_confidence: float
    time: TimeSpan | None
    now: datetime


def is_urgent(item: UrgencyInput, signals: Signals) -> bool:
    texts = item.texts
    if signals.has(texts, "resolved"):
        return False
    if _missing_person(item, signals):
        return True
    danger = signals.has(texts, "danger") or (
        item.category in URGENT_CATEGORIES and item.category_confidence >= MIN_CATEGORY_CONFIDENCE
    )
    if not danger:
        return False
    strong = _in_progress(texts, signals)
    if signals.has(texts, "habit") and not strong:
        return False
    if strong:
        return True
    if signals.has(texts, "past") or _stated_past(item.time, item.now):
        return False
    if "sekarang" in texts or _lagi_before_verb(texts):
        return True
    plea = any(
        phrase != ("tolong",)
        for start, end in signals.find(texts, "plea")
        for phrase in [tuple(texts[start:end])]
    )
    emphatic = _emphatic(item.raw)
    present = "ada" in texts
    return (plea and (present or emphatic)) or (emphatic and ("tolong" in texts or present))


CUE_KINDS = (
    "danger", "progress", "progress_weak", "past", "resolved", "habit", "plea", "missing",
    "person", "rumour", "at_large",
)


def urgency_cues(
    item: UrgencyInput, signals: Signals, rules_say: bool | None = None
) -> dict[str, float]:
    """What the rules see, as named features for the trained urgency reading: each signal
    list present, the rules' verdict, emphasis, a stated time over three hours ago, "sekarang"
    or "lagi <verb>", and the category when it is one whose emergencies happen. ``rules_say``:
    the rules' verdict when already known."""
    texts = item.texts
    cues = {f"u:{kind}": 1.0 for kind in CUE_KINDS if signals.has(texts, kind)}
    flags = {
        "u:rule": is_urgent(item, signals) if rules_say is None else rules_say,
        "u:emphatic": _emphatic(item.raw),
        "u:stated_past": _stated_past(item.time, item.now),
        "u:now": "sekarang" in texts or _lagi_before_verb(texts),
        "u:urgent_category": item.category in URGENT_CATEGORIES,
        "u:in_progress": _in_progress(texts, signals),
    }
    cues.update({name: 1.0 for name, on in flags.items() if on})
    if item.category:
        cues[f"u:category:{item.category}"] = 1.0
    return cues


def _in_progress(texts: Sequence[str], signals: Signals) -> bool:
    """Happening now: "sedang", "masih", "barusan" ... but not "masih bebas" (the perpetrator
    is at large)."""
    excluded = {i for start, end in signals.find(texts, "at_large") for i in range(start, end)}
    return any(start not in excluded for start, _ in signals.find(texts, "progress"))


def _missing_person(item: UrgencyInput, signals: Signals) -> bool:
    if item.category != "orang_hilang":
        return False
    texts = item.texts
    if not signals.has(texts, "missing") or signals.has(texts, "rumour"):
        return False
    if not signals.has(texts, "person") and not _said(texts, ("belum", "pulang")):
        return False
    return not (item.time is not None and item.now - item.time.start > LONG_AGO)


def _said(texts: Sequence[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(texts[i : i + size]) == phrase for i in range(len(texts) - size + 1))


def _stated_past(time: TimeSpan | None, now: datetime) -> bool:
    if time is None:
        return False
    last = time.end or time.start
    return now - last > PAST_AFTER


def _lagi_before_verb(texts: Sequence[str]) -> bool:
    """Now: "lagi tawuran", "lagi dikejar"; not "ketipu lagi" (again)."""
    return any(
        word == "lagi" and index + 1 < len(texts) and texts[index + 1] not in _PARTICLES
        for index, word in enumerate(texts)
    )


def _emphatic(raw: str) -> bool:
    """Emphasis: "!!", a stretched word ("tolooong") or shouting in capitals."""
    if _EMPHATIC_PUNCT.search(raw) or _STRETCHED.search(raw):
        return True
    letters = _LETTERS.findall(raw)
    return len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.8
