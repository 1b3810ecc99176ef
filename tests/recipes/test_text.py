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


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Record every attempt to open a connection, and refuse it; run where no Hub name is a folder."""
    import socket

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("the test allows no network")

    # A Hub call starts with a name lookup (getaddrinfo), then connects.
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.chdir(tmp_path)
    return attempts


def test_a_hub_name_fails_at_once_and_asks_for_a_local_folder(no_network):
    from transformers import BertConfig

    from jtt_sklearn.recipes import HuggingfaceSequenceClassifier

    # The pipeline used to be built, and its fit to try the Hub for about 50 s before failing.
    X, y = _texts(8)
    hub_name = "tokenizer is read from a local folder.*'bert-base-uncased' is not a folder"
    with pytest.raises(ValueError, match=hub_name):
        make_text_pipeline("bert-base-uncased").fit(X, y)
    # config= builds the model, but the tokenizer still needs its folder.
    config = BertConfig(
        vocab_size=100, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8
    )
    with pytest.raises(ValueError, match="none was given. Pass tokenizer_path"):
        make_text_pipeline(config=config).fit(X, y)
    with pytest.raises(ValueError, match="model is read from a local folder.*'bert-base-uncased'"):
        HuggingfaceSequenceClassifier("bert-base-uncased")
    assert no_network == []


def test_a_tokenizer_folder_beside_a_hub_model_name_still_refuses_the_name(no_network):
    # The tokenizer is local, the model is not: refused before stage 1, not when the net initialises.
    with pytest.raises(ValueError, match="model is read from a local folder.*'bert-base-uncased'"):
        make_text_pipeline("bert-base-uncased", tokenizer_path=minilm_path())
    assert no_network == []
