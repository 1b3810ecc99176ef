"""memory= keys: content, not layout or identity; the user's code, also where it is edited indirectly."""

import functools
import importlib
import subprocess
import sys
import textwrap

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Checkpoint
from skorch.helper import SliceDataset
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from torch.utils.data import ConcatDataset, Subset, TensorDataset

import jtt_sklearn._cache as cache
import jtt_sklearn._identification as identification
import jtt_sklearn._upsampling as upsampling
from jtt_sklearn import JTTClassifier
from jtt_sklearn._cache import content_digest
from jtt_sklearn.datasets import ImageFolderDataset
from jtt_sklearn.utils._hashing import code_fingerprint

from ._fixtures import ignore_weak_identifier, linear_skorch_net




def _rows(n=120, d=4):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = ((X[:, 0] + 0.6 * rng.normal(size=n)) > 0).astype(np.int64)
    return X, y


# --- Layout and identity do not change a key ------------------------------------------------------


def test_a_fortran_ordered_copy_is_served_from_the_cache(tmp_path, trainings):
    X, y = _rows()
    JTTClassifier(LogisticRegression(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert np.asfortranarray(X).flags.f_contiguous and not np.asfortranarray(X).flags.c_contiguous
    JTTClassifier(LogisticRegression(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(
        np.asfortranarray(X), y
    )
    assert trainings == ["stage 1", "stage 2"]  # the second fit trained nothing


@ignore_weak_identifier
def test_a_tensor_is_keyed_by_its_values_not_its_address(tmp_path, trainings):
    X, y = _rows()
    for _ in range(2):  # two tensor objects, two storages, the same values
        JTTClassifier(linear_skorch_net(max_epochs=2), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(
            torch.tensor(X), y
        )
    assert trainings == ["stage 1", "stage 2"]
    assert content_digest(torch.tensor(X)) != content_digest(torch.tensor(X * 2))
    assert content_digest(torch.tensor(X)) != content_digest(torch.tensor(X).double())


def _digest_in_a_new_session(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_tensor_and_array_keys_hold_across_python_sessions():
    code = textwrap.dedent("""
        import numpy as np, torch
        from jtt_sklearn._cache import content_digest
        X = np.arange(24, dtype=np.float32).reshape(6, 4)
        print(content_digest(torch.tensor(X), X.T.copy().T))
    """)
    X = np.arange(24, dtype=np.float32).reshape(6, 4)
    assert _digest_in_a_new_session(code) == content_digest(torch.tensor(X), np.asfortranarray(X))


# --- Datasets: what they read -------------------------------------------------------------------


def _image_folder(tmp_path, n=6):
    from PIL import Image

    rng = np.random.RandomState(0)
    paths = []
    for i in range(n):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(rng.randint(0, 255, size=(8, 8, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_an_image_dataset_is_keyed_by_its_files_across_sessions_and_misses_when_one_changes(tmp_path):
    paths = _image_folder(tmp_path)
    dataset = ImageFolderDataset(paths, [0, 1] * 3)
    code = textwrap.dedent(f"""
        from jtt_sklearn._cache import content_digest
        from jtt_sklearn.datasets import ImageFolderDataset
        paths = {[str(p) for p in paths]!r}
        print(content_digest(ImageFolderDataset(paths, [0, 1] * 3)))
    """)
    before = content_digest(dataset)
    assert _digest_in_a_new_session(code) == before
    assert content_digest(ImageFolderDataset(paths, [1, 0] * 3)) != before  # other labels
    from PIL import Image

    Image.new("RGB", (9, 9)).save(paths[2])  # the same path, another image
    assert content_digest(dataset) != before


def test_a_dataset_transform_is_part_of_its_key(tmp_path):
    import torchvision.transforms as T

    paths = _image_folder(tmp_path)
    small = ImageFolderDataset(paths, [0, 1] * 3, transform=T.Compose([T.Resize(4), T.ToTensor()]))
    large = ImageFolderDataset(paths, [0, 1] * 3, transform=T.Compose([T.Resize(6), T.ToTensor()]))
    assert content_digest(small) != content_digest(large)


def test_row_views_of_a_dataset_are_keyed_by_the_rows_they_select():
    X, y = _rows(10)
    train, val = TensorDataset(torch.tensor(X[:6]), torch.tensor(y[:6])), TensorDataset(
        torch.tensor(X[6:]), torch.tensor(y[6:])
    )
    searched = SliceDataset(ConcatDataset([train, val]))[np.arange(6)]  # what a search trains on
    assert content_digest(searched) == content_digest(SliceDataset(train))  # what the refit trains on
    assert content_digest(Subset(train, [0, 1])) == content_digest(Subset(ConcatDataset([train, val]), [0, 1]))
    assert content_digest(SliceDataset(train)[np.array([1, 0])]) != content_digest(SliceDataset(train)[:2])
    assert content_digest(SliceDataset(train, idx=1)) != content_digest(SliceDataset(train))


# --- The user's code -----------------------------------------------------------------------------

_NOTEBOOK_NET = """
import torch
class NotebookNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)
    def forward(self, X):
        return self.linear(X) * {scale}
"""


@ignore_weak_identifier
def test_a_module_class_edited_in_a_notebook_misses_the_cache(tmp_path, trainings, monkeypatch):
    main = sys.modules["__main__"]
    X, y = _rows()
    for scale in (1.0, 3.0, 3.0):  # defined, edited, then run again unchanged
        namespace = {"__name__": "__main__"}
        exec(_NOTEBOOK_NET.format(scale=scale), namespace)  # as a notebook cell defines it
        monkeypatch.setattr(main, "NotebookNet", namespace["NotebookNet"], raising=False)
        net = NeuralNetClassifier(
            namespace["NotebookNet"], criterion=torch.nn.CrossEntropyLoss, max_epochs=2, train_split=None,
            verbose=0,
        )  # fmt: skip
        JTTClassifier(net, T=1, lambda_up=2, memory=tmp_path, random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"] * 2  # the edit missed; the unchanged rerun hit


def _write_module(directory, name, source):
    (directory / f"{name}.py").write_text(textwrap.dedent(source))
    sys.modules.pop(name, None)


@ignore_weak_identifier
def test_an_edit_to_a_file_the_module_class_imports_misses_the_cache(tmp_path, trainings, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    X, y = _rows()
    model_source = """
        import torch
        from jtt_user_layers import Scale
        class LayeredNet(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear, self.scale = torch.nn.Linear(4, 2), Scale()
            def forward(self, X):
                return self.scale(self.linear(X))
    """
    for factor in (1.0, 5.0):
        _write_module(tmp_path, "jtt_user_layers", f"""
            import torch
            class Scale(torch.nn.Module):
                def forward(self, X):
                    return X * {factor}
        """)  # fmt: skip
        _write_module(tmp_path, "jtt_user_model", model_source)
        model = importlib.import_module("jtt_user_model")
        net = NeuralNetClassifier(
            model.LayeredNet, criterion=torch.nn.CrossEntropyLoss, max_epochs=2, train_split=None, verbose=0
        )
        JTTClassifier(net, T=1, lambda_up=2, memory=tmp_path / "cache", random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"] * 2
    for name in ("jtt_user_layers", "jtt_user_model"):
        sys.modules.pop(name, None)


def test_an_edit_to_a_function_behind_partial_in_a_function_transformer_misses(tmp_path, trainings, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    X, y = _rows()
    for power in (1, 3):
        _write_module(tmp_path, "jtt_user_features", f"""
            def lift(X, shift):
                return (X + shift) ** {power}
        """)  # fmt: skip
        features = importlib.import_module("jtt_user_features")
        base = make_pipeline(FunctionTransformer(functools.partial(features.lift, shift=0.5)), LogisticRegression())
        JTTClassifier(base, T=1, lambda_up=3, memory=tmp_path / "cache", random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"] * 2
    sys.modules.pop("jtt_user_features", None)


def test_library_code_adds_nothing_and_user_code_adds_a_fingerprint():
    assert code_fingerprint(LogisticRegression) == b""
    assert code_fingerprint(torch.nn.Linear) == b""
    assert code_fingerprint(_rows) != b""


# --- Checkpoint and one cache call per stage -----------------------------------------------------


@ignore_weak_identifier
def test_a_cache_hit_writes_back_the_checkpoint_files_of_that_fit(tmp_path):
    X, y = _rows()
    checkpoints = tmp_path / "checkpoints"

    def fit(lambda_up):
        cp = Checkpoint(dirname=str(checkpoints), monitor=None)
        clf = JTTClassifier(
            linear_skorch_net(max_epochs=3), T=1, lambda_up=lambda_up, memory=tmp_path / "cache",
            random_state=0, final_params={"callbacks": [cp]},
        ).fit(X, y)  # fmt: skip
        return clf, cp

    first, cp = fit(4)
    fit(16)  # another fit writes its own weights to the same folder
    again, cp = fit(4)  # served from the cache
    again.final_estimator_.load_params(checkpoint=cp)
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))


def test_each_stage_calls_the_cache_once_per_fit(tmp_path, monkeypatch):
    calls = []
    original = cache.call_cached

    def counted(memory, func, *args, **kwargs):
        calls.append(func.__name__)
        return original(memory, func, *args, **kwargs)

    monkeypatch.setattr(identification, "call_cached", counted)
    monkeypatch.setattr(upsampling, "call_cached", counted)
    X, y = _rows()
    JTTClassifier(LogisticRegression(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert calls == ["_train_and_find_errors", "_fit_upsampled_keeping_checkpoints"]
