"""Every route of docs/persistence.md gives back a model that predicts exactly as the one saved.

Routes: pickle and joblib (skorch and scikit-learn bases), skops with the types it reports as
untrusted (scikit-learn bases; skops cannot store torch tensors), and skorch's
``save_params``/``load_params`` of the final net into a freshly built net of the same architecture.
"""

import importlib
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from torch import nn

from jtt_sklearn import JTTClassifier

N_FEATURES, N_CLASSES = 6, 3
# Labels that are not 0..K-1, so that a route which loses classes_ shows.
LABELS = np.array(["cat", "dog", "owl"])


class Net(nn.Module):
    def __init__(self, n_in=N_FEATURES, hidden=16, n_out=N_CLASSES):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, X):
        return self.body(X)


def _net(**params):
    defaults = dict(module__hidden=16, criterion=nn.CrossEntropyLoss, optimizer=torch.optim.SGD, lr=0.1,
                    max_epochs=4, batch_size=32, train_split=None, verbose=0)
    return NeuralNetClassifier(Net, **{**defaults, **params})


def _import_or_fail(module, hint):
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.fail(f"{module} is not installed: {hint}", pytrace=False)


def _data():
    X, y = make_classification(n_samples=240, n_features=N_FEATURES, n_informative=4,
                               n_classes=N_CLASSES, random_state=0)
    X = X.astype(np.float32)
    return X[:180], LABELS[y[:180]], X[180:]


BASES = {
    "skorch": _net,
    "logistic": lambda: LogisticRegression(max_iter=200),
    "pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)),
}


@pytest.fixture(scope="module", params=sorted(BASES))
def fitted(request):
    X, y, X_new = _data()
    clf = JTTClassifier(BASES[request.param](), T=1, lambda_up=5, random_state=0).fit(X, y)
    assert clf.error_set_.size > 0  # stage 2 really upsampled something
    return request.param, clf, X_new


def _assert_same_predictions(loaded, clf, X):
    assert loaded is not clf
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.error_set_, clf.error_set_)


def test_pickle_round_trip(fitted):
    _, clf, X_new = fitted
    _assert_same_predictions(pickle.loads(pickle.dumps(clf)), clf, X_new)


def test_joblib_round_trip(fitted, tmp_path):
    _, clf, X_new = fitted
    joblib.dump(clf, tmp_path / "jtt.joblib")
    loaded = joblib.load(tmp_path / "jtt.joblib")
    _assert_same_predictions(loaded, clf, X_new)
    if isinstance(clf.final_estimator_, NeuralNetClassifier):
        # Both nets come back, as the page says, with their weights.
        for name in ("identifier_", "final_estimator_"):
            saved, back = getattr(clf, name).module_, getattr(loaded, name).module_
            for p, q in zip(saved.parameters(), back.parameters()):
                assert torch.equal(p, q)


def test_skops_loads_with_the_reported_types_trusted(fitted, tmp_path):
    skops_io = _import_or_fail("skops.io", 'skops is in the dev extra: pip install -e ".[dev]"')
    kind, clf, X_new = fitted
    path = tmp_path / "jtt.skops"
    skops_io.dump(clf, path)
    untrusted = skops_io.get_untrusted_types(file=path)
    if kind == "skorch":
        assert {"jtt_sklearn._jtt.JTTClassifier", "skorch.classifier.NeuralNetClassifier",
                f"{__name__}.Net"} <= set(untrusted)
        # The page's warning: the layers inside the module are pickled bytes that skops never sees.
        assert clf.final_estimator_.module_.body[0].__class__ is nn.Linear
        assert not [name for name in untrusted if name.startswith("torch.nn.modules.linear")]
    else:
        # scikit-learn's types are trusted already: only JTTClassifier is left, as the page says.
        assert untrusted == ["jtt_sklearn._jtt.JTTClassifier"]
    with pytest.raises(Exception, match="Untrusted types"):
        skops_io.load(path)  # nothing is loaded without trusting it
    _assert_same_predictions(skops_io.load(path, trusted=untrusted), clf, X_new)


