"""A stage through joblib.Memory: clear errors for what cannot be cached, repair bad entries."""

import hashlib
import inspect
import pickle

import joblib

from .utils._warnings import warn_user


class TrainingData:
    """A fit's training data, hashed once for the cache keys of both stages.

    joblib would hash the data by content in each stage (on a fit that both
    caches serve, most of its time) and write the ``repr`` of every argument
    into the cache's metadata (a list of texts, stored again in full). So the
    cached functions' ``X`` is left out of their keys and this digest put in.
    """

    def __init__(self, value):
        self.value = value
        self._digest = None

    def digest(self):
        if self._digest is None:
            self._digest = joblib.hash(self.value)
        return self._digest

    def __repr__(self):
        return f"<training data: {type(self.value).__name__}>"


def unwrapped(X):
    return X.value if isinstance(X, TrainingData) else X


def call_cached(memory, func, estimator, data, *args, is_valid, ignore=(), **kwargs):
    """``memory.cache(func)(estimator, data, *args, cache_key=..., **kwargs)``, checked.

    ``func`` fits ``estimator`` on ``data``, a :class:`TrainingData` that it
    receives as its parameter ``X``. Keyword arguments named in ``ignore``
    (progress display) are passed on but left out of the cache key.
    ``cache_key`` is part of the key only: the data's digest, and a fingerprint
    of the files that define the classes and functions in the estimator's
    parameters (joblib hashes a class by its name, so an edited module class
    of the user's would otherwise bring back the model built from the old one).

    A cache entry that loads as something ``is_valid`` rejects (a file
    overwritten by hand, or by an incompatible version) is recomputed and
    overwritten, with a warning; otherwise every later fit would fail on it.
    Arguments that cannot be pickled, and so cannot be hashed into a cache
    key, raise an error that says what to do instead of joblib's dump of
    every argument.
    """
    if memory.location is None:
        return func(estimator, data, *args, **kwargs)
    cached = memory.cache(func, ignore=["X", *ignore])
    try:
        kwargs = {"cache_key": (data.digest(), user_code_fingerprint(estimator)), **kwargs}
        result = cached(estimator, data, *args, **kwargs)
    except (pickle.PicklingError, AttributeError, TypeError):
        _check_hashable(estimator)  # the usual cause; anything else is raised as it was
        raise
    if is_valid(result):
        return result
    warn_user(
        f"The cache entry of {func.__name__} under {memory.location} held a "
        f"{type(result).__name__}, not what that stage returns; it was recomputed and overwritten.",
        UserWarning,
    )
    result, _ = cached.call(estimator, data, *args, **kwargs)
    return result


def _check_hashable(estimator):
    """The cache key hashes the estimator by pickling it: say so, and what to do, when that cannot work."""
    try:
        joblib.hash(estimator)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise ValueError(
            "memory= caches a stage under a hash of the base estimator, which needs it to be "
            f"picklable, and it is not: {_first_line(error)}. Define the module class (and any "
            "function it uses) at module level rather than inside a function, or drop memory."
        ) from None


def _first_line(error):
    message = str(error.args[0]) if error.args else str(error)
    return message.splitlines()[0][:300]


# Code of these packages changes only with their version, which a cache is not expected to survive.
_LIBRARIES = {
    "builtins",
    "jtt_sklearn",
    "numpy",
    "scipy",
    "sklearn",
    "skorch",
    "torch",
    "torchvision",
    "transformers",
    "functools",
    "collections",
    "typing",
}


def user_code_fingerprint(estimator):
    """A digest of the source files that define the classes and functions an estimator's parameters name.

    Classes (``module=MyModule``), instances (``callbacks=[MyCallback()]``) and
    functions from the library packages above are left out.
    """
    digest = hashlib.sha256()
    for name in sorted(_user_code_files(estimator.get_params(deep=True))):
        digest.update(name.encode())
        try:
            with open(name, "rb") as handle:
                digest.update(handle.read())
        except OSError:
            pass
    return digest.hexdigest()


def _user_code_files(value, seen=None):
    seen = set() if seen is None else seen
    if isinstance(value, dict):
        values = list(value.values())
    elif isinstance(value, (list, tuple)):
        values = list(value)
    else:
        values = [value]
    files = set()
    for item in values:
        if isinstance(item, (dict, list, tuple)) and item is not value:
            files |= _user_code_files(item, seen)
            continue
        code = item if inspect.isclass(item) or inspect.isfunction(item) else type(item)
        module = getattr(code, "__module__", None) or ""
        if module.split(".")[0] in _LIBRARIES or code in seen:
            continue
        seen.add(code)
        try:
            files.add(inspect.getsourcefile(code) or "")
        except (TypeError, OSError):
            pass
    return files - {""}
