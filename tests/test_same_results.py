"""JTTClassifier gives exactly what a hand-written two-stage loop gives, on every upsampling path.

The reference below is JTT written out by hand from its definition and the
documented seeding, so any change to the training or data path that changes
results (which rows, how often, in which order, with which seeds) fails here.
"""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier
from skorch import NeuralNetClassifier

from jtt_sklearn import JTTClassifier
from jtt_sklearn.utils import UpsamplingDataLoader

from ._nets import MLP

SEED = 3


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 6)).astype(np.float32)
    y = ((X[:, 0] + 0.7 * rng.normal(size=120)) > 0).astype(np.int64)
    return X, y


def _seeds():
    """JTTClassifier's documented seeds: three ints from random_state (stage 1, stage 2, the shuffle)."""
    return [int(s) for s in np.random.RandomState(SEED).randint(np.iinfo(np.int32).max, size=3)]


def _seeded(estimator, seed):
    """Unset random_state parameters get ints drawn from RandomState(seed), in sorted order."""
    rng = np.random.RandomState(seed)
    params = estimator.get_params(deep=True)
    keys = sorted(
        k for k, v in params.items() if (k == "random_state" or k.endswith("__random_state")) and v is None
    )
    return estimator.set_params(**{k: int(rng.randint(np.iinfo(np.int32).max)) for k in keys})


def _by_hand_net(net, X, y, T, lambda_up):
    identify_seed, final_seed, shuffle_seed = _seeds()
    with torch.random.fork_rng():
        torch.manual_seed(identify_seed)
        identifier = clone(net).set_params(max_epochs=T).fit(X, y)
        errors = np.flatnonzero(identifier.predict(X) != y)
    multiplicity = np.ones(len(y), dtype=np.int64)
    multiplicity[errors] = lambda_up
    final = clone(net).set_params(
        iterator_train=UpsamplingDataLoader, iterator_train__multiplicity=multiplicity,
        iterator_train__random_state=shuffle_seed, iterator_train__shuffle=True,
    )
    with torch.random.fork_rng():
        torch.manual_seed(final_seed)
        final.fit(X, y)
    return errors, final.predict_proba(X)


def _by_hand_sklearn(base, X, y, T, lambda_up, strategy):
    identify_seed, final_seed, shuffle_seed = _seeds()
    identifier = _seeded(clone(base).set_params(max_iter=T), identify_seed).fit(X, y)
    errors = np.flatnonzero(identifier.predict(X) != y)
    multiplicity = np.ones(len(y), dtype=np.int64)
    multiplicity[errors] = lambda_up
    final = _seeded(clone(base), final_seed)
    if strategy == "sample_weight":
        final.fit(X, y, sample_weight=multiplicity.astype(np.float64))
    else:
        rows = np.random.RandomState(shuffle_seed).permutation(np.repeat(np.arange(len(y)), multiplicity))
        final.fit(X[rows], y[rows])
    return errors, final.predict_proba(X) if hasattr(final, "predict_proba") else final.decision_function(X)


def test_a_skorch_net_matches_the_hand_written_loop():
    X, y = _data()
    net = NeuralNetClassifier(MLP, criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.SGD, lr=0.1,
                              batch_size=16, max_epochs=4, train_split=None, verbose=0,
                              iterator_train__shuffle=True)
    errors, proba = _by_hand_net(net, X, y, T=1, lambda_up=4)
    clf = JTTClassifier(net, T=1, lambda_up=4, random_state=SEED).fit(X, y)
    assert errors.size > 0
    np.testing.assert_array_equal(clf.error_set_, errors)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("strategy", ["sample_weight", "index"])
def test_a_scikit_learn_base_matches_the_hand_written_loop(strategy):
    X, y = _data()
    base = SGDClassifier(loss="log_loss", max_iter=30, tol=None)
    errors, scores = _by_hand_sklearn(base, X, y, T=1, lambda_up=5, strategy=strategy)
    clf = JTTClassifier(base, T=1, lambda_up=5, upsampling=strategy, random_state=SEED).fit(X, y)
    assert errors.size > 0
    np.testing.assert_array_equal(clf.error_set_, errors)
    np.testing.assert_array_equal(clf.predict_proba(X), scores)
