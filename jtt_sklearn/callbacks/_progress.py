"""Progress of a long fit: which stage runs, and a bar over its epochs."""

import sys

from skorch.callbacks import Callback


class EpochProgress(Callback):
    """A progress bar over the epochs of one stage (tqdm when installed, else a line per epoch).

    skorch's own ``ProgressBar`` counts the batches of one epoch; this
    counts epochs, labelled with the JTT stage they belong to.
    """

    def __init__(self, stage, file=None):
        self.stage = stage
        self.file = file

    def on_train_begin(self, net, **kwargs):
        self.total_ = net.max_epochs
        self.bar_ = _tqdm(total=self.total_, desc=self.stage, unit="epoch", file=self._file(), leave=True)

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1].get("train_loss")
        if self.bar_ is not None:
            if loss is not None:
                self.bar_.set_postfix(train_loss=f"{loss:.4f}", refresh=False)
            self.bar_.update(1)
        else:
            suffix = f", train_loss {loss:.4f}" if loss is not None else ""
            print(
                f"[JTT] {self.stage}: epoch {len(net.history)}/{self.total_}{suffix}",
                file=self._file(),
                flush=True,
            )

    def on_train_end(self, net, **kwargs):
        if getattr(self, "bar_", None) is not None:
            self.bar_.close()
            self.bar_ = None

    def _file(self):
        return self.file if self.file is not None else sys.stderr


def _tqdm(**kwargs):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(**kwargs)


def epoch_progress(verbose, stage):
    """The internal callbacks that show ``stage``'s epochs: a bar from ``verbose=2`` on, else none."""
    return {"progress": EpochProgress(stage)} if verbose >= 2 else {}
