"""Grid searches over JTTClassifier on Dask and Ray, with worst-group scoring routed intact."""

import os
import shutil
import tempfile
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import make_worst_group_scorer
from jtt_sklearn.model_selection import make_validation_protocol

from ._fixtures import ignore_convergence

GRID = {"T": [1, 10], "lambda_up": [1, 20, 50]}


@pytest.fixture(scope="module")
def protocol():
    (X_tr, y_tr, _), (X_va, y_va, g_va), _ = load_colored_digits(random_state=0)
    return make_validation_protocol(X_tr, y_tr, X_va, y_va, g_va)


# Where Ray and Dask write by default; the tests give them a folder of their own instead.
_DEFAULT_FOLDERS = ("ray", "dask-scratch-space")


def _tmp_state():
    """Each default folder's entries and modification time in the temporary directory, or None."""
    state = {}
    for name in _DEFAULT_FOLDERS:
        path = Path(tempfile.gettempdir(), name)
        state[name] = (sorted(os.listdir(path)), path.stat().st_mtime_ns) if path.is_dir() else None
    return state


@pytest.fixture
def scratch():
    """A short folder of the test's own (Ray's socket paths must fit 107 bytes), removed afterwards;
    the default folders in the temporary directory are neither created nor written to."""
    before = _tmp_state()
    folder = tempfile.mkdtemp(prefix="jtt-scale-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert _tmp_state() == before, "a default Ray or Dask folder in the temporary directory changed"


def _search(protocol, n_jobs):
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            JTTClassifier(LogisticRegression(max_iter=300), random_state=0),
            GRID,
            cv=protocol.cv,
            scoring=make_worst_group_scorer(),
            error_score="raise",
            refit=False,
            n_jobs=n_jobs,
        )
        return search.fit(protocol.X, protocol.y, group_labels=protocol.group_labels)


def _assert_same(search, local):
    assert search.best_params_ == local.best_params_
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert not np.isnan(search.cv_results_["mean_test_score"]).any()


# Stage 1's ConvergenceWarning is silenced in the main thread only (jtt_sklearn/utils/_warnings.py);
# scikit-learn sends the run's warning filters, "error" included, to the Dask workers.
@ignore_convergence
def test_grid_search_on_a_local_dask_cluster_matches_a_local_run(protocol, scratch):
    distributed = pytest.importorskip("distributed")
    import dask

    local = _search(protocol, n_jobs=None)
    with dask.config.set({"temporary-directory": scratch}), distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, local_directory=scratch
    ) as cluster:
        with distributed.Client(cluster), joblib.parallel_backend("dask"):
            on_dask = _search(protocol, n_jobs=-1)
    _assert_same(on_dask, local)


def test_grid_search_on_ray_matches_a_local_run(protocol, scratch):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    local = _search(protocol, n_jobs=None)
    register_ray()
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True, _temp_dir=scratch
    )
    try:
        with joblib.parallel_backend("ray"):
            on_ray = _search(protocol, n_jobs=-1)
    finally:
        ray.shutdown()
    _assert_same(on_ray, local)


def test_accelerate_mixin_net_keeps_jtt_upsampling():
    """Multi-GPU training goes through skorch's AccelerateMixin; on CPU, check that the
    accelerator-prepared loader still counts each error row lambda_up times per epoch."""
    pytest.importorskip("accelerate")
    from accelerate import Accelerator
    from skorch import NeuralNetClassifier
    from skorch.hf import AccelerateMixin

    from ._nets import RecordingMLP, skorch_data

    class AcceleratedNet(AccelerateMixin, NeuralNetClassifier):
        pass

    X, y = skorch_data()
    net = AcceleratedNet(
        RecordingMLP,
        accelerator=Accelerator(cpu=True),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        lr=0.01,
        train_split=None,
        device=None,
        verbose=0,
    )
    clf = JTTClassifier(net, T=1, lambda_up=5, random_state=0).fit(X, y)
    assert clf.error_set_.size > 0
    seen = np.concatenate(clf.final_estimator_.module_.seen)
    expected = np.ones(len(y), dtype=int)
    expected[clf.error_set_] = 5
    np.testing.assert_array_equal(np.bincount(seen, minlength=len(y)), 2 * expected)
