"""Which claims change verdict as the training budget grows: the `cpu` VGG-16 at several budgets.

    MECH_DATA=../shared/data .venv/bin/python bench/budget_study.py \
        [--budgets "epochs=10,eta=0.08,schedule=step" "epochs=6" "epochs=10" "epochs=36"]

Each budget is a set of knobs of ``helpers.train.profiles.train_config("cpu", "vgg16", ...)`` (``epochs``,
``width``, ``eta``, ``q``, ``offset``, ``schedule``, ``label_smoothing`` ...), over the profile's one-cycle at
a peak of 0.12: the default's first is the former `cpu` network (10 epochs of step decay, 0.08 for 3 epochs,
then x 0.6), its second the current one (6 epochs of one-cycle). Every network comes from the run cache
(trained if missing: ``bench/vgg16_target.py`` trains the same configurations and prints their accuracy per
epoch). For each, the whole analysis of the book's pages runs at the five taps of *mechanism* Fig. 2 (the
papers' SGD probes, clusters at threshold 0.3) and the verdicts of the layer-by-layer claims are those of the
Fig. 5 and Table pages (the functions of ``helpers.figures.training_dynamics.tests_by_epoch``, which also has
the accuracy floor as a column), with each statistic's mean relative distance to the paper's values
(*universal* Table 6, K = 10). Figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from helpers.figures import training_dynamics as dynamics
from helpers.train import data, models, profiles, runs


def knobs(text: str) -> dict:
    """``"epochs=36,eta=0.12,schedule=onecycle"`` -> ``{"epochs": 36, "eta": 0.12, "schedule":
    "onecycle"}``."""
    out = {}
    for item in filter(None, text.split(",")):
        k, sep, v = (p.strip() for p in item.partition("="))
        if not sep or not k:
            raise SystemExit(f"budget {text!r}: {item!r} is not knob=value")
        if v in ("True", "False"):
            out[k] = v == "True"
            continue
        for kind in (int, float, str):
            try:
                out[k] = kind(v)
                break
            except ValueError:
                continue
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--budgets",
        nargs="+",
        default=["epochs=10,eta=0.08,schedule=step", "epochs=6", "epochs=10", "epochs=36"],
    )
    args = ap.parse_args()
    cifar = data.load_cifar("cifar10")
    by_budget = {}
    for i, label in enumerate(args.budgets, 1):
        t0 = time.perf_counter()
        by_budget[i] = runs.get_run(profiles.train_config("cpu", "vgg16", **knobs(label)), cifar)
        print(
            f"budget {i}: {label}: {by_budget[i]} ({(time.perf_counter() - t0) / 60:.1f} min to "
            f"train or load)",
            flush=True,
        )
    frame = dynamics.analysis_frame(
        by_budget, cifar, models.tap_names("vgg16")
    )  # the budget's number as "epoch"
    frame.attrs.update(model="vgg16", N_l=10)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    shown = frame[["epoch", "network", "tap", "accuracy", "n", "N_c", "C_s", "SNR_E"]]
    shown = shown.rename(columns={"epoch": "budget"})
    print(shown.round(3).to_string(index=False))
    verdicts = dynamics.tests_by_epoch(frame).set_index("epoch").T
    verdicts.columns = [f"budget {i}" for i in verdicts.columns]
    print("\nverdicts by budget:\n" + verdicts.to_string())
    print(
        "\nmean relative distance to the paper (Table 6, K = 10), by budget:\n"
        + dynamics.distances(frame).rename(columns={"epoch": "budget"}).round(3).to_string(index=False)
    )


if __name__ == "__main__":
    main()
