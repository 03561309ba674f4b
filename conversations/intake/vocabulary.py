"""The words citizens use to answer the bot's closed questions, in Indonesian, Sundanese,
English and chat spelling. Compared after :func:`conversations.text.normalise`."""

from __future__ import annotations

YES_WORDS = frozenset(
    {
        "ya",
        "iya",
        "y",
        "yes",
        "benar",
        "betul",
        "bener",
        "ok",
        "oke",
        "leres",
        "muhun",
        "sumuhun",
        "enya",
        "kirim",
        "lanjut",
    }
)

NO_WORDS = frozenset(
    {
        "tidak",
        "tdk",
        "bukan",
        "no",
        "n",
        "salah",
        "teu",
        "sanes",
        "henteu",
        "ga",
        "gak",
        "nggak",
        "enggak",
        "ngga",
    }
)

DONE_WORDS = frozenset(
    {
        "selesai",
        "sudah",
        "udah",
        "cukup",
        "done",
        "finish",
        "beres",
        "rengse",
        "parantos",
        "tos",
        "sdh",
    }
)

NONE_WORDS = frozenset(
    {
        "tidak ada",
        "tdk ada",
        "gak ada",
        "ga ada",
        "nggak ada",
        "enggak ada",
        "ngga ada",
        "none",
        "no evidence",
        "nothing",
        "teu aya",
        "henteu aya",
        "euweuh",
        "tidak punya",
        "gak punya",
        "ga punya",
        "tidak",
        "no",
    }
)

SKIP_WORDS = frozenset(
    {
        "lewati",
        "lewat",
        "skip",
        "tidak tahu",
        "tdk tahu",
        "gak tahu",
        "ga tau",
        "gatau",
        "tidak tau",
        "teu terang",
        "teu nyaho",
    }
)

EDIT_WORDS = frozenset({"ubah", "edit", "ganti", "robah", "change"})
