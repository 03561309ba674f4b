"""What a citizen's free-text message says: category, place, time, urgency, greeting, language.

:class:`Understander` reads one message ("tlg pak td pagi ada yg belanja pk upal di warung sy
cibatu") into an :class:`Understanding` (counterfeit money, Kec. Cibatu, "warung sy", this
morning, not urgent, Indonesian). It is also the intake's pre-fill hook
(:class:`conversations.intake.prefill.Understander`): :meth:`Understander.prefill` keeps only
what is sure enough to skip a question.

Everything is local and deterministic: data files in ``conversations/understanding/data`` (chat
vocabulary, category cues, signal words, the Garut gazetteer), rapidfuzz for typos, no network and
no model. At most ``MAX_ANALYSED_CHARS`` characters of a message are read, so any input is
understood in a few milliseconds, and :meth:`Understander.understand` never raises: on an internal
error it logs and returns an empty understanding (the intake then asks everything).

The parts: :mod:`~conversations.understanding.slang` (chat words → canonical Indonesian),
:mod:`~conversations.understanding.category_scoring`, :mod:`~conversations.understanding.places`
(the gazetteer, which never invents a place), :mod:`~conversations.understanding.landmarks`,
:mod:`~conversations.understanding.timeparse`, :mod:`~conversations.understanding.urgency`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conversations.intake.prefill import Prefill
from conversations.text import MAX_ANALYSED_CHARS
from conversations.understanding.category_scoring import CategoryGuess, CategoryScorer
from conversations.understanding.features import FeatureVector, message_features, with_named
from conversations.understanding.landmarks import find_landmark
from conversations.understanding.model import LinearModel, packaged_model_path
from conversations.understanding.places import VAGUE_SCORE, Desa, Gazetteer, Kecamatan, PlaceMatch
from conversations.understanding.places import normalise as place_normalise
from conversations.understanding.signals import Signals
from conversations.understanding.slang import Lexicon, Word
from conversations.understanding.timeparse import TimeSpan, resolve_time
from conversations.understanding.urgency import UrgencyInput, is_urgent, urgency_cues

__all__ = ["CATEGORY_MODEL", "URGENCY_MODEL", "Models", "Understander", "Understanding"]

log = logging.getLogger(__name__)

PREFILL_CATEGORY_CONFIDENCE = 0.6
"""A category below this confidence is asked (menu), not pre-filled."""
PLACE_MIN_SCORE = VAGUE_SCORE
"""A gazetteer reading below this score is not reported (asking beats guessing)."""
MIN_CHRONOLOGY = 15
FALLBACK_CONFIDENCE = 0.3
"""Confidence of "lainnya" for a substantive report that names no known category."""
FALLBACK_MIN_WORDS = 6
MODEL_ALONE = 0.5
"""The model names a category on its own (no cue of the rules, a short message) from this
probability."""
RULES_TORN = 0.5
"""Below this confidence with two categories scored, the cue lists see two things named
("motor saya dicuri terus saya ditipu"): the topic is asked, whatever the model reads."""
RULES_SURE = 0.8
MODEL_AGREES = 0.2
"""A single cue the rules are sure of decides when the model gives its category at least this
probability (on writers the model never saw this cost one message in 600, and it keeps "ada begal
… berdarah" a robbery, not an accident)."""
CATEGORY_MODEL = "category_model.npz"
URGENCY_MODEL = "urgency_model.npz"
_CLAUSE_END = re.compile(r"[,;!?\n]+|(?<=[a-z]{4})\.(?=\s)", re.IGNORECASE)
PLACE_WINDOW = 450
"""The gazetteer reads this many characters at a time; longer texts are read window by window."""


@dataclass(frozen=True, slots=True)
class Understanding:
    """What one message says. Empty fields mean "not said" (or not sure enough).

    ``category`` is one of the 18 codes with ``category_confidence`` in 0..1. ``kecamatan``
    and ``desa`` come from the gazetteer with ``place_score`` (0..100); a desa name shared by
    several kecamatan gives ``ambiguous_places`` instead; ``outside`` names a known place
    outside Garut. ``landmark`` is the free-text place phrase as typed. ``incident_time`` is
    aware, in the configured zone; a range also has ``incident_time_end``; ``time_phrase`` holds
    the words that said it. ``urgent`` means an emergency now or a person in danger now.
    ``greeting`` means the message is only a greeting or thanks. ``language`` is ``"id"``,
    ``"su"`` or ``"en"``; ``language_clear`` says whether the words show it clearly (a bare
    "P" or a lone "punten" does not).
    """

    category: str | None = None
    category_confidence: float = 0.0
    kecamatan: Kecamatan | None = None
    desa: Desa | None = None
    ambiguous_places: tuple[Desa, ...] = ()
    landmark: str | None = None
    incident_time: datetime | None = None
    incident_time_end: datetime | None = None
    urgent: bool = False
    greeting: bool = False
    language: str = "id"
    outside: str | None = None
    place_score: float = 0.0
    time_phrase: str | None = None
    language_clear: bool = False

    def to_json(self) -> dict[str, object]:
        """The stable JSON contract of ``taros nlu``."""
        return {
            "category": self.category,
            "category_confidence": round(self.category_confidence, 3),
            "kecamatan": (
                None
                if self.kecamatan is None
                else {"code": self.kecamatan.code, "name": self.kecamatan.name}
            ),
            "desa": None if self.desa is None else {"code": self.desa.code, "name": self.desa.name},
            "ambiguous_places": [
                {"code": d.code, "name": d.name, "kecamatan": d.kecamatan_code}
                for d in self.ambiguous_places
            ],
            "landmark": self.landmark,
            "incident_time": None if self.incident_time is None else self.incident_time.isoformat(),
            "urgent": self.urgent,
            "greeting": self.greeting,
            "language": self.language,
        }


@dataclass(frozen=True, slots=True)
class Models:
    """The trained readings beside the rules (None: the rules answer alone)."""

    category: LinearModel | None = None
    urgency: LinearModel | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> Models:
        """The models in ``directory`` (an operator's retrained ones, ``taros nlu train
        --with-corrections``) where present, else the ones shipped with TAROS."""

        def one(name: str) -> LinearModel | None:
            if directory is not None and (directory / name).is_file():
                model = LinearModel.load_or_none(directory / name)
                if model is not None:
                    return model
            return LinearModel.load_or_none(packaged_model_path(name))

        return cls(category=one(CATEGORY_MODEL), urgency=one(URGENCY_MODEL))


class Understander:
    """Reads messages; implements the intake's pre-fill protocol. Data is loaded once."""

    def __init__(self, tz: ZoneInfo, models: Models | None = None) -> None:
        self.tz = tz
        self.models = Models.load() if models is None else models
        category_model = self.models.category
        self.prefill_confidence = (
            PREFILL_CATEGORY_CONFIDENCE if category_model is None else category_model.confident_at
        )
        self._scorer = CategoryScorer.load()
        self._signals = Signals.load()
        self._greetings = self._signals.phrases("greeting")
        self._courtesy = self._signals.phrases("courtesy")
        self._stops = self._signals.words("stop")
        self._lexicon = Lexicon.load().with_known(self._scorer.vocabulary)
        self._gazetteer = Gazetteer.load()
        self._area_keys = frozenset(
            place_normalise(k.name.split()[0]) for k in self._gazetteer.kecamatan if " " in k.name
        )

    # ----------------------------------------------------------------------- public

    def understand(self, text: str, now: datetime) -> Understanding:
        """What ``text`` says, relative to ``now``; never raises."""
        try:
            return self._understand(text, now)
        except Exception:  # the bot must keep answering; log and know nothing
            log.exception("understanding failed", extra={"text_length": len(text)})
            return Understanding()

    def prefill(self, text: str, now: datetime) -> Prefill:
        """The intake's pre-fill: only what is sure enough not to be asked again."""
        return self.to_prefill(text, self.understand(text, now), self.prefill_confidence)

    def features(self, text: str, now: datetime) -> FeatureVector:
        """What the trained category reading sees of ``text`` (training, evaluation)."""
        return self._read(text, now).vector

    def urgency_features(self, text: str, now: datetime) -> FeatureVector:
        """What the trained urgency reading sees of ``text``: the category features and the
        urgency rules' cues, with the category this understander reads."""
        read = self._read(text, now)
        return with_named(read.vector, urgency_cues(read.urgency_input, self._signals))

    @staticmethod
    def to_prefill(
        text: str, understood: Understanding, confident_at: float = PREFILL_CATEGORY_CONFIDENCE
    ) -> Prefill:
        """Map an understanding of ``text`` onto the intake's :class:`Prefill`.

        Category when its confidence is at least ``PREFILL_CATEGORY_CONFIDENCE``; place when a
        kecamatan is resolved and not ambiguous, or the place is outside Garut (the landmark,
        else the outside name, as the address); the text itself as chronology when it is a
        substantive report (not a bare greeting, at least 15 characters, and a category, place
        or time understood); incident time, urgency, and the language when the words show it.
        """
        u = understood
        category = u.category if u.category_confidence >= confident_at else None
        kecamatan_code = desa_code = address = None
        outside = False
        if u.kecamatan is not None and not u.ambiguous_places:
            kecamatan_code = u.kecamatan.code
            desa_code = None if u.desa is None else u.desa.code
            address = u.landmark
        elif u.outside is not None:
            outside = True
            address = u.landmark or u.outside
        stripped = text.strip()
        understood_something = (
            u.category is not None
            or u.kecamatan is not None
            or u.outside is not None
            or u.incident_time is not None
        )
        substantive = not u.greeting and len(stripped) >= MIN_CHRONOLOGY and understood_something
        return Prefill(
            category=category,
            kecamatan_code=kecamatan_code,
            desa_code=desa_code,
            address=address,
            outside_garut=outside,
            chronology=stripped if substantive else None,
            incident_time=u.incident_time,
            incident_time_end=u.incident_time_end,
            urgent=u.urgent,
            language=u.language if u.language_clear else None,
        )

    # ----------------------------------------------------------------------- steps

    def _read(self, text: str, now: datetime, words: Sequence[Word] | None = None) -> _Reading:
        """The words, time, category and features of a message (everything but the place);
        ``words``: the lexicon's reading of it, when already made."""
        raw = text[:MAX_ANALYSED_CHARS]
        if words is None:
            words = self._lexicon.read(raw)
        texts = [w.text for w in words]
        greeting = bool(texts) and self._is_greeting(texts)
        when = resolve_time(texts, now, self.tz)
        rules = self._scorer.score(words, skip=() if when is None else when.used)
        vector = message_features(raw, texts, dict(rules.scores))
        guess = self._category(rules, vector, texts, greeting)
        item = UrgencyInput(texts, raw, guess.code, guess.confidence, when, now)
        return _Reading(raw, words, greeting, when, guess, vector, item)

    def _urgent(self, read: _Reading) -> bool:
        """Urgent when the rules say so (their cues name an emergency now) or the trained
        reading does: a missed emergency costs more than a needless 110 advice."""
        if read.greeting:
            return False
        if is_urgent(read.urgency_input, self._signals):
            return True
        model = self.models.urgency
        if model is None:
            return False
        cues = urgency_cues(read.urgency_input, self._signals, rules_say=False)
        reading = model.read(with_named(read.vector, cues))
        return dict(reading.ranked).get("urgent", 0.0) >= model.confident_at

    def _understand(self, text: str, now: datetime) -> Understanding:
        words = self._lexicon.read(text[:MAX_ANALYSED_CHARS])
        greeted = self._greeted(words, now)
        if greeted is not None:
            return greeted
        read = self._read(text, now, words)
        raw, greeting, when, guess = read.raw, read.greeting, read.when, read.guess
        language, clear = _language(read.words)
        place = self._place(raw)
        kecamatan, desa, ambiguous, outside, score = self._read_place(place)
        urgent = self._urgent(read)
        return Understanding(
            category=guess.code,
            category_confidence=guess.confidence,
            kecamatan=kecamatan,
            desa=desa,
            ambiguous_places=ambiguous,
            landmark=None if greeting else find_landmark(read.words, raw, self._signals),
            incident_time=None if when is None else when.start,
            incident_time_end=None if when is None else when.end,
            urgent=urgent,
            greeting=greeting,
            language=language,
            outside=outside,
            place_score=score,
            time_phrase=None if when is None else when.phrase,
            language_clear=clear,
        )

    def _greeted(self, words: Sequence[Word], now: datetime) -> Understanding | None:
        """A message of greeting and courtesy words only ("halo", "punten pak"), read
        without the model, the gazetteer or the urgency reading: none of them reads anything
        in such words (a greeting has no category, no place, is never urgent). None for
        anything else. Most first messages are such a greeting."""
        texts = [w.text for w in words]
        if not texts or not self._is_greeting(texts):
            return None
        when = resolve_time(texts, now, self.tz)
        language, clear = _language(words)
        return Understanding(
            incident_time=None if when is None else when.start,
            incident_time_end=None if when is None else when.end,
            greeting=True,
            language=language,
            time_phrase=None if when is None else when.phrase,
            language_clear=clear,
        )

    def _is_greeting(self, texts: Sequence[str]) -> bool:
        """Only greeting and courtesy words, and at least one greeting."""
        greetings, courtesy = self._greetings, self._courtesy
        index = 0
        greeted = False
        while index < len(texts):
            for size in (3, 2, 1):
                phrase = tuple(texts[index : index + size])
                if len(phrase) == size and (phrase in greetings or phrase in courtesy):
                    greeted = greeted or phrase in greetings
                    index += size
                    break
            else:
                return False
        return greeted

    def _category(
        self,
        rules: CategoryGuess,
        vector: FeatureVector,
        texts: Sequence[str],
        greeting: bool,
    ) -> CategoryGuess:
        """The rules' guess, read again by the trained model when there is one: the model
        decides, with its probability as the confidence. A message with no cue of the rules and
        few words ("mau lapor pak") gets a category only when the model is sure of it."""
        if greeting:
            return CategoryGuess(None, 0.0)
        content = [t for t in texts if t not in self._stops]
        substantive = len(content) >= FALLBACK_MIN_WORDS
        model = self.models.category
        if model is not None:
            if not content:
                return CategoryGuess(None, 0.0, rules.scores)  # "pak", "izin lapor"
            reading = model.read(vector)
            if rules.code is None and not substantive and reading.probability < MODEL_ALONE:
                return CategoryGuess(None, 0.0, rules.scores)
            label, confidence = reading.label, reading.probability
            ranked = dict(reading.ranked)
            if (
                rules.code is not None
                and rules.code != label
                and len(rules.scores) == 1
                and rules.confidence >= RULES_SURE
                and ranked.get(rules.code, 0.0) >= MODEL_AGREES
            ):
                # one strong cue ("begal") the model also finds likely: the cue decides
                label, confidence = rules.code, rules.confidence
            if len(rules.scores) > 1 and rules.confidence < RULES_TORN:
                confidence = min(confidence, rules.confidence)  # two things named: ask
            return CategoryGuess(label, confidence, rules.scores)
        if rules.code is not None:
            return rules
        if substantive:
            return CategoryGuess("lainnya", FALLBACK_CONFIDENCE)
        return rules

    def _place(self, raw: str) -> PlaceMatch | None:
        """The gazetteer's reading, window by window: a Garut place beats an ambiguous name,
        which beats a place outside Garut."""
        found: list[PlaceMatch] = []
        for window in _windows(_clauses(raw), PLACE_WINDOW):
            match = self._gazetteer.match(window, free_text=True)
            if match is not None:
                found.append(match)
                if match.kecamatan is not None:
                    return match
        for match in found:
            if match.ambiguous:
                return match
        return found[0] if found else None

    def _read_place(
        self, match: PlaceMatch | None
    ) -> tuple[Kecamatan | None, Desa | None, tuple[Desa, ...], str | None, float]:
        if match is None or match.score < PLACE_MIN_SCORE:
            return None, None, (), None, 0.0
        if match.outside is not None:
            return None, None, (), match.outside, match.score
        if match.ambiguous:
            return None, None, tuple(match.ambiguous), None, match.score
        desa = match.desa
        if (
            desa is not None
            and match.score <= VAGUE_SCORE
            and place_normalise(desa.name) in self._area_keys
        ):
            return None, None, (), None, 0.0  # "Tarogong": Kaler or Kidul? ask
        return match.kecamatan, desa, (), None, match.score


@dataclass(frozen=True, slots=True)
class _Reading:
    raw: str
    words: Sequence[Word]
    greeting: bool
    when: TimeSpan | None
    guess: CategoryGuess
    vector: FeatureVector
    urgency_input: UrgencyInput


def _clauses(text: str) -> str:
    """The text with a word that is never a place between clauses, so that the gazetteer does
    not join names across a comma ("Tarogong, kalo" is not "Tarogong Kaler"). A full stop
    after an abbreviation ("Kp. Babakan", "Jl. Cimanuk") is not a clause end."""
    return _CLAUSE_END.sub(" di ", text)


def _windows(text: str, size: int) -> Iterator[str]:
    """``text`` in pieces of at most ``size`` characters, cut at spaces."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind(" ", start, end)
            if cut > start:
                end = cut
        yield text[start:end]
        start = end


def _language(words: Sequence[Word]) -> tuple[str, bool]:
    """The language the spellings show, and whether it is clear: Indonesian from any word;
    Sundanese or English from two words at least, so that one "punten" before an Indonesian
    report does not switch the dialogue."""
    counts = {"id": 0, "su": 0, "en": 0}
    seen: set[tuple[int, str]] = set()
    for word in words:
        key = (word.start, word.surface)
        if word.lang in counts and key not in seen:
            seen.add(key)
            counts[word.lang] += 1
    indonesian, sundanese, english = counts["id"], counts["su"], counts["en"]
    if english >= 2 and english > indonesian + sundanese:
        return "en", True
    if sundanese and sundanese >= indonesian:
        return "su", sundanese >= 2
    return "id", indonesian > 0
