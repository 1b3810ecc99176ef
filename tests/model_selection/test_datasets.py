"""Every search entry point takes torch Datasets: streamed, never stacked, cached by content."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sklearn
import torch
from skorch import NeuralNetClassifier
from skorch.helper import SliceDataset
from sklearn.model_selection import GridSearchCV

import jtt_sklearn.model_selection._tune as tune_module
from jtt_sklearn import JTTClassifier
from jtt_sklearn.baselines import GroupBalancedClassifier, GroupDROClassifier
from jtt_sklearn.datasets import ImageFolderDataset, load_waterbirds
from jtt_sklearn.metrics import make_worst_group_scorer, worst_group_accuracy
from jtt_sklearn.model_selection import make_validation_protocol, refit_on_train, tune_on_validation

from .._fixtures import ignore_weak_identifier

WRITE_FOLDER = '''
import numpy as np
from PIL import Image

def write_waterbirds_folder(root, n=72, seed=0):
    """A Waterbirds-format folder whose label is the red channel and whose place the green one."""
    rng = np.random.RandomState(seed)
    rows = ["img_id,img_filename,y,split,place"]
    for i in range(n):
        split = 0 if i < n // 2 else (1 if i < 3 * n // 4 else 2)
        y = i % 2
        place = y if (split == 0 and rng.rand() < 0.9) else rng.randint(2)
        image = np.zeros((8, 8, 3), np.uint8)
        image[..., 0] = 120 * y + rng.randint(0, 100)
        image[..., 1] = 200 * place + rng.randint(0, 40)
        name = f"{y:03d}.Bird/img_{i}.png"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / name)
        rows.append(f"{i + 1},{name},{y},{split},{place}")
    (root / "metadata.csv").write_text("\\n".join(rows) + "\\n")


import torch

class TinyImageNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3 * 8 * 8, 2)

    def forward(self, X):
        return self.linear(X.flatten(1))
'''


@pytest.fixture
def user_code(tmp_path, monkeypatch):
    """The folder writer and the module class, in a module file of the user's."""
    (tmp_path / "jtt_dataset_user.py").write_text(WRITE_FOLDER)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("jtt_dataset_user", None)
    import jtt_dataset_user

    yield jtt_dataset_user
    sys.modules.pop("jtt_dataset_user", None)


@pytest.fixture
def splits(tmp_path, user_code):
    user_code.write_waterbirds_folder(tmp_path / "waterbirds")
    return load_waterbirds(tmp_path / "waterbirds")


@pytest.fixture
def net(user_code):
    return NeuralNetClassifier(
        user_code.TinyImageNet, criterion=torch.nn.CrossEntropyLoss, lr=0.1, max_epochs=3, batch_size=8,
        train_split=None, verbose=0,
    )  # fmt: skip


