"""PretrainedEmbedder: what it returns, how it reads its input, its cache, and its errors."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from joblib import Memory
from skorch.helper import SliceDataset
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from torch.utils.data import ConcatDataset, IterableDataset, Subset, TensorDataset

from jtt_sklearn.datasets import ImageFolderDataset
from jtt_sklearn.feature_extraction import PretrainedEmbedder

from ..test_cache_keys import _image_folder
from ._fixtures import EVENTS, CountingBackbone, CountingDataset, TextLengthBackbone, make_images

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _reset_counts():
    CountingBackbone.reset()
    yield
    CountingBackbone.reset()


def _reference(images):
    """The backbone's output on all images at once, computed directly."""
    with torch.no_grad():
        return CountingBackbone().eval()(images).numpy()


def test_output_is_float32_rows_equal_to_the_backbone_output():
    images = make_images(10)
    embeddings = PretrainedEmbedder(CountingBackbone(), batch_size=4).fit_transform(images)
    assert embeddings.dtype == np.float32 and embeddings.shape == (10, 5)
    np.testing.assert_allclose(embeddings, _reference(images), rtol=1e-6, atol=1e-6)


def test_float64_numpy_images_are_cast_to_the_backbone_dtype():
    images = make_images(6)
    embeddings = PretrainedEmbedder(CountingBackbone()).fit_transform(images.double().numpy())
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(embeddings, _reference(images), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch_size", [1, 3, 10, 64])
def test_batched_equals_unbatched(batch_size):
    images = make_images(10)
    whole = PretrainedEmbedder(CountingBackbone(), batch_size=10).fit_transform(images)
    CountingBackbone.reset()
    batched = PretrainedEmbedder(CountingBackbone(), batch_size=batch_size).fit_transform(images)
    np.testing.assert_allclose(batched, whole, rtol=1e-6, atol=1e-6)
    assert [n for n, _, _ in CountingBackbone.calls] == [
        min(batch_size, 10 - start) for start in range(0, 10, batch_size)
    ]


def test_a_dataset_is_read_batch_by_batch_never_whole():
    dataset = CountingDataset(make_images(10))
    embedder = PretrainedEmbedder(CountingBackbone(), batch_size=4).fit(dataset)
    EVENTS.clear()
    embeddings = embedder.transform(dataset)
    events = list(EVENTS)
    np.testing.assert_allclose(embeddings, _reference(dataset.images), rtol=1e-6, atol=1e-6)
    # Each item read once, and each forward pass sees only the rows read since the previous one.
    assert events == [
        *[("read", i) for i in range(4)],
        ("forward", 4),
        *[("read", i) for i in range(4, 8)],
        ("forward", 4),
        *[("read", i) for i in range(8, 10)],
        ("forward", 2),
    ]


def test_fit_reads_one_input_and_records_the_width():
    dataset = CountingDataset(make_images(10))
    embedder = PretrainedEmbedder(CountingBackbone, batch_size=4).fit(dataset)
    assert EVENTS == [("read", 0), ("forward", 1)]
    assert embedder.n_features_out_ == 5
    assert isinstance(embedder.backbone_, CountingBackbone)  # built by the factory at fit
    assert embedder.get_feature_names_out().tolist() == [f"pretrainedembedder{i}" for i in range(5)]


def test_runs_in_eval_mode_without_gradients_and_restores_the_mode():
    backbone = CountingBackbone(dropout=0.5).train()
    embedder = PretrainedEmbedder(backbone, batch_size=5)
    first = embedder.fit_transform(make_images(10))
    second = embedder.transform(make_images(10))
    np.testing.assert_array_equal(first, second)  # dropout off
    assert {(grad, training) for _, grad, training in CountingBackbone.calls} == {(False, False)}
    assert backbone.training and backbone.dropout.training


def test_dataset_items_slicedataset_and_row_views_give_the_same_rows():
    images = make_images(10)
    expected = _reference(images)
    dataset = CountingDataset(images)
    embedder = PretrainedEmbedder(CountingBackbone(), batch_size=3).fit(dataset)
    np.testing.assert_allclose(embedder.transform(dataset), expected, rtol=1e-6, atol=1e-6)
    # What a scikit-learn search passes: a SliceDataset, and row views of it.
    sliced = SliceDataset(dataset)
    np.testing.assert_allclose(embedder.transform(sliced), expected, rtol=1e-6, atol=1e-6)
    rows = np.array([7, 2, 5])
    np.testing.assert_allclose(embedder.transform(sliced[rows]), expected[rows], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        embedder.transform(Subset(TensorDataset(images), [1, 3])), expected[[1, 3]], rtol=1e-6, atol=1e-6
    )
    both = ConcatDataset([TensorDataset(images[:4]), TensorDataset(images[4:])])
    np.testing.assert_allclose(embedder.transform(both), expected, rtol=1e-6, atol=1e-6)


def test_an_empty_input_gives_no_rows_after_fit_and_an_error_at_fit():
    embedder = PretrainedEmbedder(CountingBackbone()).fit(make_images(2))
    assert embedder.transform(make_images(0)).shape == (0, 5)
    with pytest.raises(ValueError, match="no rows"):
        PretrainedEmbedder(CountingBackbone()).fit(make_images(0))


@pytest.mark.parametrize(
    "texts",
    [
        ["a b", "longer text here", "x"],
        np.array(["a b", "longer text here", "x"]),
        np.array(["a b", "longer text here", "x"], dtype=object),
        CountingDataset(["a b", "longer text here", "x"]),  # (text, label) items
    ],
    ids=["list", "str-array", "object-array", "dataset"],
)
def test_texts_reach_a_text_backbone_as_lists_of_strings(texts):
    embeddings = PretrainedEmbedder(TextLengthBackbone(), batch_size=2).fit_transform(texts)
    with torch.no_grad():
        expected = TextLengthBackbone()(["a b", "longer text here", "x"]).numpy()
    np.testing.assert_allclose(embeddings, expected, rtol=1e-6)


def test_bfloat16_autocast_returns_float32_close_to_full_precision():
    images = make_images(8)
    low = PretrainedEmbedder(CountingBackbone(), dtype="bfloat16").fit_transform(images)
    assert low.dtype == np.float32
    np.testing.assert_allclose(low, _reference(images), atol=0.05)


def test_in_a_pipeline_in_front_of_a_classifier():
    images = make_images(20)
    y = (images.mean(dim=(1, 2, 3)) > images.mean()).long().numpy()
    model = make_pipeline(PretrainedEmbedder(CountingBackbone(), batch_size=8), LogisticRegression())
    model.fit(CountingDataset(images, y), y)
    direct = LogisticRegression().fit(_reference(images), y)
    predictions = model.predict(SliceDataset(CountingDataset(images)))
    np.testing.assert_array_equal(predictions, direct.predict(_reference(images)))


# --- the cache ------------------------------------------------------------------------------------


def test_a_second_transform_is_served_from_the_cache(tmp_path):
    images = make_images(10)
    embedder = PretrainedEmbedder(CountingBackbone(), batch_size=4, memory=tmp_path).fit(images)
    first = embedder.transform(images)
    array = embedder.transform(images.numpy())
    CountingBackbone.reset()
    # Again; by a clone (a search's copy) on an equal copy; by a new embedder with another batch size
    # on a Fortran-ordered copy of the array.
    np.testing.assert_array_equal(embedder.transform(images), first)
    np.testing.assert_array_equal(clone(embedder).fit_transform(images.clone()), first)
    again = PretrainedEmbedder(CountingBackbone(), batch_size=7, memory=Memory(tmp_path, verbose=0))
    np.testing.assert_array_equal(again.fit_transform(np.asfortranarray(images.numpy())), array)
    assert CountingBackbone.rows_seen() == 0


def test_changed_data_or_weights_miss_the_cache(tmp_path):
    images = make_images(10)
    backbone = CountingBackbone()
    embedder = PretrainedEmbedder(backbone, memory=tmp_path).fit(images)
    embedder.transform(images)
    CountingBackbone.reset()
    images[3, 0, 0, 0] += 1.0  # in place: same object, other content
    changed = embedder.transform(images)
    assert CountingBackbone.rows_seen() == 10
    np.testing.assert_allclose(changed, _reference(images), rtol=1e-6, atol=1e-6)
    CountingBackbone.reset()
    with torch.no_grad():
        backbone.linear.bias.add_(1.0)
    shifted = embedder.transform(images)
    assert CountingBackbone.rows_seen() == 10
    np.testing.assert_allclose(shifted, changed + 1.0, rtol=1e-5, atol=1e-5)


def test_a_dataset_of_files_misses_the_cache_after_a_file_changes(tmp_path):
    from PIL import Image

    paths = _image_folder(tmp_path)  # six 8 x 8 images
    dataset = ImageFolderDataset(paths, np.zeros(6, dtype=np.int64))
    backbone = CountingBackbone(3 * 8 * 8)
    embedder = PretrainedEmbedder(backbone, batch_size=4, memory=tmp_path / "cache").fit(dataset)
    before = embedder.transform(dataset)
    CountingBackbone.reset()
    np.testing.assert_array_equal(embedder.transform(ImageFolderDataset(paths, np.zeros(6))), before)
    assert CountingBackbone.rows_seen() == 0  # a new Dataset object over the same files: a hit
    Image.fromarray(np.full((8, 8, 3), 255, dtype=np.uint8)).save(paths[2])  # edited in place
    after = embedder.transform(dataset)
    assert CountingBackbone.rows_seen() == 6
    changed = np.flatnonzero(np.abs(after - before).max(axis=1) > 1e-6)
    assert changed.tolist() == [2]


def test_a_search_embeds_each_distinct_slice_once_with_memory(tmp_path):
    # 2 candidates x 2 folds, then the refit. Without memory every fit and score embeds its rows: 20
    # per fold, 80 in all, and 20 for the refit. With memory only the two halves (a fold's training rows
    # are the other fold's test rows) and the whole set are embedded, once each.
    images = make_images(20)
    y = np.tile([0, 1], 10)
    rows = {}
    for memory in (None, tmp_path):
        CountingBackbone.reset()
        pipeline = make_pipeline(PretrainedEmbedder(CountingBackbone, memory=memory), LogisticRegression())
        GridSearchCV(pipeline, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(
            SliceDataset(CountingDataset(images, y)), y
        )
        rows[memory is not None] = CountingBackbone.rows_seen()
    assert rows == {False: 5 * 20, True: 2 * 20}


_SESSION = """
import sys, numpy as np
from tests.feature_extraction._fixtures import CountingBackbone, make_images
from jtt_sklearn.feature_extraction import PretrainedEmbedder
embeddings = PretrainedEmbedder(CountingBackbone, memory=sys.argv[1]).fit_transform(make_images(10))
np.save(sys.argv[2], embeddings)
print(CountingBackbone.rows_seen())
"""


def test_the_cache_serves_a_new_python_session(tmp_path):
    cache = str(tmp_path / "cache")
    first = PretrainedEmbedder(CountingBackbone, memory=cache).fit_transform(make_images(10))
    assert CountingBackbone.rows_seen() == 10
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SESSION), cache, str(tmp_path / "second.npy")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) == 0  # the backbone never ran there
    np.testing.assert_array_equal(np.load(tmp_path / "second.npy"), first)


