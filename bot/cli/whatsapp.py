"""``taros whatsapp link [--phone 62...] | status | logout [--local]``.

Each runs the WhatsApp worker (a child process; this command never loads neonize) with a
deadline, and ends with one clear line and an exit code: 0 done, 1 not done (not linked,
WhatsApp unreachable, nobody scanned the code), 2 refused (``taros run`` holds the session).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from bot.config import Settings
from bot.identity import parse_channel_id
from bot.ops.serving import served_elsewhere
from channels.whatsapp.files import SESSION, linked_device, read_state, remove_session
from channels.whatsapp.link import Outcome, link, logout, pretty, status
from channels.whatsapp.session import WorkerConfig

QR_HELP = (
    "On the phone of the TAROS number: WhatsApp > Settings > Linked devices > Link a device,"
    " then scan this code (a new code comes every 20 seconds):"
)
CODE_HELP = (
    "On the phone of the TAROS number: WhatsApp > Settings > Linked devices > Link a device >"
    " Link with phone number instead, then enter this code:"
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    whatsapp = sub.add_parser("whatsapp", help="link the WhatsApp number, show or end its session")
    verbs = whatsapp.add_subparsers(dest="verb", required=True, metavar="VERB")
    link_cmd = verbs.add_parser(
        "link",
        help="link the number as a linked device: a QR code to scan, or a pairing code",
        description=(
            "Link the TAROS WhatsApp number to this server as a linked device. Shows a QR code"
            " in the terminal to scan with the phone, or with --phone a pairing code to type on"
            " it; ends when the phone confirms (or after about 4 minutes)."
        ),
    )
    link_cmd.add_argument(
        "--phone", metavar="62...", help="the number to link, for a pairing code instead of a QR"
    )
    verbs.add_parser("status", help="whether a session exists and whether it connects")
    logout_cmd = verbs.add_parser("logout", help="end the session (also on the phone)")
    logout_cmd.add_argument(
        "--local",
        action="store_true",
        help="only delete the session on this server (when WhatsApp cannot be reached)",
    )


def run(args: argparse.Namespace, settings: Settings, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    data_dir = settings.data_dir
    config = WorkerConfig(max_bytes=settings.max_evidence_bytes)
    serving = served_elsewhere(data_dir, "whatsapp", "")
    if args.verb == "status":
        return _status(settings, config, serving, out)
    if args.verb == "logout":
        if serving:
            return _refuse("`taros run` is serving WhatsApp with this session: stop it first")
        if args.local:
            return _forget(settings, out)
        return _finish(asyncio.run(logout(data_dir, config=config)), out)
    phone = None
    if args.phone:
        phone = parse_channel_id(f"whatsapp:{args.phone}").id  # ValueError: a clear message
    if serving and linked_device(data_dir / SESSION) is not None:
        return _refuse("`taros run` is serving WhatsApp with a linked session already")
    outcome = asyncio.run(
        link(
            data_dir,
            phone=phone,
            show_qr=lambda code: _show_qr(code, out),
            show_code=lambda code: print(f"{CODE_HELP}\n\n    {code}\n", file=out, flush=True),
            config=config,
        )
    )
    if outcome.ok:
        print("Replies will go out from this number while `taros run` serves WhatsApp.", file=out)
    return _finish(outcome, out)


def _status(settings: Settings, config: WorkerConfig, serving: bool, out: TextIO) -> int:
    data_dir = settings.data_dir
    if serving:
        state = read_state(data_dir) or {}
        device = linked_device(data_dir / SESSION)
        what = state.get("state", "unknown")
        detail = f" ({state['detail']})" if state.get("detail") else ""
        who = pretty(state.get("phone") or device) if device or state.get("phone") else "no number"
        print(
            f"`taros run` is serving WhatsApp: {who}, {what}{detail}"
            f" since {state.get('since', '?')}",
            file=out,
        )
        return 0 if what == "connected" else 1
    return _finish(asyncio.run(status(data_dir, config=config)), out)


def _forget(settings: Settings, out: TextIO) -> int:
    session = settings.data_dir / SESSION
    device = linked_device(session)
    if not remove_session(session):
        return _finish(Outcome(False, "no WhatsApp session on this server"), out)
    print(
        f"deleted the session of {pretty(device)} on this server; remove TAROS from"
        " WhatsApp > Linked devices on the phone as well",
        file=out,
    )
    return 0


def _show_qr(code: str, out: TextIO) -> None:
    print(QR_HELP, file=out)
    try:
        import segno  # installed with neonize
    except ImportError:
        print(f"(no QR renderer installed; the code is) {code}", file=out, flush=True)
        return
    segno.make_qr(code, error="L").terminal(out=out, compact=True)
    out.flush()


def _finish(outcome: Outcome, out: TextIO) -> int:
    if outcome.ok:
        print(outcome.message, file=out)
        return 0
    print(f"taros whatsapp: {outcome.message}", file=sys.stderr)
    return 1


def _refuse(message: str) -> int:
    print(f"taros whatsapp: {message}", file=sys.stderr)
    return 2
