"""EfficientNet-B0's stage accuracies (*universal* Table 2's column) after each epoch of one longer `cpu`
training.

    MECH_DATA=../shared/data .venv/bin/python bench/effnet_stages.py --epochs 4

Trains the `cpu` profile's EfficientNet-B0 on CIFAR-10 (width 0.25, 64x64, eta x 0.6 an epoch) for
``--epochs`` epochs, snapshots the weights after every epoch, and trains each stage's FC layer (the page's
probes) on every snapshot from epoch 2 on. The schedule depends on the epoch only, so the epoch-e snapshot is
the e-epoch run (the epoch-2 one is the `cpu` profile's network). Shows whether the book's failing claim
"accuracy rises with the stage" is the 2-epoch network being underfit. Nothing is cached but the probes and
features (``$MECH_CACHE``); figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import copy
import time

from helpers.book import page as pages
from helpers.reference.claims import rises
from helpers.train import loop as train_mod
from helpers.train import probes, runs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    page = pages.Page(
        "bench-effnet-stages", "cpu", model="efficientnet_b0", dataset="cifar10", epochs=args.epochs
    )
    cfg = page.config_for(seed=args.seed)
    data = page.data_for(cfg)
    model = runs.build_model(cfg, data.num_classes)
    snapshots, t0 = {}, time.perf_counter()

    def on_epoch(state):
        snapshots[state["epoch"]] = (copy.deepcopy(state["model"]), time.perf_counter() - t0)

    train_mod.train(model, data, cfg, on_epoch=on_epoch, progress=False)
    print(f"EfficientNet-B0, cpu profile, {args.epochs} epochs; stage accuracies shallow -> deep")
    for epoch, (weights, wall) in sorted(snapshots.items()):
        if epoch < 2:
            continue
        net = runs.build_model(cfg, data.num_classes, load_weights=False)
        net.load_state_dict(weights)
        acc = train_mod.evaluate(net.eval(), data.x_test, data.y_test, size=cfg.input_size)[1]
        run = runs.Run(
            f"{runs.run_key(cfg, data)}-epoch{epoch}",
            runs.cache_root(),
            cfg,
            net,
            dict(metrics=[dict(test_acc=acc)]),
        )
        stages = {k: p.test_acc for k, p in probes.layer_probes(run, data, progress=False).items()}
        print(
            f"epoch {epoch} ({wall / 60:.1f} min of training): network {acc:.3f}; "
            + ", ".join(f"{k} {a:.3f}" for k, a in stages.items())
            + f"; rises within 0.01: {rises(stages.values())}",
            flush=True,
        )


if __name__ == "__main__":
    main()