@pytest.fixture
def never_stacked(monkeypatch):
    """Fail if anything reads an ImageFolderDataset as a whole instead of item by item."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("the Dataset was read as a whole")

    monkeypatch.setattr(ImageFolderDataset, "__array__", refuse, raising=False)
    monkeypatch.setattr(ImageFolderDataset, "__iter__", refuse, raising=False)


@ignore_weak_identifier
def test_tune_on_validation_searches_and_refits_on_image_datasets(
    splits, net, tmp_path, trainings, never_stacked, monkeypatch
):
    (train, _, _), (val, _, g_val), (test, y_test, g_test) = splits
    refit_trainings = []

    def counted_refit(*args, **kwargs):
        before = len(trainings)
        model = refit_on_train(*args, **kwargs)
        refit_trainings.append(len(trainings) - before)
        return model

    monkeypatch.setattr(tune_module, "refit_on_train", counted_refit)
    jtt = JTTClassifier(net, memory=tmp_path / "cache", random_state=0)
    model, search = tune_on_validation(jtt, {"T": [1, 2], "lambda_up": [1, 5]}, train, None, val, None, g_val)
    assert trainings.count("stage 1") == 2 and refit_trainings == [0]  # the refit trained nothing
    assert 0.0 <= worst_group_accuracy(y_test, model.predict(test), group_labels=g_test) <= 1.0
    fresh = JTTClassifier(net, random_state=0, **search.best_params_).fit(train)
    np.testing.assert_allclose(model.predict_proba(test), fresh.predict_proba(test), rtol=1e-6)
    trainings.clear()
    tune_on_validation(jtt, {"T": [1, 2], "lambda_up": [1, 5]}, train, None, val, None, g_val)
    assert trainings == []  # the repeated search and its refit came from the cache


@ignore_weak_identifier
def test_grid_search_over_the_protocol_of_two_datasets_then_refit_on_train(splits, net, never_stacked):
    (train, _, _), (val, y_val, g_val), _ = splits
    X, y, group_labels, cv = make_validation_protocol(train, None, val, None, g_val)
    assert isinstance(X, SliceDataset) and len(X) == len(train) + len(val)
    np.testing.assert_array_equal(y, np.concatenate([train.targets, val.targets]))
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            JTTClassifier(net, random_state=0), {"lambda_up": [1, 5]}, cv=cv, refit=False,
            scoring=make_worst_group_scorer(), error_score="raise",
        ).fit(X, y, group_labels=group_labels)  # fmt: skip
    model = refit_on_train(search, SliceDataset(train), train.targets)  # a SliceDataset is taken too
    expected = worst_group_accuracy(y_val, model.predict(val), group_labels=g_val)
    assert expected == pytest.approx(search.cv_results_["mean_test_score"][search.best_index_])


@pytest.mark.parametrize("oracle", [GroupBalancedClassifier, GroupDROClassifier])
def test_the_oracles_search_on_datasets_too(splits, net, oracle):
    (train, _, g_train), (val, _, g_val), (test, y_test, _) = splits
    model, _ = tune_on_validation(
        oracle(net, random_state=0), {"random_state": [0, 1]}, train, None, val, None, g_val,
        train_group_labels=g_train,
    )  # fmt: skip
    assert model.predict(test).shape == y_test.shape


def test_a_dataset_and_an_array_cannot_be_stacked(splits):
    (train, _, _), (val, y_val, g_val), _ = splits
    with pytest.raises(TypeError, match="two torch Datasets"):
        make_validation_protocol(train, None, np.zeros((len(val), 3)), y_val, g_val)
    with pytest.raises(ValueError, match="idx=0"):
        make_validation_protocol(SliceDataset(train, idx=1), None, val, None, g_val)


SESSION = """
import sys
sys.path.insert(0, {user_dir!r})
import numpy as np
from skorch import NeuralNetClassifier
import torch
import jtt_sklearn._identification as identification
import jtt_sklearn._upsampling as upsampling
import jtt_sklearn.model_selection._tune as tune_module
from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_waterbirds
from jtt_sklearn.model_selection import tune_on_validation
from jtt_dataset_user import TinyImageNet

trained = []
for module in (identification, upsampling):
    original = module.stage_training
    module.stage_training = lambda *a, _o=original, **k: trained.append(1) or _o(*a, **k)
(train, _, _), (val, _, g_val), _ = load_waterbirds({root!r})
net = NeuralNetClassifier(TinyImageNet, criterion=torch.nn.CrossEntropyLoss, lr=0.1, max_epochs=2,
                          batch_size=8, train_split=None, verbose=0)
tune_on_validation(JTTClassifier(net, memory={cache!r}, random_state=0), {{"lambda_up": [1, 5]}},
                   train, None, val, None, g_val)
print("trainings", len(trained))
"""


def test_a_search_on_a_dataset_is_served_from_the_cache_in_a_new_session(splits, tmp_path):
    script = SESSION.format(user_dir=str(tmp_path), root=str(tmp_path / "waterbirds"), cache=str(tmp_path / "c"))

    def run():
        result = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", textwrap.dedent(script)], capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        return result.stdout.strip().splitlines()[-1]

    assert run() == "trainings 3"  # stage 1 once, stage 2 per lambda_up; the refit came from the cache
    assert run() == "trainings 0"  # a new Python session: everything from the cache
    from PIL import Image

    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "waterbirds" / "000.Bird" / "img_0.png")  # a training image
    assert run() != "trainings 0"
