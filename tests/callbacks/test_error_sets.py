"""ErrorSetRecorder: the error set after each recorded epoch, as JTTClassifier would find it for that T."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone

from jtt_sklearn import JTTClassifier
from jtt_sklearn.callbacks import ErrorSetRecorder

from .._fixtures import noisy_threshold_data
from .._nets import make_net


@pytest.fixture
def data():
    return noisy_threshold_data()


def _net(**params):
    return make_net(**{"lr": 0.05, "max_epochs": 3, "iterator_train__shuffle": True, **params})


def test_error_set_recorder_matches_jtt_error_sets_for_every_smaller_T(data):
    """One 4-epoch run records the error sets of T=1..4; with a constant learning rate
    they equal JTTClassifier's for each T, and recording does not change training."""
    X, y = data

    def net(**params):
        return _net(max_epochs=4, **params)

    recorder = ErrorSetRecorder(X, y)
    long_run = JTTClassifier(net(), T=4, identifier_params={"callbacks": [recorder]}, random_state=0).fit(
        X, y
    )
    plain = JTTClassifier(net(), T=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(long_run.error_set_, plain.error_set_)
    assert sorted(recorder.error_sets_) == [1, 2, 3, 4]
    assert long_run.identifier_.history[:, "error_set_size"] == [
        len(recorder.error_sets_[t]) for t in range(1, 5)
    ]
    for T in (1, 2, 3):
        short = JTTClassifier(net(), T=T, random_state=0).fit(X, y)
        np.testing.assert_array_equal(recorder.error_sets_[T], short.error_set_)


def test_recorder_without_data_uses_the_fit_data_and_never_keeps_it(data):
    X, y = data
    recorder = ErrorSetRecorder(epochs=[1, 3], keep_weights=True)
    net = _net(callbacks=[("rec", recorder)]).fit(X, y)
    assert sorted(recorder.error_sets_) == [1, 3]
    np.testing.assert_array_equal(recorder.error_sets_[3], np.flatnonzero(net.predict(X) != y))
    assert sorted(recorder.weights_) == [1, 3]
    assert recorder.weights_[3]["module"].keys() == net.module_.state_dict().keys()
    assert recorder.fit_data_ is None
    assert clone(net).get_params()["callbacks"][0][1].get_params() == recorder.get_params()
    assert X.nbytes > 0 and pickle.dumps(recorder).find(X.tobytes()[:64]) == -1
    with pytest.raises(ValueError, match="both X and y"):
        _net(callbacks=[ErrorSetRecorder(X=X)]).fit(X, y)


def test_recorder_without_data_needs_y_at_fit(data):
    X, y = data
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="fit got y=None"):
            _net(callbacks=[ErrorSetRecorder()]).fit(dataset, None)
