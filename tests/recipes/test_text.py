"""Text pipelines: a tokenizer and a transformers net under JTTClassifier, and sentence pairs."""

import numpy as np
import pytest

from jtt_sklearn import JTTClassifier
from jtt_sklearn.recipes import join_sentence_pairs, make_text_pipeline

from .._fixtures import minilm_path


def _texts(n=32, seed=0):
    rng = np.random.RandomState(seed)
    words = np.array(["good", "great", "fine", "bad", "awful", "poor"])
    y = rng.randint(0, 2, n)
    texts = np.array(
        [f"the film was {words[rng.randint(0, 3) + 3 * (1 - label)]} indeed" for label in y], dtype=object
    )
    return texts, y


def test_text_pipeline_tiny_random_bert_with_linear_schedule():
    from transformers import BertConfig

    path = minilm_path()
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    pipe = make_text_pipeline(path, config=config, max_length=12, batch_size=8, max_epochs=2, lr=1e-3)
    X, y = _texts()
    clf = JTTClassifier(pipe, T=1, lambda_up=3, random_state=0).fit(X, y)
    assert clf.epochs_param_ == "net__max_epochs" and clf.upsampling_ == "sampler"
    net = clf.final_estimator_.named_steps["net"]
    # The linear schedule reached zero after the last step; clipping is installed.
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-9)
    assert dict(net.callbacks)["clip"].gradient_clip_value == 1.0
    assert clf.predict(X).shape == (32,)


def test_text_pipeline_with_the_real_pretrained_minilm():
    path = minilm_path()
    X, y = _texts(24)
    pipe = make_text_pipeline(path, max_length=12, batch_size=8, max_epochs=1)
    clf = JTTClassifier(pipe, T=1, lambda_up=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_sentence_pairs_are_joined_for_the_tokenizer():
    pairs = np.array([["A man sleeps.", "Nobody sleeps."]], dtype=object)
    assert join_sentence_pairs(pairs).tolist() == ["A man sleeps. [SEP] Nobody sleeps."]
    single = np.array(["just one"], dtype=object)
    assert join_sentence_pairs(single) is single
