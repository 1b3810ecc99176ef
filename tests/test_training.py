"""The context both stages train in: seeding, Ctrl-C, output width, training loss and dtype checks.

JTT's temporary callbacks leave no trace in the fitted nets; Ctrl-C in either stage stops the whole
fit with a KeyboardInterrupt and leaves the estimator (and the cache) as it was.
"""

import os
import signal
import time

import numpy as np
import pytest
import sklearn
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback, Checkpoint
from torch import nn

from jtt_sklearn import JTTClassifier
from jtt_sklearn.callbacks import WorstGroupScoring
from jtt_sklearn.metrics import make_worst_group_scorer
from jtt_sklearn.model_selection import make_validation_protocol

from ._fixtures import float32_classification, ignore_weak_identifier, linear_skorch_net
from ._nets import EPOCHS_TRAINED, CountEpochs, make_net, skorch_data


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


@pytest.fixture(autouse=True)
def reset_state():
    EPOCHS_TRAINED.clear()
    CtrlCAt.armed = True
    CtrlCLogisticRegression.armed = True
    CtrlCLogisticRegression.fits = 0


@pytest.fixture
def data():
    return float32_classification(120, 6)


def _net(**params):
    return make_net(max_epochs=6, **params)


# --- Ctrl-C stops the whole fit -------------------------------------------------------------------


def test_ctrl_c_in_stage_1_raises_and_caches_nothing(data, tmp_path):
    X, y = data
    clf = JTTClassifier(
        _net(callbacks=[CountEpochs()]),
        T=8,
        identifier_params={"callbacks": [CountEpochs(), CtrlCAt(2)]},
        memory=tmp_path,
        random_state=0,
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
        _net(),
        T=2,
        T_grid=[2, 4],
        identifier_params={"callbacks": [CtrlCAt(3)]},
        memory=tmp_path,
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


# --- Seeding --------------------------------------------------------------------------------------


def test_random_state_makes_skorch_fits_identical():
    X, y = float32_classification(160, 5)
    fits = [
        JTTClassifier(make_net(max_epochs=4), T=2, lambda_up=5, random_state=7).fit(X, y) for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].error_set_, fits[1].error_set_)
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
    other = JTTClassifier(make_net(max_epochs=4), T=2, lambda_up=5, random_state=8).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), fits[0].predict_proba(X))


def test_random_state_seeds_sklearn_bases():
    X, y = float32_classification(160, 5)
    fits = [
        JTTClassifier(
            RandomForestClassifier(n_estimators=5), T=2, epochs_param="n_estimators", random_state=3
        ).fit(X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


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


@ignore_weak_identifier
def test_skorch_fit_does_not_touch_the_global_torch_rng():
    X, y = skorch_data()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    JTTClassifier(make_net(max_epochs=2), T=1, random_state=0).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


# --- The output width, the training loss and the dtype --------------------------------------------


class FixedOutputs(nn.Module):
    def __init__(self, n_outputs=3):
        super().__init__()
        self.linear = nn.Linear(6, n_outputs)

    def forward(self, X):
        return self.linear(X)


@pytest.mark.parametrize("n_outputs, n_classes", [(3, 2), (2, 3)])
def test_a_module_with_the_wrong_number_of_outputs_fails_in_the_first_batch(n_outputs, n_classes):
    X, y = make_classification(
        n_samples=90, n_features=6, n_informative=4, n_classes=n_classes, random_state=0
    )
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


def test_a_diverged_skorch_net_raises_instead_of_giving_a_constant_model():
    X, y = float32_classification(160, 5)
    # Logits into NLLLoss (skorch's default criterion): the loss is NaN from the first batch.
    net = make_net(max_epochs=2, criterion=nn.NLLLoss)
    with pytest.raises(ValueError, match="CrossEntropyLoss"):
        JTTClassifier(net, T=1).fit(X, y)


def test_logits_into_nllloss_raise_even_when_the_loss_stays_finite():
    # With a small learning rate the loss does not overflow; it just goes negative.
    net = make_net(max_epochs=5, lr=1e-3, criterion=nn.NLLLoss, optimizer=torch.optim.Adam)
    X, y = float32_classification(160, 5)
    with pytest.raises(ValueError, match="CrossEntropyLoss"):
        JTTClassifier(net, T=2).fit(X, y)


def test_float64_into_a_users_float32_net_says_to_cast():
    X, y = float32_classification(100, 5)
    net = make_net(module=nn.Linear, module__in_features=5, module__out_features=2)
    with pytest.raises(TypeError, match=r"float64.*astype\(np\.float32\)"):
        JTTClassifier(net, T=1).fit(X.astype(np.float64), y)
    assert JTTClassifier(net, T=3).fit(X, y).predict(X).shape == y.shape  # float32 trains


@ignore_weak_identifier
def test_load_best_checkpoints_of_parallel_candidates_do_not_mix(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(np.int64)
    g = 2 * y + (X[:, 1] > 0)
    X_tr, y_tr, X_val, y_val, g_val = X[:140], y[:140], X[140:], y[140:], g[140:]
    protocol = make_validation_protocol(X_tr, y_tr, X_val, y_val, g_val)
    net = linear_skorch_net(lr=0.1, max_epochs=6)
    callbacks = [
        WorstGroupScoring(X_val, y_val, g_val, classes=[0, 1]),
        Checkpoint(monitor="valid_worst_group_best", load_best=True, dirname=str(tmp_path / "ckpt")),
    ]
    jtt = JTTClassifier(net, T=1, random_state=0, final_params={"callbacks": callbacks})
    grid = {"lambda_up": [1, 3, 10, 30], "base_estimator__lr": [0.01, 0.3]}
    with sklearn.config_context(enable_metadata_routing=True):
        scores = [
            GridSearchCV(
                jtt, grid, cv=protocol.cv, scoring=make_worst_group_scorer(), refit=False, n_jobs=n_jobs
            )
            .fit(protocol.X, protocol.y, group_labels=protocol.group_labels)
            .cv_results_["mean_test_score"]
            for n_jobs in (1, 2, 2)
        ]
    assert not np.isnan(scores[0]).any()
    np.testing.assert_array_equal(scores[1], scores[0])
    np.testing.assert_array_equal(scores[2], scores[0])
    assert os.listdir(tmp_path / "ckpt") == []  # each fit's private directory is gone


@ignore_weak_identifier
def test_each_fit_saves_its_load_best_checkpoint_in_a_directory_of_its_own(tmp_path):
    from skorch.callbacks import Callback

    seen = []

    class RecordCheckpointDir(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(dict(net.callbacks_)["best"].dirname)

    X = np.random.RandomState(0).normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    user_dir = str(tmp_path / "ckpt")
    net = linear_skorch_net()
    final = {
        "callbacks": [
            ("best", Checkpoint(monitor="train_loss_best", load_best=True, dirname=user_dir)),
            ("probe", RecordCheckpointDir()),
        ]
    }
    fitted = [JTTClassifier(net, T=1, final_params=final, random_state=0).fit(X, y) for _ in range(2)]
    first, second = sorted(set(seen[:2])), sorted(set(seen[2:]))
    assert len(first) == len(second) == 1 and first != second
    assert all(os.path.dirname(d) == user_dir and not os.path.exists(d) for d in first + second)
    assert all(dict(f.final_estimator_.callbacks_)["best"].dirname == user_dir for f in fitted)
