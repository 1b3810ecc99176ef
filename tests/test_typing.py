"""The public API is annotated, and ``mypy jtt_sklearn`` passes with the pyproject configuration."""

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import jtt_sklearn

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "jtt_sklearn"

# Methods checked besides the public ones: the constructor and the protocols users call.
_DUNDERS = ("__init__", "__call__", "__iter__", "__len__", "__getitem__")


def test_mypy_passes_on_the_package():
    pytest.importorskip("mypy")
    # From the repository root, so that mypy reads [tool.mypy] in pyproject.toml, as CI does.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", PACKAGE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"mypy failed:\n{result.stdout}\n{result.stderr}"


def _public_modules():
    # Every module without a leading underscore in its dotted name, found by walking the
    # package: a new public subpackage is checked without editing this file.
    names = [PACKAGE]
    for info in pkgutil.walk_packages(jtt_sklearn.__path__, prefix=PACKAGE + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _unwrap(member):
    """The plain function behind a class attribute (property, available_if, wrapped decorator)."""
    if isinstance(member, property):
        member = member.fget
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    member = getattr(member, "fn", member)  # scikit-learn's available_if descriptor
    return inspect.unwrap(member) if callable(member) else member


def _own_methods(cls):
    """(qualified name, function) for the public methods of cls and its jtt_sklearn bases."""
    seen = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith(PACKAGE + ".") and klass.__module__ != PACKAGE:
            continue  # torch's, skorch's and scikit-learn's methods are theirs to annotate
        for name, member in vars(klass).items():
            if name in seen or (name.startswith("_") and name not in _DUNDERS):
                continue
            function = _unwrap(member)
            if inspect.isfunction(function):
                seen.add(name)
                yield f"{cls.__name__}.{name}", function


def _public_callables():
    found = {}
    for modname in _public_modules():
        module = importlib.import_module(modname)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value):
                found.update(_own_methods(value))
            elif inspect.isfunction(value):
                found[name] = inspect.unwrap(value)
    return found


def _missing_annotations(function):
    """Names of the parameters (and 'return') of function that have no annotation."""
    signature = inspect.signature(function, eval_str=False)
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    missing = [
        p.name
        for p in parameters
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.annotation is inspect.Parameter.empty
    ]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_every_public_callable_is_annotated():
    callables = _public_callables()
    # The discovery itself must find the API: an empty walk would pass vacuously.
    assert len(callables) > 60, sorted(callables)
    assert {"JTTClassifier.fit", "JTTClassifier.predict", "worst_group_accuracy"} <= set(callables)
    unannotated = {name: missing for name, f in callables.items() if (missing := _missing_annotations(f))}
    assert not unannotated, f"public callables without annotations (name: what lacks one): {unannotated}"


def test_the_annotation_check_flags_what_is_missing():
    def bare(self, X, y=None, *args, **kwargs):
        pass

    def partial(X: int, y=None) -> None:
        pass

    def complete(X: int, *args, y: str = "", **kwargs) -> int:
        return X

    assert _missing_annotations(bare) == ["X", "y", "return"]
    assert _missing_annotations(partial) == ["y"]
    assert _missing_annotations(complete) == []
