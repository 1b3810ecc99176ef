"""A fit either finishes or leaves nothing wrong behind (issue 11).

Interrupts, failed refits, errors that can be raised before any training,
seeding with ``random_state=None``, labels and outputs that do not fit, and
smaller input problems found by an audit of bad inputs.
"""

import signal
import threading
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import DataLoader

from jtt_sklearn import JTTClassifier
from jtt_sklearn.metrics import worst_group_accuracy
from jtt_sklearn.model_selection import make_validation_protocol
from jtt_sklearn.utils import MultiplicitySampler

from ._nets import EPOCHS_TRAINED, CountEpochs, make_net

class CtrlCAt(Callback):
    """Press Ctrl-C (a real SIGINT) at the end of one epoch, while ``armed``.

    ``armed`` is a class attribute, not a parameter, so an armed and a
    disarmed net hash alike in a ``memory`` cache.
    """

    armed = True

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if type(self).armed and len(net.history) == self.epoch:
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.1)  # the handler runs at the next bytecode boundary


class CtrlCLogisticRegression(LogisticRegression):
    """A scikit-learn base whose fit is interrupted by Ctrl-C while ``armed``."""

    armed = True
    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        if type(self).armed:
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.1)
        return super().fit(X, y, sample_weight=sample_weight)


class FailInTraining(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("simulated failure in stage 2")


@pytest.fixture(autouse=True)
def reset_state():
    EPOCHS_TRAINED.clear()
    CtrlCAt.armed = True
    CtrlCLogisticRegression.armed = True
    CtrlCLogisticRegression.fits = 0


@pytest.fixture
def data():
    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    return X.astype(np.float32), y


def _net(**params):
    return make_net(max_epochs=6, **params)


# 1. Ctrl-C stops the whole fit


def test_ctrl_c_in_stage_1_raises_and_caches_nothing(data, tmp_path):
    X, y = data
    clf = JTTClassifier(
        _net(callbacks=[CountEpochs()]), T=8, identifier_params={"callbacks": [CountEpochs(), CtrlCAt(2)]},
        memory=tmp_path, random_state=0,
    )
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert EPOCHS_TRAINED == [1, 2], "stage 2 must not run after an interrupt"
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)

    CtrlCAt.armed = False
    clf.fit(X, y)
    assert len(clf.identifier_.history) == 8, "the truncated stage 1 must not be cached"


