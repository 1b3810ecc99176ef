import numpy as np, torch, sklearn, os
from sklearn.model_selection import GridSearchCV
from skorch import NeuralNetClassifier
from skorch.callbacks import Checkpoint
from jtt_sklearn import JTTClassifier
from jtt_sklearn.callbacks import WorstGroupScoring
from jtt_sklearn.metrics import make_worst_group_scorer
from jtt_sklearn.model_selection import make_validation_protocol


def test_load_best_checkpoints_of_parallel_candidates_do_not_mix(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(np.int64)
    g = 2 * y + (X[:, 1] > 0)
    X_tr, y_tr, X_val, y_val, g_val = X[:140], y[:140], X[140:], y[140:], g[140:]
    protocol = make_validation_protocol(X_tr, y_tr, X_val, y_val, g_val)
    net = NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=4,
        module__out_features=2,
        criterion=torch.nn.CrossEntropyLoss,
        lr=0.1,
        max_epochs=6,
        train_split=None,
        verbose=0,
    )
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


def test_each_fit_saves_its_load_best_checkpoint_in_a_directory_of_its_own(tmp_path):
    from skorch.callbacks import Callback

    seen = []

    class RecordCheckpointDir(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(dict(net.callbacks_)["best"].dirname)

    X = np.random.RandomState(0).normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    user_dir = str(tmp_path / "ckpt")
    net = NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=4,
        module__out_features=2,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
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
