"""When it happened: time expressions of a chat message resolved against the time it was sent.

Works on canonical words (:mod:`conversations.understanding.slang` has already turned "kamari" into
"kemarin", "bieu" into "barusan", "wengi" into "malam", "Senén" into "senin", "21.30" into
"21:30"). Understood, in the configured time zone and relative to ``now``:

* moments: "sekarang", "barusan" (the last half hour), "2 jam lalu", "jam 9", "pukul 21.30",
  "jam 9 malam", "kemarin jam 3 sore";
* parts of a day: "tadi pagi", "tadi malam"/"semalam" (last night), "kemarin sore",
  "Senin malam", "malam Minggu" (Saturday night), "subuh", "magrib";
* days: "kemarin", "kemarin lusa", "2 hari lalu", weekday names (the most recent such day,
  today included; "Senin lalu" is the one before), "tgl 3" (this month, or last month when
  that is still to come), "3/11", "3 November", "3 Nov 2025";
* longer ranges: "minggu lalu" (last Monday to Sunday), "bulan lalu", "3 bulan lalu",
  "tahun lalu".

A clock time without a part of the day is the most recent past one ("jam 9" at 14:00 is 09:00
today, at 08:00 it is 21:00 yesterday). Habits are no time: "tiap malam", "setiap hari". A
range is its start plus an end; a moment has no end. A time is never in the future unless said
("besok", "nanti malam").
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["TimeSpan", "resolve_time"]

PARTS: dict[str, tuple[time, time]] = {
    "pagi": (time(5, 0), time(10, 59, 59)),
    "siang": (time(11, 0), time(14, 59, 59)),
    "sore": (time(15, 0), time(17, 59, 59)),
    "malam": (time(18, 0), time(23, 59, 59)),
    "subuh": (time(3, 30), time(5, 59, 59)),
    "magrib": (time(17, 45), time(18, 59, 59)),
    "maghrib": (time(17, 45), time(18, 59, 59)),
    "isya": (time(19, 0), time(20, 29, 59)),
    "dzuhur": (time(11, 45), time(12, 59, 59)),
    "zuhur": (time(11, 45), time(12, 59, 59)),
    "lohor": (time(11, 45), time(12, 59, 59)),
    "ashar": (time(15, 0), time(15, 59, 59)),
    "asar": (time(15, 0), time(15, 59, 59)),
}
_DINI = (time(0, 0), time(4, 59, 59))
WEEKDAYS = {"senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6}
MONTHS = {
    "januari": 1,
    "jan": 1,
    "februari": 2,
    "feb": 2,
    "peb": 2,
    "maret": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "agustus": 8,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "agus": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "nop": 11,
    "desember": 12,
    "des": 12,
}
_AGO = {"lalu", "kemarin", "yang", "kebelakang"}
_HABIT = {"tiap", "setiap", "sering", "biasanya", "selalu", "kalau"}
_UNTIL = {"sampai", "hingga", "sampe", "smpe"}
_NOT_A_DATE_AFTER = {"rt", "rw", "no", "nomor", "blok", "nomer", "kelas", "skor"}
_CLOCK_WORDS = {"jam", "pukul"}
_BARUSAN = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """A resolved time: ``start`` (aware, in the configured zone), ``end`` for a range (None
    for a moment), the indexes of the words that said it, and those words."""

    start: datetime
    end: datetime | None
    used: frozenset[int] = field(default_factory=frozenset)
    phrase: str = ""

    @property
    def is_range(self) -> bool:
        return self.end is not None


@dataclass(slots=True)
class _Found:
    """What the words say, feature by feature (first occurrence of each wins)."""

    day: date | None = None
    day_end: date | None = None  # for multi-day ranges
    day_kind: str | None = None  # "today" | "yesterday" | "weekday" | "date" | "ago" | "future"
    part: str | None = None
    eve: bool = False  # "malam Minggu": the evening before that day
    clock: tuple[int, int] | None = None
    moment: datetime | None = None
    moment_end: datetime | None = None
    moment_rank: int = 0  # barusan/N jam lalu = 2, sekarang = 1
    tadi: bool = False
    last_night: bool = False
    used: set[int] = field(default_factory=set)


def resolve_time(words: Sequence[str], now: datetime, tz: ZoneInfo) -> TimeSpan | None:
    """The incident time the canonical ``words`` state, relative to ``now``; None if none."""
    local_now = (now if now.tzinfo else now.replace(tzinfo=tz)).astimezone(tz)
    found = _scan(words, local_now)
    span = _combine(found, local_now)
    if span is None:
        return None
    used = frozenset(found.used)
    phrase = " ".join(words[i] for i in sorted(used))
    return TimeSpan(span[0], span[1], used, phrase)


# --------------------------------------------------------------------------- scanning


def _scan(words: Sequence[str], now: datetime) -> _Found:
    found = _Found()
    today = now.date()
    index = 0
    while index < len(words):
        step = _read_at(words, index, now, today, found)
        index += max(step, 1)
    return found


def _habitual(words: Sequence[str], index: int) -> bool:
    return index > 0 and words[index - 1] in _HABIT


def _read_at(words: Sequence[str], i: int, now: datetime, today: date, found: _Found) -> int:
    """Read one time expression starting at ``words[i]``; the number of words it took."""
    word = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if _habitual(words, i):
        return 1
    if word in ("sekarang",) or (word == "saat" and nxt == "ini"):
        if found.moment_rank < 1:
            found.moment, found.moment_end, found.moment_rank = now, None, 1
            found.used.add(i)
        return 2 if word == "saat" else 1
    if word == "barusan":
        if found.moment_rank < 2:
            found.moment, found.moment_end, found.moment_rank = now - _BARUSAN, now, 2
            found.used.add(i)
        return 1
    if word == "tadi":
        found.tadi = True
        found.used.add(i)
        if nxt == "malam":
            found.last_night = True
            found.used.add(i + 1)
            return 2
        return 1
    if word == "semalam":
        found.last_night = True
        found.used.add(i)
        return 1
    if word == "hari" and nxt == "ini":
        _set_day(found, today, "today", {i, i + 1})
        return 2
    if word == "kemarin":
        if nxt == "lusa":
            _set_day(found, today - timedelta(days=2), "ago", {i, i + 1})
            return 2
        _set_day(found, today - timedelta(days=1), "yesterday", {i})
        return 1
    if word == "besok":
        _set_day(found, today + timedelta(days=1), "future", {i})
        return 1
    if word == "nanti" and nxt in PARTS:
        _set_day(found, today, "future", {i})
        return 1
    if word.isdigit():
        return _read_number(words, i, now, today, found)
    if word in ("minggu", "bulan", "tahun") and nxt in ("lalu", "kemarin"):
        return _read_ago(words, i, 1, word, today, found)
    if word in WEEKDAYS and _is_weekday(words, i):
        return _read_weekday(words, i, today, found)
    if word in ("malam",) and nxt in WEEKDAYS:
        found.eve = True
        found.part = found.part or "malam"
        found.used.add(i)
        return _read_weekday(words, i + 1, today, found, eve=True) + 1
    if word in PARTS:
        if found.part is None:
            found.part = word
            found.used.add(i)
        return 1
    if word == "dini" and nxt == "hari":
        if found.part is None:
            found.part = "dini"
            found.used.update({i, i + 1})
        return 2
    if word in _CLOCK_WORDS and nxt:
        return _read_clock(words, i, found)
    if ":" in word and _clock_of(word) is not None and (i == 0 or words[i - 1] not in _UNTIL):
        if found.clock is None:
            found.clock = _clock_of(word)
            found.used.add(i)
        return 1
    if "/" in word and (i == 0 or words[i - 1] not in _NOT_A_DATE_AFTER):
        day = _slash_date(word, today)
        if day is not None:
            _set_day(found, day, "date", {i})
        return 1
    if word == "tanggal" and nxt.isdigit():
        return 1 + _read_date(words, i + 1, today, found, extra={i})
    return 1


def _is_weekday(words: Sequence[str], i: int) -> bool:
    """Whether "minggu" names Sunday: it is a week as often, so only "hari Minggu", "malam
    Minggu", "Minggu pagi"... name the day."""
    if words[i] != "minggu":
        return True
    before = words[i - 1] if i > 0 else ""
    after = words[i + 1] if i + 1 < len(words) else ""
    return before in ("hari", "malam") or after in PARTS or after == "dini"


