"""Digests by content and code: what a cache key, or any other fingerprint of data, is made of.

A key must change exactly when a fresh computation could give another result.
So it is taken from what things *are*, not where they live: arrays and tensors
by their values (whatever their memory layout or device), DataFrames column by
column, torch Datasets by the files they read (path, size, modification time)
and their transform, row views of Datasets (``SliceDataset``, ``Subset``,
``ConcatDataset``) by the rows they select, and the user's classes and
functions by their code and by the files of the user modules those import.
joblib.Memory alone keys a class by its name and a Dataset by its attributes
(its documentation says it cannot see code called indirectly); this closes
those gaps where the code can be read, and says so once where it cannot.
"""

import functools
import hashlib
import inspect
import os
import site
import sys
import sysconfig
import types
from pathlib import Path
from typing import Any

import numpy as np
from joblib.hashing import NumpyHasher
from joblib.hashing import Pickler as _Pickler  # pickle's pure-Python pickler, which joblib's hashers extend

from ._warnings import warn_user

# Code of these packages changes only with their version, which a cache is not expected to survive.
_LIBRARY_PACKAGES = {"jtt_sklearn", "__future__"} | set(sys.stdlib_module_names)


def content_digest(*values: Any) -> str:
    """A hex digest of ``values`` by content and code (see the module docstring).

    Parameters
    ----------
    *values : objects
        Anything picklable: estimators, arrays, tensors, DataFrames, torch
        Datasets, dicts and lists of those.

    Returns
    -------
    digest : str
    """
    return _ContentHasher().hash(values)


_PLAIN = frozenset({str, bytes, int, float, bool, complex, type(None)})


class _ContentHasher(NumpyHasher):
    """joblib's hasher, made to key by content and code.

    ``save`` is pickle's recursive entry point, so every object met while
    pickling the values passes through it and may be replaced by a canonical
    stand-in; ``save_global`` is where classes and functions are written by
    name, so their code is added there.
    """

    def __init__(self):
        super().__init__(hash_name="md5", coerce_mmap=True)
        self._in_dataset = 0
        self._code_seen = set()

    def save(self, obj):
        if type(obj) in _PLAIN and not (self._in_dataset and type(obj) is str):
            return _Pickler.save(self, obj)  # most of a list of texts: nothing to substitute
        memoized = getattr(obj, "content_digest_", None)
        if isinstance(memoized, str):  # data digested once per fit (TrainingData): not hashed again
            return super().save(("digest", memoized))
        if isinstance(obj, np.ndarray) and not obj.flags.c_contiguous and not obj.dtype.hasobject:
            obj = np.ascontiguousarray(obj)  # Fortran order or a strided view: the same values, one key
        elif _is_tensor(obj):
            obj = _tensor_stand_in(obj)
        elif _is_pandas_frame(obj):
            obj = ("DataFrame", list(obj.columns), obj.index, [obj[c].to_numpy() for c in obj.columns])
        elif isinstance(obj, Path) or (self._in_dataset and isinstance(obj, str) and len(obj) < 4096):
            obj = _file_stand_in(obj)
        rows = _dataset_rows(obj)
        if rows is not None:
            obj = rows
        if _is_torch_dataset(obj):
            self._in_dataset += 1
            try:
                return super().save(obj)
            finally:
                self._in_dataset -= 1
        return super().save(obj)

    def save_global(self, obj, name=None, pack=None):
        super().save_global(obj, name=name)
        if id(obj) not in self._code_seen:
            self._code_seen.add(id(obj))
            fingerprint = code_fingerprint(obj)
            if fingerprint:
                self._hash.update(fingerprint)

    dispatch = NumpyHasher.dispatch.copy()
    for _kind in (type(len), type, type(NumpyHasher), types.FunctionType):
        dispatch[_kind] = save_global
    del _kind


def _is_tensor(obj):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def _tensor_stand_in(tensor):
    """A tensor by its values, dtype and shape: not its storage, address or device."""
    import torch

    values = tensor.detach().to("cpu").contiguous()
    raw = values.reshape(-1).view(torch.uint8).numpy() if values.numel() else np.empty(0, np.uint8)
    return ("torch.Tensor", type(tensor).__name__, str(values.dtype), tuple(values.shape), raw)


def _is_pandas_frame(obj):
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, pandas.DataFrame)


def _is_torch_dataset(obj):
    data = sys.modules.get("torch.utils.data")
    return data is not None and isinstance(obj, data.Dataset)