# --- errors ---------------------------------------------------------------------------------------


def test_a_model_name_is_refused_with_what_to_do_instead():
    with pytest.raises(ValueError, match="nothing is downloaded.*huggingface_backbone"):
        PretrainedEmbedder("bert-base-uncased").fit(["a text"])


def test_a_factory_must_return_a_module():
    with pytest.raises(TypeError, match=r"backbone\(\) returned a dict"):
        PretrainedEmbedder(dict).fit(make_images(2))


def test_parameters_are_validated():
    with pytest.raises(InvalidParameterError, match="batch_size"):
        PretrainedEmbedder(CountingBackbone(), batch_size=0).fit(make_images(2))
    with pytest.raises(InvalidParameterError, match="dtype"):
        PretrainedEmbedder(CountingBackbone(), dtype="float8").fit(make_images(2))


def test_transform_before_fit():
    with pytest.raises(NotFittedError):
        PretrainedEmbedder(CountingBackbone()).transform(make_images(2))


class _Stream(IterableDataset):
    def __iter__(self):
        return iter(make_images(2))


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("one text", TypeError, "single string"),
        (np.zeros(5, dtype=np.float32), ValueError, r"shape \(5,\)"),
        (_Stream(), TypeError, "IterableDataset"),
        ({"images": make_images(2)}, TypeError, "dict"),
        (np.array([["a", "b"]]), ValueError, "join sentence pairs"),
    ],
    ids=["string", "1-d", "iterable-dataset", "dict", "text-pairs"],
)
def test_bad_input_says_what_is_accepted(X, error, match):
    with pytest.raises(error, match=match):
        PretrainedEmbedder(CountingBackbone()).fit(X)


class _TupleBackbone(torch.nn.Module):
    def forward(self, X):
        return X.flatten(1), X


class _ScalarBackbone(torch.nn.Module):
    def forward(self, X):
        return X.sum()


@pytest.mark.parametrize(
    "backbone, error, match",
    [
        (_TupleBackbone(), TypeError, "returned a tuple"),
        (_ScalarBackbone(), ValueError, "one feature vector per input"),
    ],
    ids=["tuple", "scalar"],
)
def test_a_backbone_output_that_is_not_one_row_per_input(backbone, error, match):
    with pytest.raises(error, match=match):
        PretrainedEmbedder(backbone).fit(make_images(3))
