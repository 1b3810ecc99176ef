"""The opt-in GPU helpers, checked on CPU: batched gathers, autocast, and JTT on top of them."""

import numpy as np
import pytest
import torch
from torch import nn

from jtt_sklearn import JTTClassifier
from jtt_sklearn.utils import (
    AutocastModule,
    BatchedTensorDataset,
    UpsamplingDataLoader,
    collate_batched,
)

from .._nets import make_net


def test_batched_dataset_gathers_whole_batches_and_works_with_the_upsampling_loader():
    X = torch.arange(20.0).reshape(10, 2)
    y = torch.arange(10) % 2
    ds = BatchedTensorDataset(X, y)
    loader = UpsamplingDataLoader(
        ds, multiplicity=[1] * 9 + [4], random_state=0, batch_size=4, collate_fn=collate_batched
    )
    seen = torch.cat([Xb[:, 0] for Xb, _ in loader]) / 2
    assert np.bincount(seen.long().numpy(), minlength=10).tolist() == [1] * 9 + [4]
    np.testing.assert_array_equal(ds.targets, y.numpy())
    with pytest.raises(ValueError, match="one label per row"):
        BatchedTensorDataset(X, y[:3])


def test_autocast_module_returns_float32_logits_close_to_full_precision():
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(2))
    X = torch.rand(5, 3, 8, 8)
    reference = conv(X)
    wrapped = AutocastModule(conv, channels_last=True)
    out = wrapped(X)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, reference, atol=0.05, rtol=0.05)


def test_jtt_on_a_batched_tensor_dataset():
    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.normal(size=(120, 6)).astype(np.float32))
    y = torch.from_numpy((rng.rand(120) < 0.5).astype(np.int64))
    ds = BatchedTensorDataset(X, y)
    net = make_net(
        max_epochs=3,
        iterator_train__collate_fn=collate_batched,
        iterator_valid__collate_fn=collate_batched,
    )
    clf = JTTClassifier(net, T=1, lambda_up=4, random_state=0).fit(ds)
    np.testing.assert_array_equal(clf.error_set_, np.flatnonzero(clf.identifier_.predict(ds) != y.numpy()))
    assert clf.predict(ds).shape == (120,)
