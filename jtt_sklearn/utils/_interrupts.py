"""Make a Ctrl-C during training end the fit, even where skorch swallows it."""

import contextlib
import signal
import threading


class _Interrupted:
    def __init__(self):
        self.pressed = False


@contextlib.contextmanager
def reraise_interrupt(stage):
    """Raise ``KeyboardInterrupt`` after the block if Ctrl-C was pressed inside it.

    skorch catches ``KeyboardInterrupt`` inside ``NeuralNet.fit`` and returns
    the half-trained net, which is what an interactive user wants from one
    fit, but JTT would go on into stage 2 or cache a truncated stage 1.
    skorch's own ``EarlyStopping`` stops training by raising
    ``KeyboardInterrupt`` too, so the exception cannot tell them apart: this
    wraps the SIGINT handler instead, and only a real Ctrl-C that the
    previous handler turned into ``KeyboardInterrupt`` counts. A handler
    that swallows it (a user's own) is respected.

    Signal handlers live in the main thread; elsewhere (a threaded joblib
    backend) no Ctrl-C arrives, and the block runs unchanged.
    """
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    if not callable(previous):  # not the main thread, or SIGINT ignored or left to C code
        yield
        return
    state = _Interrupted()

    def handler(signum, frame):
        try:
            previous(signum, frame)
        except KeyboardInterrupt:
            state.pressed = True
            raise

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if state.pressed:
        raise KeyboardInterrupt(f"interrupted during {stage}; the estimator was left as it was before fit")
