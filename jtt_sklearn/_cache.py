"""One cached call per stage, through joblib.Memory, keyed by content and code.

Each stage calls :func:`call_cached` once with everything that decides its
result; the key is :func:`~jtt_sklearn.utils._hashing.content_digest` of that.
"""

import pickle
from typing import Any, NamedTuple

from .utils._hashing import content_digest
from .utils._warnings import warn_user

__all__ = ["call_cached", "content_digest"]


class _Entry(NamedTuple):
    """What a cached stage stores: its result under the key it was computed for."""

    key: str
    value: Any


def call_cached(memory, func, *args, key, **kwargs):
    """``func(*args, **kwargs)`` through ``memory``, keyed by ``content_digest(*key)`` alone.

    ``key`` holds everything that determines the result (the seeded estimator,
    the data's digest, labels, fit parameters); ``args`` are not hashed again.
    An entry that does not hold a result for this key (a file overwritten by
    hand, or by an incompatible version) is recomputed and overwritten, with a
    warning; otherwise every later fit would fail on it.
    """
    if memory.location is None:
        return func(*args, **kwargs)
    try:
        digest = content_digest(*key)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise ValueError(
            "memory= caches a stage under a digest of the base estimator and the data, which needs "
            f"them to be picklable, and they are not: {_first_line(error)}. Define the module class "
            "(and any function it uses) at module level rather than inside a function, or drop memory."
        ) from None
    cached = memory.cache(_stage_entry(func), ignore=["args", "kwargs"])
    entry = cached(digest, args, kwargs)
    if isinstance(entry, _Entry) and entry.key == digest:
        return entry.value
    warn_user(
        f"The cache entry of {func.__name__} under {memory.location} held a {type(entry).__name__}, "
        "not that stage's result for this fit; it was recomputed and overwritten.",
        UserWarning,
    )
    entry, _ = cached.call(digest, args, kwargs)
    return entry.value


def _stage_entry(func):
    """``func`` as a function of (key, args, kwargs) returning an :class:`_Entry`, filed under its name."""

    def entry(key, args, kwargs):
        return _Entry(key, func(*args, **kwargs))

    entry.__module__, entry.__name__, entry.__qualname__ = func.__module__, func.__name__, func.__qualname__
    return entry


def _first_line(error):
    message = str(error.args[0]) if error.args else str(error)
    return message.splitlines()[0][:300]
