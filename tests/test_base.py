"""What JTTClassifier shares with the baselines: the training-length parameter and delegated prediction.

Which parameter ``T`` sets (``resolve_epochs_param``), the methods that exist only where the final
model has them, and the labels mapped back to ``classes_`` at predict and score time.
"""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from jtt_sklearn import JTTClassifier

from ._fixtures import float32_classification
from ._nets import make_net


@pytest.fixture
def data():
    return float32_classification(160, 5)


# --- The training-length parameter ----------------------------------------------------------------


# A forest fits its training set perfectly: stage 1 finds no error (the warning is not the point here).
@pytest.mark.filterwarnings("ignore::jtt_sklearn.exceptions.EmptyErrorSetWarning")
def test_T_without_a_training_length_parameter_says_what_to_do(data):
    X, y = data
    JTTClassifier(RandomForestClassifier(n_estimators=5), T=None).fit(X, y)  # T=None is fine
    with pytest.raises(ValueError, match="epochs_param="):
        JTTClassifier(RandomForestClassifier(), T=2).fit(X, y)


def test_epochs_param_override(data):
    X, y = data
    clf = JTTClassifier(
        RandomForestClassifier(n_estimators=20, random_state=0), T=2, epochs_param="n_estimators"
    ).fit(X, y)
    assert len(clf.identifier_.estimators_) == 2 and len(clf.final_estimator_.estimators_) == 20
    with pytest.raises(ValueError, match="not a parameter"):
        JTTClassifier(LogisticRegression(), epochs_param="n_layers").fit(X, y)


# --- Delegated prediction and labels --------------------------------------------------------------


def test_delegated_methods_exist_only_where_the_final_model_has_them(data):
    X, y = data
    no_proba = JTTClassifier(SVC(), T=3)
    assert not hasattr(no_proba, "predict_proba")
    assert hasattr(no_proba, "decision_function")
    no_proba.fit(X, y)
    assert not hasattr(no_proba, "predict_proba")
    assert no_proba.decision_function(X).shape == (len(y),)
    net_clf = JTTClassifier(make_net(max_epochs=1))
    assert not hasattr(net_clf, "decision_function")


def test_prediction_needs_no_group_labels_and_checks_feature_count(data):
    X, y = data
    clf = JTTClassifier(T=2).fit(X, y)
    assert clf.predict(X).shape == (len(y),)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


def test_string_and_noncontiguous_labels(data):
    X, y = data
    for labels in (np.array(["cat", "dog"]), np.array([-7, 40])):
        y_named = labels[y]
        for base in (LogisticRegression(), make_net(max_epochs=3)):
            clf = JTTClassifier(base, T=1, random_state=0).fit(X, y_named)
            np.testing.assert_array_equal(clf.classes_, np.sort(labels))
            assert set(clf.predict(X)) <= set(labels)
            assert clf.predict_proba(X).shape == (len(y), 2)
            assert 0.0 <= clf.score(X, y_named) <= 1.0


def test_score_with_labels_of_another_type_raises():
    X, y = float32_classification(120, 6)
    clf = JTTClassifier(LogisticRegression(), T=1).fit(X, np.where(y == 1, "b", "a"))
    with pytest.raises(ValueError, match="string.*number|number.*string"):
        clf.score(X, y)
    assert clf.score(X, np.where(y == 1, "b", "a")) > 0.5
