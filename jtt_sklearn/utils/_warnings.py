"""Silence warnings that a stage causes on purpose, without racing other threads."""

import contextlib
import threading
import warnings


@contextlib.contextmanager
def ignored_in_main_thread(category):
    """Ignore ``category`` inside the block, in the main thread only.

    ``warnings.catch_warnings`` saves and restores the process-wide filter
    list, so two threads inside it at once can leave a filter behind for
    good (the second restores what the first had changed). Fits running in
    worker threads (a threaded joblib backend) therefore change no filter
    and show the warning.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield
