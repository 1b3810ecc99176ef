"""
The JTT paper's four settings
=============================

Reproduces the paper's Waterbirds, CelebA, MultiNLI or CivilComments-WILDS
setting (hyperparameters in ``jtt_sklearn.recipes.PAPER_SETTINGS``: T=60 and
official up-weight 100 for Waterbirds, T=1 and 50 for CelebA, T=2 and 4 for
MultiNLI, T=2 and 6 for CivilComments) on a copy of the dataset you have::

    python examples/paper_settings/reproduce.py waterbirds --root DATA --weights resnet50.pth --device cuda
    python examples/paper_settings/reproduce.py celeba --root DATA --weights resnet50.pth --device cuda
    python examples/paper_settings/reproduce.py multinli --root DATA --model BERT_DIR --device cuda
    python examples/paper_settings/reproduce.py civilcomments --root DATA --model BERT_DIR --device cuda

The final model's stopping epoch is chosen by worst-group validation
accuracy. ``--smoke`` runs the same protocol with tiny models in seconds.
"""

import argparse

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
    parser.add_argument("--smoke", action="store_true", help="tiny models and one epoch: a quick check")
    args = parser.parse_args(argv)
    return run_paper_setting(
        args.dataset,
        args.root,
        weights_path=args.weights,
        model_path=args.model,
        device=args.device,
        smoke=args.smoke,
    )


if __name__ == "__main__":
    main()