def test_ctrl_c_in_stage_2_leaves_the_estimator_unfitted(data):
    X, y = data
    clf = JTTClassifier(_net(), T=1, final_params={"callbacks": [CtrlCAt(1)]}, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [key for key in vars(clf) if key.endswith("_") and not key.startswith("__")]


def test_ctrl_c_in_a_refit_keeps_the_previous_model(data):
    X, y = data
    clf = JTTClassifier(_net(), T=1, final_params={"callbacks": [CtrlCAt(1)]}, random_state=0)
    CtrlCAt.armed = False
    proba = clf.fit(X, y).predict_proba(X)
    final = clf.final_estimator_
    CtrlCAt.armed = True
    with pytest.raises(KeyboardInterrupt):
        clf.set_params(lambda_up=20).fit(X, y)
    assert clf.final_estimator_ is final
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_ctrl_c_with_T_grid_is_an_interrupt_not_a_callback_error(data, tmp_path):
    X, y = data
    clf = JTTClassifier(
        _net(), T=2, T_grid=[2, 4], identifier_params={"callbacks": [CtrlCAt(3)]}, memory=tmp_path,
        random_state=0,
    )
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    CtrlCAt.armed = False
    clf.fit(X, y)
    assert len(clf.identifier_.history) == 2


def test_ctrl_c_with_a_scikit_learn_base(data, tmp_path):
    X, y = data
    clf = JTTClassifier(CtrlCLogisticRegression(), T=5, memory=tmp_path, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    CtrlCLogisticRegression.armed = False
    CtrlCLogisticRegression.fits = 0
    clf.fit(X, y)
    assert CtrlCLogisticRegression.fits == 2, "stage 1 must be trained again, not read from the cache"


def test_an_interrupt_that_a_users_handler_swallows_is_not_raised(data):
    X, y = data
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        clf = JTTClassifier(_net(), T=3, identifier_params={"callbacks": [CtrlCAt(2)]}, random_state=0)
        clf.fit(X, y)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == [signal.SIGINT]
    assert len(clf.identifier_.history) == 3
    assert signal.getsignal(signal.SIGINT) is previous


# 2. A failed fit leaves the estimator as it was


def test_a_failed_refit_on_new_labels_keeps_the_previous_state(data):
    X, y = data
    clf = JTTClassifier(_net(), T=1, random_state=0).fit(X, y)
    before = {key: value for key, value in vars(clf).items() if key.endswith("_")}
    predictions = clf.predict(X)
    renamed = np.where(y == 1, "no", "yes")  # inverted meaning if classes_ leaked through
    clf.set_params(final_params={"callbacks": [FailInTraining()]})
    with pytest.raises(RuntimeError, match="simulated failure"):
        clf.fit(X[:100], renamed[:100])
    after = {key: value for key, value in vars(clf).items() if key.endswith("_")}
    assert after.keys() == before.keys()
    assert all(after[key] is before[key] for key in before)
    np.testing.assert_array_equal(clf.predict(X), predictions)


def test_a_failed_first_fit_leaves_the_estimator_unfitted(data):
    X, y = data
    clf = JTTClassifier(_net(), T=1, final_params={"callbacks": [FailInTraining()]})
    with pytest.raises(RuntimeError, match="simulated failure"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


# 3. What can be checked before training is checked before training


@pytest.mark.parametrize(
    "final_params, match",
    [
        ({"no_such_param": 1}, "no_such_param"),
        ({"module__no_such_arg": 1}, "module__no_such_arg"),
        ({"optimizer__no_such_arg": 1}, "optimizer__no_such_arg"),
        ({"iterator_train__no_such_arg": 1}, "iterator_train__no_such_arg"),
        ({"callbacks__nope__x": 1}, "nope"),
    ],
)
def test_bad_final_params_fail_before_stage_1_trains(data, final_params, match):
    X, y = data
    clf = JTTClassifier(_net(callbacks=[CountEpochs()]), T=3, final_params=final_params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert EPOCHS_TRAINED == []


def test_final_params_checks_accept_what_skorch_accepts(data):
    X, y = data
    clf = JTTClassifier(
        _net(), T=1, random_state=0,
        final_params={"module__hidden": 8, "optimizer__momentum": 0.5, "iterator_train__num_workers": 0},
    ).fit(X, y)
    assert clf.final_estimator_.module_.body[0].out_features == 8


class MyLoader(DataLoader):
    pass


def test_a_custom_iterator_train_fails_before_stage_1_trains(data):
    X, y = data
    clf = JTTClassifier(_net(callbacks=[CountEpochs()], iterator_train=MyLoader), T=3)
    with pytest.raises(ValueError, match="iterator_train"):
        clf.fit(X, y)
    assert EPOCHS_TRAINED == []


def test_a_sampler_set_on_the_base_fails_before_stage_1_trains(data):
    X, y = data
    clf = JTTClassifier(_net(callbacks=[CountEpochs()], iterator_train__sampler=None), T=3)
    with pytest.raises(ValueError, match="sampler"):
        clf.fit(X, y)
    assert EPOCHS_TRAINED == []


@pytest.mark.parametrize("base", [_net(), SGDClassifier(random_state=0)], ids=["sampler", "index"])
def test_a_huge_upsampled_epoch_is_refused_with_the_row_count(data, base):
    X, y = data
    upsampling = "index" if isinstance(base, SGDClassifier) else "auto"
    clf = JTTClassifier(base, T=1, lambda_up=10**9, upsampling=upsampling, random_state=0)
    with pytest.raises(ValueError, match=r"lambda_up=1000000000.*rows") as error:
        clf.fit(X, y)
    assert "sample_weight" in str(error.value)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


def test_a_huge_lambda_up_with_sample_weight_is_fine(data):
    X, y = data
    clf = JTTClassifier(LogisticRegression(), T=1, lambda_up=10**9, random_state=0).fit(X, y)
    assert clf.sample_multiplicity_.max() == 10**9


def test_the_sampler_yields_the_same_order_without_a_python_list_of_the_epoch():
    multiplicity = np.array([1, 3, 1, 2])
    sampler = MultiplicitySampler(multiplicity, random_state=0)
    expected = np.repeat(np.arange(4), multiplicity)
    np.random.default_rng(0).shuffle(expected)
    iterator = iter(sampler)
    assert not isinstance(iterator, type(iter([])))
    assert list(iterator) == expected.tolist()
    assert all(type(index) is int for index in sampler)


# 4. random_state=None follows the global seeds


@pytest.mark.parametrize(
    "base, upsampling",
    [(_net(), "auto"), (SGDClassifier(), "index")],
    ids=["sampler", "index"],
)
def test_random_state_none_follows_the_global_seeds(data, base, upsampling):
    X, y = data
    probas = []
    for _ in range(2):
        torch.manual_seed(5)
        np.random.seed(5)
        clf = JTTClassifier(base, T=1, lambda_up=5, upsampling=upsampling).fit(X, y)
        probas.append(clf.decision_function(X) if upsampling == "index" else clf.predict_proba(X))
    np.testing.assert_array_equal(probas[0], probas[1])


# 5. Labels and outputs that do not fit


def test_score_with_labels_of_another_type_raises(data):
    X, y = data
    clf = JTTClassifier(LogisticRegression(), T=1).fit(X, np.where(y == 1, "b", "a"))
    with pytest.raises(ValueError, match="string.*number|number.*string"):
        clf.score(X, y)
    assert clf.score(X, np.where(y == 1, "b", "a")) > 0.5


class FixedOutputs(nn.Module):
    def __init__(self, n_outputs=3):
        super().__init__()
        self.linear = nn.Linear(6, n_outputs)

    def forward(self, X):
        return self.linear(X)


@pytest.mark.parametrize("n_outputs, n_classes", [(3, 2), (2, 3)])
def test_a_module_with_the_wrong_number_of_outputs_fails_in_the_first_batch(n_outputs, n_classes):
    X, y = make_classification(n_samples=90, n_features=6, n_informative=4, n_classes=n_classes, random_state=0)
    net = make_net(module=FixedOutputs, module__n_outputs=n_outputs, callbacks=[CountEpochs()])
    with pytest.raises(ValueError, match=rf"{n_outputs} outputs.*{n_classes} classes") as error:
        JTTClassifier(net, T=2).fit(X.astype(np.float32), y)
    assert "module__" in str(error.value)
    assert EPOCHS_TRAINED == []


def test_the_output_check_leaves_no_trace_in_the_fitted_nets(data):
    X, y = data
    clf = JTTClassifier(_net(callbacks=[CountEpochs()]), T=1, random_state=0).fit(X, y)
    for net in (clf.identifier_, clf.final_estimator_):
        assert [type(cb) for cb in net.callbacks] == [CountEpochs]
        assert not any(name.startswith("jtt_") for name, _ in net.callbacks_)
        assert not net.module_._forward_hooks


# 6. Smaller items


@pytest.mark.parametrize("param", ["T", "lambda_up"])
def test_bool_T_and_lambda_up_are_rejected(data, param):
    X, y = data
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter.*bool"):
        JTTClassifier(LogisticRegression(), **{param: True}).fit(X, y)


def test_the_validation_protocol_takes_string_groups_like_the_scorers():
    rng = np.random.RandomState(0)
    X_train, X_val = rng.normal(size=(40, 2)), rng.normal(size=(20, 2))
    y_train, y_val = (X_train[:, 0] > 0).astype(int), (X_val[:, 0] > 0).astype(int)
    groups_val = np.where(X_val[:, 1] > 0, "water", "land")
    X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, groups_val)
    (train, test), = cv.split()
    assert list(group_labels[test]) == list(groups_val)
    predicted = LogisticRegression().fit(X[train], y[train]).predict(X)
    by_hand = min(np.mean(predicted[test][groups_val == g] == y_val[groups_val == g]) for g in ("land", "water"))
    assert worst_group_accuracy(y[test], predicted[test], group_labels=group_labels[test]) == by_hand
    with pytest.raises(ValueError, match="unknown group"):
        worst_group_accuracy(y, predicted, group_labels=group_labels)


@pytest.mark.parametrize("cell", ["1.5", "inf", "nan"])
def test_non_integer_metadata_names_the_file_and_column(tmp_path, cell):
    from jtt_sklearn.datasets._base import _int_column

    path = tmp_path / "metadata.csv"
    with pytest.raises(ValueError, match=rf"metadata\.csv.*'y'.*{cell}"):
        _int_column(["0", "1", cell], path, "y")
    np.testing.assert_array_equal(_int_column(["0", "1.0", "-1"], path, "y"), [0, 1, -1])


def _cache_outputs(directory):
    return sorted(Path(directory).rglob("output.pkl"))


def test_a_corrupt_cache_entry_is_recomputed_with_a_warning(data, tmp_path):
    X, y = data
    clf = JTTClassifier(LogisticRegression(), T=2, memory=tmp_path, random_state=0)
    expected = clf.fit(X, y).error_set_
    (output,) = [path for path in _cache_outputs(tmp_path) if "_train_and_find_errors" in str(path)]
    joblib.dump("not a stage-1 result", output)
    with pytest.warns(UserWarning, match="cache"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.fit(X, y)  # repaired: no warning the second time


def test_memory_with_a_module_that_cannot_be_pickled_says_what_to_do(data, tmp_path):
    class LocalModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(6, 2)

        def forward(self, X):
            return self.linear(X)

    X, y = data
    clf = JTTClassifier(make_net(module=LocalModule), T=1, memory=tmp_path)
    with pytest.raises(ValueError, match="module level.*memory") as error:
        clf.fit(X, y)
    assert len(str(error.value)) < 1000, "no dump of the data in the message"


class WaitingLogisticRegression(LogisticRegression):
    """Stage 1 of the fit with C=1 enters first and leaves first; C=2 enters second, leaves second."""

    events = {}

    def fit(self, X, y, sample_weight=None):
        if sample_weight is None:  # stage 1
            events = type(self).events
            if self.C == 1:
                events["first_in"].set()
                events["second_in"].wait(10)
            else:
                events["first_in"].wait(10)
                events["second_in"].set()
                events["first_done"].wait(10)
        return super().fit(X, y, sample_weight=sample_weight)


def test_fits_in_threads_leave_the_warning_filters_as_they_were(data):
    X, y = data
    WaitingLogisticRegression.events = {name: threading.Event() for name in ("first_in", "second_in", "first_done")}
    filters = list(warnings.filters)
    errors = []

    def fit(C):
        try:
            JTTClassifier(WaitingLogisticRegression(C=C), T=1, random_state=0).fit(X, y)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            if C == 1:
                WaitingLogisticRegression.events["first_done"].set()

    threads = [threading.Thread(target=fit, args=(C,)) for C in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert warnings.filters == filters


def test_warnings_point_at_the_callers_line(data, tmp_path):
    X, y = data
    with pytest.warns(UserWarning) as record:
        JTTClassifier(_net(train_split=lambda X, y: (X, X)), T=1, T_grid=[1], random_state=0).fit(X, y)
    assert record.list and {Path(w.filename).name for w in record.list} == {Path(__file__).name}
    with pytest.warns(UserWarning) as record:
        weak = DummyClassifier(strategy="uniform", random_state=0)  # worse than the majority class
        JTTClassifier(weak, T=None).fit(X, (np.arange(len(y)) % 4 == 0).astype(int))
    assert {Path(w.filename).name for w in record.list} == {Path(__file__).name}
