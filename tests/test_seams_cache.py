import importlib, sys, textwrap
import numpy as np, torch
from skorch import NeuralNetClassifier
from jtt_sklearn import JTTClassifier


def test_editing_the_module_class_misses_the_stage_1_cache(tmp_path, monkeypatch):
    source = tmp_path / "user_module_jtt.py"

    def write(width):
        source.write_text(
            textwrap.dedent(f"""
            import torch
            class Net(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.hidden = torch.nn.Linear(4, {width})
                    self.out = torch.nn.Linear({width}, 2)
                def forward(self, X):
                    return self.out(torch.relu(self.hidden(X)))
        """)
        )

    monkeypatch.syspath_prepend(str(tmp_path))
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    widths = []
    for width in (8, 32):
        write(width)
        sys.modules.pop("user_module_jtt", None)
        module = importlib.import_module("user_module_jtt")
        net = NeuralNetClassifier(
            module.Net, criterion=torch.nn.CrossEntropyLoss, max_epochs=2, train_split=None, verbose=0
        )
        clf = JTTClassifier(net, T=1, lambda_up=2, memory=tmp_path / "cache", random_state=0).fit(X, y)
        widths.append(clf.identifier_.module_.hidden.out_features)
    assert widths == [8, 32]
