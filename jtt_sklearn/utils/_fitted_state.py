"""All-or-nothing fits: a fit that fails leaves the fitted attributes as they were."""

import contextlib
import functools


def _fitted_attributes(estimator):
    # scikit-learn's check_is_fitted convention: public names ending in "_".
    return {key: value for key, value in vars(estimator).items() if key.endswith("_") and not key.startswith("__")}


@contextlib.contextmanager
def fitted_state_restored_on_failure(estimator):
    """Put back the fitted attributes of ``estimator`` if the block raises (Ctrl-C included).

    A refit that fails in stage 2 then keeps the previous, consistent model
    (its ``classes_`` with its ``final_estimator_``), and a failed first fit
    leaves the estimator unfitted, so ``predict`` raises ``NotFittedError``.
    """
    before = _fitted_attributes(estimator)
    try:
        yield
    except BaseException:
        for key in _fitted_attributes(estimator):
            delattr(estimator, key)
        vars(estimator).update(before)
        raise


def all_or_nothing(fit):
    """Decorate ``fit`` so that a failure (Ctrl-C included) leaves the fitted attributes as they were."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        with fitted_state_restored_on_failure(self):
            return fit(self, *args, **kwargs)

    return wrapper
