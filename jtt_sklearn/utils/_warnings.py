"""Warnings that point at the user's line, and warnings a stage silences on purpose."""

import contextlib
import os
import sys
import threading
import warnings

import sklearn

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Frames skipped when a warning is attributed: this package, scikit-learn's fit wrappers, contextlib.
_LIBRARY_DIRS = (_PACKAGE_DIR + os.sep, os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep)
_CONTEXTLIB = os.path.abspath(contextlib.__file__)


def warn_user(message, category=UserWarning):
    """``warnings.warn`` attributed to the first frame outside jtt-sklearn and scikit-learn.

    A warning raised inside ``fit`` reaches the user through a varying number
    of frames (scikit-learn's ``_fit_context``, a search, a cached call), so
    a fixed ``stacklevel`` would point at library code in some of them.
    """
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and _is_library_frame(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _is_library_frame(frame):
    filename = os.path.abspath(frame.f_code.co_filename)
    return filename.startswith(_LIBRARY_DIRS) or filename == _CONTEXTLIB


@contextlib.contextmanager
def ignored_in_main_thread(category):
    """Ignore ``category`` inside the block, in the main thread only.

    ``warnings.catch_warnings`` saves and restores the process-wide filter
    list, so two threads inside it at once can leave a filter behind for
    good. Fits in worker threads (a threaded joblib backend) therefore change
    no filter and show the warning.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield
