"""Signals during training: SIGTERM ends a run as Ctrl-C does (the best model so far is saved),
and while the model file is written both wait, so an interrupted run never leaves half a file
or a traceback. Outside the main thread (where Python allows no signal handlers) both context
managers change nothing."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable


class SignalRecord:
    """Whether a signal came while a handler below was in place, and which."""

    fired = False
    signum: int | None = None


@contextlib.contextmanager
def signal_raises(signum: int, exception: type[BaseException]):
    """While inside, ``signum`` raises ``exception`` (and is recorded); the old handler is put
    back after, so a signal during the final save cannot interrupt it halfway."""
    record = SignalRecord()
    if threading.current_thread() is not threading.main_thread():
        yield record
        return

    def handler(signum, _frame):
        record.fired, record.signum = True, signum
        raise exception

    previous = signal.signal(signum, handler)
    try:
        yield record
    finally:
        signal.signal(signum, previous)


@contextlib.contextmanager
def signals_deferred(say: Callable[[str], None] | None, *signums: int):
    """While inside, the signals are recorded (and said once, through ``say`` unless None),
    not acted on: the code inside looks at the record when it is ready to."""
    record = SignalRecord()
    if threading.current_thread() is not threading.main_thread():
        yield record
        return

    def handler(signum, _frame):
        if not record.fired and say is not None:
            say("Writing the model file first; it will not take long.")
        record.fired, record.signum = True, signum

    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield record
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def children_ignore_ctrl_c():
    """Processes started inside ignore SIGINT (a new Python keeps an ignored SIGINT ignored),
    so the terminal's Ctrl-C, sent to the whole process group, reaches only this process,
    which then stops them as it sees fit. A Ctrl-C while inside is lost: keep it short (start
    processes with small arguments and send them their work after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
