"""scikit-learn's estimator checks over JTTClassifier, with a linear and a skorch base."""

import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.estimator_checks import (
    _get_check_estimator_ids,
    estimator_checks_generator,
)

from jtt_sklearn import JTTClassifier

from ._nets import SizeOutputToClasses, make_net


def _short_id(value):
    """``JTTClassifier(<base class>)`` for the estimator, not its full repr; scikit-learn's id for a check."""
    if isinstance(value, JTTClassifier):
        return f"JTTClassifier({type(value.base_estimator).__name__})"
    return _get_check_estimator_ids(value)


def parametrize_with_checks(estimator, expected_failed_checks=None):
    """scikit-learn's ``parametrize_with_checks`` for one estimator, with short test ids."""
    checks = estimator_checks_generator(
        estimator, legacy=True, expected_failed_checks=expected_failed_checks, mark="xfail"
    )
    return pytest.mark.parametrize("estimator, check", list(checks), ids=_short_id)


@parametrize_with_checks(JTTClassifier(LogisticRegression()))
def test_sklearn_compatible_with_logistic_regression(estimator, check):
    check(estimator)


# A base without sample_weight exercises the index-copy upsampling (sparse formats, array-likes).
@parametrize_with_checks(JTTClassifier(KNeighborsClassifier(), T=None))
def test_sklearn_compatible_with_a_base_without_sample_weight(estimator, check):
    check(estimator)


# Failures of skorch itself (or of the test module), not of JTTClassifier, which
# hands X to the base net unchanged.
SKORCH_EXPECTED_FAILURES = {
    "check_dtype_object": "skorch's default collate rejects object arrays with a TypeError "
    "that does not match the check's message",
    "check_classifier_data_not_an_array": "skorch's Dataset needs len(X); the check's "
    "_NotAnArray only implements __array__",
    "check_classifiers_train": "the check also fits on X.tolist(); skorch reads a Python list "
    "as a list of input arrays (several module inputs), not as a list of rows",
    # skorch takes CSR/CSC (tests/test_seams.py fits one); these checks also pass scipy's dok_matrix,
    # a dict subclass that skorch reads as a dict of module inputs, and the test module is dense-only.
    "check_estimator_sparse_tag": "skorch reads a dok_matrix as a dict of inputs; the module is dense",
    "check_estimator_sparse_array": "skorch reads a dok_array as a dict of inputs; the module is dense",
    "check_estimator_sparse_matrix": "skorch reads a dok_matrix as a dict of inputs; the module is dense",
    "check_fit1d": "the test module flattens every input, so 1-d X is valid for this net "
    "(JTTClassifier does not forbid 1-d X: text pipelines take 1-d arrays of strings)",
}


@parametrize_with_checks(
    JTTClassifier(
        make_net(callbacks=[SizeOutputToClasses()], max_epochs=20, optimizer=torch.optim.Adam, lr=0.05),
        T=1,
        lambda_up=3,
        random_state=0,
    ),
    expected_failed_checks=SKORCH_EXPECTED_FAILURES,
)
def test_sklearn_compatible_with_skorch_net(estimator, check):
    check(estimator)
