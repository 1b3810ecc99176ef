"""jtt-sklearn: Just Train Twice (JTT) for scikit-learn and skorch.

JTT improves worst-group accuracy without training group labels: a short ERM
run finds the training rows it gets wrong, and a second model is trained with
those rows upsampled. Group labels are needed only on a validation set, to
choose ``T`` and ``lambda_up``.
"""

from typing import TYPE_CHECKING, Any

from .exceptions import EmptyErrorSetWarning

if TYPE_CHECKING:  # type checkers see the class; at run time __getattr__ imports it on first use
    from ._jtt import JTTClassifier

__version__ = "0.1.0.dev0"

__all__ = ["JTTClassifier", "EmptyErrorSetWarning", "__version__"]


def __getattr__(name: str) -> Any:
    # JTTClassifier imports torch; loading it on first use keeps `jtt-sklearn --help` instant.
    if name == "JTTClassifier":
        from ._jtt import JTTClassifier

        globals()["JTTClassifier"] = JTTClassifier
        return JTTClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
