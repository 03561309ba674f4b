"""The few words the Telegram channel says by itself: the command menu shown by Telegram
clients (``setMyCommands``, one list per language code) and the notice to a group that
reports are taken privately. Translated through the catalogs like every other text."""

from __future__ import annotations

from conversations.i18n import N_, _, use_locale

# The languages whose menu is registered; "id" is the default scope (no language code).
MENU_LANGUAGES = ("id", "en", "su")

_COMMANDS = (
    ("mulai", N_("Start a report")),
    ("batal", N_("Cancel the report you are writing")),
    ("status", N_("Check your report: /status NUMBER")),
    ("bahasa", N_("Change the language: id, su, en")),
    ("bantuan", N_("Help and the list of commands")),
)


def command_menu(locale: str) -> list[tuple[str, str]]:
    """The citizen commands with their descriptions in ``locale``."""
    with use_locale(locale):
        return [(command, _(description)) for command, description in _COMMANDS]


def group_notice(locale: str, username: str | None) -> str:
    """The one notice a group gets: write to the bot privately (with a link when known)."""
    with use_locale(locale):
        bot = f"https://t.me/{username}?start=lapor" if username else _("this bot")
        return _(
            "Reports are only taken in a private chat, so that the reporter stays protected. "
            "Please message %(bot)s directly."
        ) % {"bot": bot}