def _set_day(found: _Found, day: date, kind: str, used: set[int], end: date | None = None) -> None:
    if found.day is None:
        found.day, found.day_kind, found.day_end = day, kind, end
        found.used.update(used)


def _read_weekday(
    words: Sequence[str], i: int, today: date, found: _Found, eve: bool = False
) -> int:
    target = WEEKDAYS[words[i]]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    delta = (today.weekday() - target) % 7
    taken = 1
    if nxt in ("lalu", "kemarin"):
        taken = 2
        if delta == 0:
            delta = 7
    day = today - timedelta(days=delta)
    if eve:
        day -= timedelta(days=1)
    _set_day(found, day, "weekday", set(range(i, i + taken)))
    if i > 0 and words[i - 1] == "hari":
        found.used.add(i - 1)
    return taken


def _read_number(words: Sequence[str], i: int, now: datetime, today: date, found: _Found) -> int:
    value = int(words[i]) if len(words[i]) <= 4 else -1
    nxt = words[i + 1] if i + 1 < len(words) else ""
    nxt2 = words[i + 2] if i + 2 < len(words) else ""
    ago = nxt2 in _AGO
    words_taken = 4 if nxt2 == "yang" and i + 3 < len(words) and words[i + 3] == "lalu" else 3
    if nxt in ("jam", "menit") and ago and 0 < value <= 72 * (60 if nxt == "menit" else 1):
        unit = timedelta(hours=value) if nxt == "jam" else timedelta(minutes=value)
        if found.moment_rank < 2:
            found.moment, found.moment_end, found.moment_rank = now - unit, None, 2
            found.used.update(range(i, i + words_taken))
        return words_taken
    if nxt == "hari" and ago and 0 < value <= 60:
        _set_day(found, today - timedelta(days=value), "ago", set(range(i, i + words_taken)))
        return words_taken
    if nxt in ("minggu", "bulan", "tahun") and ago and 0 < value <= 24:
        return _read_ago(words, i + 1, value, nxt, today, found, extra={i})
    if nxt in MONTHS and 1 <= value <= 31:
        return _read_date(words, i, today, found)
    return 1


