"""Where more training takes the EfficientNet claims that do not hold at `cpu`: the Lite0 stand-in trained
1, 2 and 4 epochs (the `cpu` recipe otherwise), each a run of its own (one-cycle: the schedule spans the run).

    MECH_DATA=../shared/data .venv/bin/python bench/lite0_epochs.py --epochs 1 2 4

Per network: its test accuracy; per stage (and stage 8) the FC layer's accuracy, n and SNR_E (*universal*
Table 2's columns, `universal_afcc.stage_study`: the book's probes, cached in ``$MECH_CACHE``, so the book's
own 2-epoch network and its probes are reused); the Table 2 page's claims on it (accuracy rises with the
stage, n falls up to saturation, SNR_E rises up to saturation); and stage 8 through AFCC against the full
network (*universal*: "stage 9 removed ... the accuracy"). Prints markdown for bench/README.md.
"""

from __future__ import annotations

import argparse
import time

from transfer_recipe import hour_speed  # bench/: the script's own folder is on the path

from helpers.book import page as pages
from helpers.figures import universal_afcc as afcc_pages
from helpers.figures import universal_layer_tables as layer_tables


def one(epochs: int, seed: int) -> tuple[list, str]:
    """The network of ``epochs`` epochs: its stage table rows and one markdown line of its claims."""
    page = pages.Page(
        "bench-lite0-epochs",
        "cpu",
        model="efficientnet_b0",
        dataset="cifar10",
        paper_dataset="cifar100",
        epochs=epochs,
    )
    t0 = time.perf_counter()
    run = page.run(seed=seed)
    stages = afcc_pages.stage_study(page, seed=seed)
    table = stages.table()
    found = layer_tables.claims_layers(page.study(seed=seed), page.model) or []  # as the Table 2 page
    verdicts = {k: c.verdict for c in found for k in CLAIMS if c.claim.startswith(k)}
    s8 = afcc_pages.stage8_afcc(stages).iloc[0]
    minutes = (time.perf_counter() - t0) / 60
    line = (
        f"| {epochs} | {run.test_acc:.3f} | "
        + " | ".join(verdicts.get(k, "–") for k in CLAIMS)
        + f" | {s8['accuracy_after']:.3f} vs {run.test_acc:.3f} | {run.info.get('wall_seconds', 0) / 60:.1f} "
        f"| {minutes:.1f} |"
    )
    rows = [
        f"| {epochs} | {r.tap} | {r.accuracy:.3f} | {r.n:.2f} | {r.SNR_E:.2f} |" for r in table.itertuples()
    ]
    return rows, line


CLAIMS = (
    "accuracy increases progressively with the stage",
    "n decreases with the stage until the accuracy saturates",
    "SNR_E = C_s N_c N_l / n",
)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(
        f"# the hour's speed: VGG-16 at width 0.25 {hour_speed():.0f} img/s, {time.strftime('%H:%M')}",
        flush=True,
    )
    lines, rows = [], []
    for e in args.epochs:
        r, line = one(e, args.seed)
        rows += r
        lines.append(line)
        print(line, flush=True)
    print(
        "\n| epochs | network | acc rises | n falls | SNR_E rises | stage 8 via AFCC vs network "
        "| training min | this run's min |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    print("\n".join(lines))
    print("\n| epochs | stage | accuracy | n | SNR_E |\n| --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