def _file_stand_in(path):
    """A path names its file's size and modification time too, so that an edited file misses."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return path
    if not os.path.isfile(path):
        return path
    return ("file", os.fsencode(path), stat.st_size, stat.st_mtime_ns)  # bytes: not a path again


def _dataset_rows(obj):
    """A row view of Datasets as (its base Datasets, and for each row: which base, which row there).

    ``SliceDataset(ConcatDataset([train, val]))[:n_train]`` (what a search
    trains on) and ``SliceDataset(train)`` (the refit) then get one key.
    """
    view_types = _row_view_types()
    if not view_types or not isinstance(obj, view_types):
        return None
    bases: list[Any] = []
    which, rows = _resolve_rows(obj, None, bases)
    item = getattr(obj, "idx", None)
    return ("dataset rows", item, bases, which.astype(np.int64), rows.astype(np.int64))


def _row_view_types():
    data = sys.modules.get("torch.utils.data")
    helper = sys.modules.get("skorch.helper")
    kinds = []
    if data is not None:
        kinds += [data.Subset, data.ConcatDataset]
    if helper is not None:
        kinds.append(helper.SliceDataset)
    return tuple(kinds)


def _resolve_rows(dataset, indices, bases):
    """``(base number, row in that base)`` for each row of ``dataset`` (restricted to ``indices``)."""
    view_types = _row_view_types()
    n = len(dataset)
    indices = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
    helper = sys.modules.get("skorch.helper")
    data = sys.modules["torch.utils.data"]
    if helper is not None and isinstance(dataset, helper.SliceDataset):
        return _resolve_rows(dataset.dataset, np.asarray(dataset.indices_)[indices], bases)
    if isinstance(dataset, data.Subset):
        return _resolve_rows(dataset.dataset, np.asarray(dataset.indices)[indices], bases)
    if isinstance(dataset, data.ConcatDataset):
        ends = np.asarray(dataset.cumulative_sizes)
        part = np.searchsorted(ends, indices, side="right")
        which, rows = np.empty_like(indices), np.empty_like(indices)
        for number in np.unique(part):
            mask = part == number
            start = 0 if number == 0 else ends[number - 1]
            which[mask], rows[mask] = _resolve_rows(dataset.datasets[number], indices[mask] - start, bases)
        return which, rows
    assert not isinstance(dataset, view_types)
    for number, base in enumerate(bases):
        if base is dataset:
            break
    else:
        bases.append(dataset)
        number = len(bases) - 1
    return np.full(indices.shape, number, dtype=np.int64), indices


# --- The user's code ------------------------------------------------------------------------------


def code_fingerprint(obj) -> bytes:
    """The code behind a class or function of the user's, as bytes; empty for library code.

    Covers the object's own code (methods of a class, the body of a function,
    also when defined in a notebook), the user functions and classes that code
    names, and the source files of the user modules involved and the user
    modules they import (an edited ``layers.py`` used by the module class).
    """
    if _is_library(getattr(obj, "__module__", None)):
        return b""
    digest = hashlib.md5(usedforsecurity=False)
    modules: set[str] = set()
    _add_code(obj, digest, modules, set())
    for name in sorted(_with_imported_user_modules(modules)):
        digest.update(name.encode())
        digest.update(_module_source_digest(name))
    return digest.digest()


def _is_library(module_name):
    if not module_name:
        return True
    top = module_name.split(".")[0]
    if top in _LIBRARY_PACKAGES or module_name == "builtins":
        return True
    if module_name == "__main__":
        return False
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    return path is None or os.path.realpath(path).startswith(_installed_roots())


@functools.lru_cache(maxsize=1)
def _installed_roots():
    roots = set(site.getsitepackages()) | {site.getusersitepackages()}
    roots |= {sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return tuple(os.path.realpath(root) for root in roots if root)


def _add_code(obj, digest, modules, seen):
    """Hash the code of a user function or class, and of the user objects it names."""
    if id(obj) in seen or _is_library(getattr(obj, "__module__", None)):
        return
    seen.add(id(obj))
    module = getattr(obj, "__module__", None)
    if module != "__main__":
        modules.add(module)  # its file is hashed whole, so the body needs no walk
        return
    digest.update(f"{getattr(obj, '__qualname__', obj)!r}".encode())
    if inspect.isclass(obj):
        for klass in obj.__mro__:
            if _is_library(klass.__module__):
                continue
            for name, member in sorted(vars(klass).items()):
                for function in _functions_of(member):
                    digest.update(name.encode())
                    _add_function(function, digest, modules, seen)
                if isinstance(member, (int, float, str, bytes, bool, tuple, type(None))):
                    digest.update(f"{name}={member!r}".encode())
    elif isinstance(obj, types.FunctionType):
        _add_function(obj, digest, modules, seen)
    else:
        _warn_unseen_code(obj)


def _functions_of(member):
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if isinstance(member, property):
        return [f for f in (member.fget, member.fset, member.fdel) if f is not None]
    return [member] if isinstance(member, types.FunctionType) else []


def _add_function(function, digest, modules, seen):
    digest.update(_code_bytes(function.__code__))
    digest.update(repr(function.__defaults__).encode())
    for name in _names_used(function.__code__):
        value = function.__globals__.get(name)
        if isinstance(value, types.ModuleType):
            if not _is_library(value.__name__):
                modules.add(value.__name__)
        elif inspect.isclass(value) or isinstance(value, types.FunctionType):
            _add_code(value, digest, modules, seen)
    for cell in function.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if inspect.isclass(value) or isinstance(value, types.FunctionType):
            _add_code(value, digest, modules, seen)


def _code_bytes(code):
    """The parts of a code object that decide what it does: not its file name or line numbers."""
    consts = tuple(_code_bytes(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts)
    return repr((code.co_code, consts, code.co_names, code.co_varnames)).encode()


def _names_used(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


def _with_imported_user_modules(names):
    """``names`` and every user module they import, directly or through each other."""
    found, todo = set(), [n for n in names if n and n != "__main__"]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        module = sys.modules.get(name)
        for value in list(vars(module).values()) if module is not None else ():
            other = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
            if isinstance(other, str) and other not in found and not _is_library(other):
                todo.append(other)
    return found


def _module_source_digest(name):
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    try:
        stat = os.stat(path)  # type: ignore[arg-type]
    except (OSError, TypeError):
        _warn_unseen_code(module or name)
        return b""
    return _file_digest(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=1024)
def _file_digest(path, size, mtime_ns):
    """A source file's digest; read again only when its size or modification time changes."""
    with open(path, "rb") as handle:
        return hashlib.md5(handle.read(), usedforsecurity=False).digest()


_WARNED: set[str] = set()


def _warn_unseen_code(obj):
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    if name in _WARNED:
        return
    _WARNED.add(name)
    warn_user(
        f"memory= cannot read the code of {name!r} (no source file), so an edit to it will not "
        "change the cache key and could bring back a stale model. Define it in a module file, or "
        "clear the cache (memory.clear()) after changing it.",
        UserWarning,
    )
