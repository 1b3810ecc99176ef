"""
The JTT paper's four settings
=============================

Reproduces the paper's Waterbirds, CelebA, MultiNLI or CivilComments-WILDS
setting (hyperparameters in ``jtt_sklearn.recipes.PAPER_SETTINGS``: T=60 and
official up-weight 100 for Waterbirds, T=1 and 50 for CelebA, T=2 and 4 for
MultiNLI, T=2 and 6 for CivilComments) on a copy of the dataset you have::

    python examples/paper_settings/reproduce.py waterbirds --root DATA --weights resnet50.pt --device cuda \\
        --memory runs/waterbirds --seed 0
    python examples/paper_settings/reproduce.py celeba --root DATA --weights resnet50.pt --device cuda
    python examples/paper_settings/reproduce.py multinli --root DATA --model BERT_DIR --device cuda
    python examples/paper_settings/reproduce.py civilcomments --root DATA --model BERT_DIR --device cuda

Images go through the official code's transforms
(``jtt_sklearn.recipes.official_transforms``). The final model's stopping
epoch is chosen by worst-group validation accuracy. The run prints each JTT
stage and one line per epoch; ``--memory DIR`` caches stage 1 there, so the
same command after a crash in stage 2 starts from stage 2. ``--smoke`` runs
the same protocol with a tiny model, 32-pixel images, T=1, lambda_up=3 and 2
final epochs: seconds on a few hundred images (``smoke_folder.py`` writes
such a folder).
"""

import argparse

import torch

from jtt_sklearn.recipes import PAPER_SETTINGS, run_paper_setting


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", choices=sorted(PAPER_SETTINGS))
    parser.add_argument("--root", required=True, help="the dataset's directory")
    parser.add_argument("--weights", help="ImageNet ResNet-50 state dict (vision settings)")
    parser.add_argument("--model", help="local BERT-style model directory (text settings)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0, help="random_state of the JTTClassifier")
    parser.add_argument("--memory", help="cache directory: a rerun after a crash keeps stage 1")
    parser.add_argument("--augment", action="store_true", help="the official code's training augmentation")
    parser.add_argument("--quiet", action="store_true", help="no stage and epoch lines, only the reports")
    parser.add_argument("--smoke", action="store_true", help="tiny model, short stages: a quick check")
    args = parser.parse_args(argv)
    threads = torch.get_num_threads()
    if args.smoke and args.device == "cpu":
        # One torch thread: on a shared 2-core machine two threads ran the smoke run in 7.4 minutes
        # (load 3 to 10) against 1 minute with one (load 11 to 12), waiting on each other; at this
        # size one thread costs seconds.
        torch.set_num_threads(1)
    try:
        return run_paper_setting(
            args.dataset,
            args.root,
            weights_path=args.weights,
            model_path=args.model,
            device=args.device,
            smoke=args.smoke,
            seed=args.seed,
            memory=args.memory,
            augment=args.augment,
            verbose=0 if args.quiet else 1,
        )
    finally:
        torch.set_num_threads(threads)  # main() called from Python leaves torch as it was


if __name__ == "__main__":
    main()
