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

from ._fixtures import ignore_weak_identifier
from ._nets import SizeOutputToClasses, make_net

# check_supervised_y_no_nan fits on a y holding inf: scikit-learn's type_of_target casts it to integers,
# which numpy warns about, before the ValueError the check expects is raised.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")


def _check_id(check):
    """scikit-learn's id of a check less its ``check_`` prefix: the test's name already says which base."""
    return _get_check_estimator_ids(check).removeprefix("check_")


def parametrize_with_checks(estimator, expected_failed_checks=None):
    """scikit-learn's ``parametrize_with_checks`` for one estimator, with one short id per check."""
    checks = list(
        estimator_checks_generator(
            estimator, legacy=True, expected_failed_checks=expected_failed_checks, mark="xfail"
        )
    )
    # A check marked xfail comes wrapped in a ParameterSet; its check is the second value.
    ids = [_check_id(getattr(c, "values", c)[1]) for c in checks]
    return pytest.mark.parametrize("estimator, check", checks, ids=ids)


@parametrize_with_checks(JTTClassifier(LogisticRegression()))
def test_logreg(estimator, check):
    """JTTClassifier(LogisticRegression()): sample_weight upsampling."""
    check(estimator)


# A base without sample_weight exercises the index-copy upsampling (sparse formats, array-likes).
# KNN with T=None predicts its training rows perfectly on some checks' data: an empty error set.
@parametrize_with_checks(JTTClassifier(KNeighborsClassifier(), T=None))
@pytest.mark.filterwarnings("ignore::jtt_sklearn.exceptions.EmptyErrorSetWarning")
def test_knn(estimator, check):
    """JTTClassifier(KNeighborsClassifier(), T=None): a base without sample_weight."""
    check(estimator)


# Failures of skorch itself (or of the test module), not of JTTClassifier, which
# hands X to the base net unchanged.
SKORCH_EXPECTED_FAILURES = {
    "check_dtype_object": "skorch's default collate rejects object arrays with another TypeError message",
    "check_classifier_data_not_an_array": (
        "skorch's Dataset needs len(X); the check's _NotAnArray has only __array__"
    ),
    "check_classifiers_train": (
        "the check also fits on X.tolist(), which skorch reads as several module inputs"
    ),
    # skorch takes CSR/CSC (tests/test_jtt.py fits one); these checks also pass scipy's dok_matrix,
    # a dict subclass that skorch reads as a dict of module inputs, and the test module is dense-only.
    "check_estimator_sparse_tag": "skorch reads a dok_matrix as a dict of inputs; the module is dense",
    "check_estimator_sparse_array": "skorch reads a dok_array as a dict of inputs; the module is dense",
    "check_estimator_sparse_matrix": "skorch reads a dok_matrix as a dict of inputs; the module is dense",
    # JTTClassifier does not forbid 1-d X either: text pipelines take 1-d arrays of strings.
    "check_fit1d": "the test module flattens every input, so 1-d X is valid for this net",
}


def test_expected_failure_reasons_are_short():
    # pytest -ra prints each reason beside the test id.
    assert max(len(reason) for reason in SKORCH_EXPECTED_FAILURES.values()) <= 100


@parametrize_with_checks(
    JTTClassifier(
        make_net(callbacks=[SizeOutputToClasses()], max_epochs=20, optimizer=torch.optim.Adam, lr=0.05),
        T=1,
        lambda_up=3,
        random_state=0,
    ),
    expected_failed_checks=SKORCH_EXPECTED_FAILURES,
)
@ignore_weak_identifier
def test_skorch(estimator, check):
    """JTTClassifier around a skorch net trained for T=1 epoch: sampler upsampling."""
    check(estimator)
