"""Find parameters inside a (possibly nested) base estimator."""

import numpy as np

# Parameter names that set how long an estimator trains, in order of preference.
TRAINING_LENGTH_PARAMS = ("max_epochs", "max_iter")


def _matching_keys(estimator, name):
    params = estimator.get_params(deep=True)
    return sorted(key for key in params if key == name or key.endswith("__" + name))


def resolve_epochs_param(estimator, epochs_param="auto"):
    """Name of the parameter of ``estimator`` that sets its training length.

    ``"auto"`` looks for ``max_epochs`` (skorch nets), then ``max_iter``
    (scikit-learn iterative estimators), also inside Pipelines and other
    nested estimators, where the full ``step__param`` name is returned.

    Returns
    -------
    str or None
        The parameter's full name, or None when none was found.
    """
    if epochs_param != "auto":
        if epochs_param not in estimator.get_params(deep=True):
            raise ValueError(
                f"epochs_param={epochs_param!r} is not a parameter of "
                f"{type(estimator).__name__}. Pass the name of the parameter that sets "
                "its training length (see base_estimator.get_params())."
            )
        return epochs_param
    for name in TRAINING_LENGTH_PARAMS:
        keys = _matching_keys(estimator, name)
        if len(keys) == 1:
            return keys[0]
        if len(keys) > 1:
            raise ValueError(
                f"base_estimator has several {name!r} parameters ({keys}); pass "
                "epochs_param=<one of them> to say which one T sets."
            )
    return None


def find_skorch_net(estimator):
    """Return ``(net, prefix)`` for the skorch net that ``estimator`` trains, or ``(None, None)``.

    ``prefix`` is ``""`` when ``estimator`` is the net itself and ``"step__"``
    when the net is the final step of a Pipeline (possibly nested).
    """
    try:
        from skorch import NeuralNet
    except ImportError:  # pragma: no cover - skorch is a hard dependency
        return None, None
    if isinstance(estimator, NeuralNet):
        return estimator, ""
    steps = getattr(estimator, "steps", None)
    if steps:
        name, last = steps[-1]
        net, prefix = find_skorch_net(last)
        if net is not None:
            return net, f"{name}__{prefix}"
    return None, None


def seed_random_states(estimator, random_state):
    """Give every unset ``random_state`` parameter of ``estimator`` an int from ``random_state``.

    ``random_state`` is a :class:`numpy.random.RandomState`. Parameters the
    user fixed to an int are left alone; ``None`` and
    ``RandomState`` instances are replaced so that refits are reproducible.
    """
    to_set = {
        key: int(random_state.randint(np.iinfo(np.int32).max))
        for key, value in sorted(estimator.get_params(deep=True).items())
        if (key == "random_state" or key.endswith("__random_state"))
        and (value is None or isinstance(value, np.random.RandomState))
    }
    if to_set:
        estimator.set_params(**to_set)
    return estimator