def _read_ago(
    words: Sequence[str],
    i: int,
    count: int,
    unit: str,
    today: date,
    found: _Found,
    extra: set[int] | None = None,
) -> int:
    used = {i, i + 1} | (extra or set())
    if unit == "minggu":
        if count == 1 and not extra:
            monday = today - timedelta(days=today.weekday() + 7)
            _set_day(found, monday, "ago", used, end=monday + timedelta(days=6))
        else:
            _set_day(found, today - timedelta(days=7 * count), "ago", used)
    elif unit == "bulan":
        year, month = today.year, today.month - count
        while month < 1:
            month += 12
            year -= 1
        last = calendar.monthrange(year, month)[1]
        _set_day(found, date(year, month, 1), "ago", used, end=date(year, month, last))
    else:
        year = today.year - count
        _set_day(found, date(year, 1, 1), "ago", used, end=date(year, 12, 31))
    return 2


def _read_date(
    words: Sequence[str], i: int, today: date, found: _Found, extra: set[int] | None = None
) -> int:
    """``3``, ``3 November``, ``3 Nov 2025`` (``words[i]`` is the day number)."""
    day_number = int(words[i]) if len(words[i]) <= 2 else 0
    used = {i} | (extra or set())
    taken = 1
    month: int | None = None
    year: int | None = None
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if nxt in MONTHS:
        month = MONTHS[nxt]
        used.add(i + 1)
        taken = 2
        after = words[i + 2] if i + 2 < len(words) else ""
        if after.isdigit() and len(after) == 4 and 1990 <= int(after) <= today.year + 1:
            year = int(after)
            used.add(i + 2)
            taken = 3
    resolved = _calendar_day(day_number, month, year, today)
    if resolved is not None:
        _set_day(found, resolved, "date", used)
    return taken


def _calendar_day(day: int, month: int | None, year: int | None, today: date) -> date | None:
    """A day of this month (or the last month that had it, when still to come), or of this
    year (or last year) when a month is given."""
    if not 1 <= day <= 31:
        return None
    if month is None:
        year_, month_ = today.year, today.month
        for _ in range(3):
            if day <= calendar.monthrange(year_, month_)[1]:
                candidate = date(year_, month_, day)
                if candidate <= today:
                    return candidate
            month_ -= 1
            if month_ < 1:
                month_, year_ = 12, year_ - 1
        return None
    years = [year] if year is not None else [today.year, today.year - 1]
    for year_ in years:
        if day <= calendar.monthrange(year_, month)[1]:
            candidate = date(year_, month, day)
            if candidate <= today or year is not None:
                return candidate
    return None


def _slash_date(word: str, today: date) -> date | None:
    parts = word.split("/")
    try:
        day, month = int(parts[0]), int(parts[1])
        year = int(parts[2]) if len(parts) > 2 else None
    except ValueError:
        return None
    if year is not None and year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return None
    if year is not None and not 1990 <= year <= today.year + 1:
        return None
    return _calendar_day(day, month, year, today)