def test_skops_cannot_store_a_net_built_from_a_module_instance(tmp_path):
    skops_io = _import_or_fail("skops.io", 'skops is in the dev extra: pip install -e ".[dev]"')
    X, y, _ = _data()
    # The README's style: a module instance, whose weights are then a parameter of the net.
    torch.manual_seed(0)  # Net() draws its weights here, outside random_state
    net = NeuralNetClassifier(Net(), criterion=nn.CrossEntropyLoss, lr=0.1, max_epochs=4, train_split=None,
                              verbose=0)
    clf = JTTClassifier(net, T=None, lambda_up=5, random_state=0).fit(X, y)
    with pytest.raises(RuntimeError, match="TensorBase"):
        skops_io.dump(clf, tmp_path / "jtt.skops")


@pytest.mark.parametrize("use_safetensors", [False, True], ids=["torch", "safetensors"])
def test_final_net_save_params_into_a_fresh_net_of_the_same_architecture(use_safetensors, tmp_path):
    if use_safetensors:
        _import_or_fail("safetensors", "skorch's use_safetensors=True needs it: pip install safetensors")
    X, y, X_new = _data()
    clf = JTTClassifier(_net(), T=1, lambda_up=5, random_state=0).fit(X, y)
    path = tmp_path / "final.params"
    clf.final_estimator_.save_params(f_params=path, use_safetensors=use_safetensors)
    classes = clf.classes_.copy()

    torch.manual_seed(123)  # other initial weights than the trained ones
    net = _net().initialize()
    before = net.predict_proba(X_new)
    net.load_params(f_params=path, use_safetensors=use_safetensors)
    assert not np.allclose(before, net.predict_proba(X_new))  # the weights did change
    np.testing.assert_array_equal(net.predict_proba(X_new), clf.predict_proba(X_new))
    np.testing.assert_array_equal(classes[net.predict(X_new)], clf.predict(X_new))
    # Without classes_, the rebuilt net's predictions are codes, not the labels.
    assert not np.isin(net.predict(X_new), LABELS).any()


def test_a_net_of_another_architecture_refuses_the_weights(tmp_path):
    X, y, _ = _data()
    clf = JTTClassifier(_net(), T=1, lambda_up=5, random_state=0).fit(X, y)
    clf.final_estimator_.save_params(f_params=tmp_path / "final.pt")
    other = _net(module__hidden=8).initialize()
    with pytest.raises(RuntimeError, match="size mismatch"):
        other.load_params(f_params=tmp_path / "final.pt")


def _pickle_as_if_from_another_scikit_learn(clf):
    import sklearn

    data = pickle.dumps(clf)
    current = sklearn.__version__.encode()
    other = b"9" * len(current)  # the same length keeps the pickle's string lengths valid
    return data, data.replace(current, other)


def test_a_pickle_with_a_scikit_learn_base_warns_under_another_scikit_learn_version():
    X, y, X_new = _data()
    clf = JTTClassifier(LogisticRegression(max_iter=200), T=1, random_state=0).fit(X, y)
    data, other = _pickle_as_if_from_another_scikit_learn(clf)
    assert other != data  # the fitted LogisticRegressions record the version
    with pytest.warns(InconsistentVersionWarning):
        loaded = pickle.loads(other)
    np.testing.assert_array_equal(loaded.predict(X_new), clf.predict(X_new))
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        pickle.loads(data)  # no warning under the same version


def test_a_pickle_with_a_skorch_base_records_no_scikit_learn_version():
    X, y, _ = _data()
    clf = JTTClassifier(_net(), T=1, lambda_up=5, random_state=0).fit(X, y)
    data, other = _pickle_as_if_from_another_scikit_learn(clf)
    # Nothing to compare when loading: the page tells users to record the versions themselves.
    assert other == data
