"""``archpal-desktop chat [--conversation ID] TEXT``: ask ArchPal from a terminal.

The message is saved first (so it is never lost), the reply streams to stdout as it arrives,
both are saved and synced. Offline, the message is queued and the command says so; the next
``chat`` (or the window) answers it. Status lines go to stderr, the reply text to stdout.
"""
from __future__ import annotations

import sys

from archpal_desktop.core.errors import (ArchPalError, AuthExpiredError, NotFoundError, OfflineError,
                                         ServiceUnavailableError)
from archpal_desktop.core.termsafe import say


def register(sub, common) -> None:
    p = sub.add_parser("chat", parents=[common], help="send a message to ArchPal and stream the reply")
    p.add_argument("text", nargs="*", metavar="TEXT", help="your message (quote it)")
    p.add_argument("--conversation", metavar="ID", help="continue this conversation (default: a new one)")
    p.add_argument("--retry", action="store_true", help="ask again for replies that failed earlier")
    p.set_defaults(func=cmd_chat)


def _err(text: str) -> None:
    say(text, file=sys.stderr, flush=True)  # error text can quote S3 content


def _access(ctx):
    """AWS access for this run, or None when offline (the message is then only queued).
    In the demo with no stored session, sign in to the demo account the normal way (SRP)."""
    try:
        return ctx.access()
    except AuthExpiredError:
        if ctx.demo is None:
            raise
    except (OfflineError, ServiceUnavailableError):
        return None
    from keyring.backends import null

    from archpal_desktop.core.auth import AuthSession
    from archpal_desktop.core.auth.keystore import KeyStore

    # a memory-only keyring: the demo's session must never land in the user's keychain
    session = AuthSession(ctx.settings, keystore=KeyStore(null.Keyring()))
    session.sign_in(ctx.demo.email, ctx.demo.password)
    _err(f"Signed in to the demo as {ctx.demo.email}.")
    return session.access()


def _conversation(ctx, store, access, wanted: str | None):
    from archpal_desktop.core.layout import validate_conversation_id
    from archpal_desktop.core.sync import sync_once

    if not wanted:
        return store.create_conversation()
    try:
        validate_conversation_id(wanted)
    except ArchPalError:
        raise NotFoundError(f"{wanted!r} is not a conversation id.",
                            "Use the id printed by an earlier 'chat' (a UUID).") from None
    conv = store.get_conversation(wanted)
    if conv is None and access is not None:
        sync_once(store, access, ctx.settings)   # it may only exist in the cloud so far
        conv = store.get_conversation(wanted)
    if conv is None:
        raise NotFoundError(f"There is no conversation {wanted} here.",
                            "Run 'archpal-desktop sync' or start a new one without --conversation.")
    return conv


def cmd_chat(ctx) -> int:
    from archpal_desktop.core.assistant import EmotionEvent, Finished, StreamError, TextDelta, build_providers
    from archpal_desktop.core.assistant.queue import ReplyRunner
    from archpal_desktop.core.sync import sync_once

    text = " ".join(ctx.args.text or []).strip()
    if not text and not ctx.args.retry:
        raise ArchPalError("There is no message to send.", 'Write it after "chat", in quotes.')
    access = _access(ctx)
    sub = access.sub if access is not None else ctx.current_sub()
    store = ctx.open_store(sub)
    settings = ctx.settings

    def session():
        if access is None:
            raise OfflineError()
        return access.session
    from archpal_desktop.core.assistant.relay import token_from_access
    runner = ReplyRunner(store, settings, lambda: build_providers(
        settings, session, token_from_access(lambda: access if access is not None else session())))

    target = None
    if text:
        conv = _conversation(ctx, store, access, ctx.args.conversation)
        runner.send(conv.conversation_id, text)
        target = conv.conversation_id
        _err(f"Conversation: {conv.conversation_id}")
    if ctx.args.retry:
        for row in runner.failed():
            runner.retry(row["reply_message_id"])

    streamed: dict[str, bool] = {}

    def on_event(ev) -> None:
        shown = target is None or ev.conversation_id == target
        event = ev.event
        if shown and ev.reply_message_id not in streamed:
            streamed[ev.reply_message_id] = True
            _err("ArchPal:")
        if isinstance(event, TextDelta) and shown:
            sys.stdout.write(event.text)
            sys.stdout.flush()
        elif isinstance(event, Finished) and shown:
            sys.stdout.write("\n")
            _err(f"(emotion: {event.emotion}; model: {event.model})")
        elif isinstance(event, StreamError) and event.started and shown:
            sys.stdout.write("\n")
            _err(f"The reply was interrupted: {event.error}")

    result = runner.run_pending(on_event=on_event)
    others = len([r for r in result.answered if r not in streamed])
    if others > 0:
        _err(f"Also answered {others} message(s) written earlier while offline.")
    if result.failed:
        _err("The part received so far is kept. Run 'archpal-desktop chat --retry' to ask again.")
    if result.error is not None:
        if result.offline:
            _err(f"ArchPal can't be reached right now ({result.error.message}). Your message is saved "
                 "and queued: it will be answered the next time ArchPal Desktop is online.")
        else:
            _err(f"Your message is saved, but ArchPal could not answer: {result.error}")
    if access is not None:
        try:
            sync = sync_once(store, access, settings)
            for err in sync.errors:
                _err(f"warning: {err}")
        except (OfflineError, ServiceUnavailableError):
            _err("Saved on this computer; it will sync when the connection returns.")
    if result.error is not None and not result.offline:
        return 1
    return 0