def _read_clock(words: Sequence[str], i: int, found: _Found) -> int:
    """``jam 9``, ``jam 9:30``, ``pukul 21:30`` (``words[i]`` is "jam"/"pukul")."""
    if i > 0 and words[i - 1] in _UNTIL:
        return 1
    nxt = words[i + 1]
    clock: tuple[int, int] | None = None
    taken = 2
    if nxt.isdigit() and len(nxt) <= 2 and 0 <= int(nxt) <= 24:
        minute = 0
        after = words[i + 2] if i + 2 < len(words) else ""
        if after.isdigit() and len(after) == 2 and int(after) < 60:
            minute, taken = int(after), 3
        clock = (int(nxt) % 24, minute)
    elif ":" in nxt:
        clock = _clock_of(nxt)
    if clock is None:
        return 1
    if found.clock is None:
        found.clock = clock
        found.used.update(range(i, i + taken))
    return taken


def _clock_of(word: str) -> tuple[int, int] | None:
    hour_text, _, minute_text = word.partition(":")
    if not (hour_text.isdigit() and minute_text.isdigit()):
        return None
    hour, minute = int(hour_text), int(minute_text)
    if hour > 24 or minute > 59:
        return None
    return hour % 24, minute


# --------------------------------------------------------------------------- combining


def _combine(found: _Found, now: datetime) -> tuple[datetime, datetime | None] | None:
    tz = now.tzinfo
    assert tz is not None
    today = now.date()

    def at(day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=tz)

    part = _part_window(found.part)
    if found.last_night and found.day is None:
        day = today if now.time() >= time(18, 0) else today - timedelta(days=1)
        found.day, found.day_kind = day, "yesterday"
        part = PARTS["malam"]
        found.part = found.part or "malam"
    if found.clock is not None:
        hour, minute = _hour_in_part(found.clock, found.part)
        if found.day is not None:
            moment = at(found.day, time(hour, minute))
            return (_not_future(moment, now, found), None)
        return (_latest_past(hour, minute, found.part is None, now), None)
    if found.day is not None and part is not None:
        start, end = at(found.day, part[0]), at(found.day, part[1])
        if start > now and found.day_kind not in ("future",):
            if found.day_kind in ("weekday",):
                start, end = start - timedelta(days=7), end - timedelta(days=7)
            elif found.day == today:
                start, end = start - timedelta(days=1), end - timedelta(days=1)
        return (start, min(end, now) if start <= now else end)
    if found.day is not None:
        last_day = found.day_end or found.day
        start = at(found.day, time(0, 0))
        end = at(last_day, time(23, 59, 59))
        return (start, min(end, now) if start <= now else end)
    if part is not None and found.tadi:
        start, end = at(today, part[0]), at(today, part[1])
        if start > now:
            start, end = start - timedelta(days=1), end - timedelta(days=1)
        return (start, min(end, now))
    if found.moment is not None:
        return (found.moment, found.moment_end)
    return None


def _part_window(part: str | None) -> tuple[time, time] | None:
    if part is None:
        return None
    return _DINI if part == "dini" else PARTS[part]


def _hour_in_part(clock: tuple[int, int], part: str | None) -> tuple[int, int]:
    """The hour in 24-hour time: "jam 9 malam" is 21:00, "jam 2 siang" 14:00, "jam 12 malam"
    midnight."""
    hour, minute = clock
    if part in ("sore", "malam", "isya", "magrib", "maghrib", "ashar", "asar") and 1 <= hour < 12:
        if not (part == "malam" and hour <= 3):
            hour += 12
    elif part == "malam" and hour == 12:
        hour = 0
    elif part in ("siang", "dzuhur", "zuhur", "lohor") and 1 <= hour <= 5:
        hour += 12
    return hour, minute


def _latest_past(hour: int, minute: int, twelve_hour: bool, now: datetime) -> datetime:
    """The most recent past time of day with that clock reading (either half of the day when
    the text did not say which)."""
    tz = now.tzinfo
    hours = {hour, (hour + 12) % 24} if twelve_hour and 1 <= hour <= 12 else {hour}
    candidates = []
    for candidate_hour in hours:
        for back in (0, 1):
            moment = datetime.combine(
                now.date() - timedelta(days=back), time(candidate_hour, minute), tzinfo=tz
            )
            if moment <= now:
                candidates.append(moment)
                break
    return max(candidates)


def _not_future(moment: datetime, now: datetime, found: _Found) -> datetime:
    if moment <= now or found.day_kind == "future":
        return moment
    if found.day_kind == "weekday":
        return moment - timedelta(days=7)
    if found.day == now.date():
        return moment - timedelta(days=1)
    return moment
