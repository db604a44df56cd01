"""The whole method on one trained network, tap by tap (*universal* Fig. 1; DESIGN steps 1-9).

    study = method.study(run, data)  # probes (stage 2) + filter analysis (stage 3) for every tap
    study.table()                    # universal's Table 1 format: N_f, F_s, FC_s, accuracy, n, N_c, C_s

Field matrices are taken over the test inputs (*mechanism* Fig. 4; DESIGN step 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from helpers.method import fields, snr
from helpers.method.layer import LayerAnalysis, analyze_layer
from helpers.train import probes
from helpers.train import taps as taps_mod
from helpers.train.probes import Probe


@dataclass
class Study:
    """Per tap: the probe, the per-label mean activations and the filter analysis."""

    run: object
    data: object
    probes: dict[str, Probe]
    means: dict[str, torch.Tensor]
    layers: dict[str, LayerAnalysis]
    device: str | None = None  # where features are extracted (None: CUDA when present, else the CPU)

    def features(self, split: str = "test") -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The cached tap features of the run on ``split`` (memory-mapped float16)."""
        return taps_mod.run_features(self.run, self.data, split, progress=False, device=self.device)

    def table(self) -> pd.DataFrame:
        rows = []
        for name, la in self.layers.items():
            W = self.probes[name].W
            N_l, N_f, F_s = W.shape
            est = snr.snr_estimates(N_f, N_l, la.n, la.N_c, la.C_s) if N_l > 1 else {}
            rows.append(
                dict(
                    tap=name,
                    N_f=N_f,
                    F_s=F_s,
                    FC_s=N_f * F_s,
                    accuracy=self.probes[name].test_acc,
                    n=la.n,
                    N_c=la.N_c,
                    C_s=la.C_s,
                    **{k: est.get(k) for k in ("signal", "noise_E", "SNR_E")},
                )
            )
        out = pd.DataFrame(rows)
        out.attrs.update(
            network=None if self.run is None else self.run.test_acc,
            model=None if self.run is None else self.run.config.model,
            N_l=next(iter(self.probes.values())).W.shape[0] if self.probes else None,
            label_counts={name: la.appearances.tolist() for name, la in self.layers.items()},
        )
        return out


def fit_probes(
    train: tuple[dict, torch.Tensor],
    test: tuple[dict, torch.Tensor],
    N_l: int,
    *,
    solver: str = probes.DEFAULT_SOLVER,
    seed: int = 0,
    **probe_kw,
) -> dict[str, Probe]:
    """Stage 2 on features already in memory (not cached): an FC layer from each tap to the ``N_l``
    outputs."""
    (tr_f, tr_y), (te_f, te_y) = train, test
    return {
        name: probes.train_probe(
            tr_f[name], tr_y, te_f[name], te_y, N_l, solver=solver, seed=seed, progress=False, **probe_kw
        )
        for name in tr_f
    }


def analyze(
    trained: dict[str, Probe],
    inputs: tuple[dict, torch.Tensor],
    N_l: int,
    *,
    threshold: float = fields.THRESHOLD,
    rule: str = "greedy",
) -> tuple[dict, dict]:
    """Stage 3, the one entry point every path calls (pages, ImageNet, stage 8): each tap's per-label mean
    activations over ``inputs`` (features, labels), the field matrices with its FC layer's weights, clusters
    and noise (DESIGN steps 4-7). Returns ``(means, layers)`` keyed by tap."""
    fields.check_threshold(threshold)
    features, labels = inputs
    means = {name: fields.class_means(features[name], labels, N_l) for name in trained}
    layers = {name: analyze_layer(p.W, means[name], threshold, rule) for name, p in trained.items()}
    return means, layers


def study(
    run,
    data,
    *,
    threshold: float = fields.THRESHOLD,
    rule: str = "greedy",
    solver: str = probes.DEFAULT_SOLVER,
    taps: list | None = None,
    progress: bool = True,
    device: str | None = None,
    **probe_kw,
) -> Study:
    """Probe every tap of ``run`` (cached) and :func:`analyze` every filter of it (test-set field
    matrices)."""
    fields.check_threshold(threshold)
    taps = taps or run.model.taps
    trained = probes.layer_probes(
        run, data, solver=solver, taps=taps, progress=progress, device=device, **probe_kw
    )
    test = taps_mod.run_features(run, data, "test", progress=progress, device=device)  # all taps: one cache
    return Study(
        run,
        data,
        trained,
        *analyze(trained, test, data.num_classes, threshold=threshold, rule=rule),
        device=device,
    )
