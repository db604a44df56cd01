"""Helpers for the reproducible companion to *mechanism* (Tzach et al., 2023) and *universal* (Meir et al., 2024).

One module per step of the method: ``data`` -> ``models`` -> ``train`` / ``runs`` (stage 1) ->
``taps`` -> ``probes`` (stage 2) -> ``filters`` -> ``snr`` (stage 3) -> ``afcc``; ``method.study``
runs stages 2-3 on a trained network; ``pages`` is one page of the book; ``build`` builds the book.

What a user of the package calls (each loads its module on first use, so ``import helpers`` stays light):

- ``Page(name, profile, **knobs)``: one page's knobs, data, cached runs, studies, comparison and claims;
- ``train_config(profile, model, **knobs)``: a profile's training configuration, knobs overridden;
- ``load_cifar(name)``, ``subset(data, K, n_train, n_test)``: CIFAR-10/100 and its K-label subsets;
- ``get_run(config, data)``: the trained network, from the run cache or trained now (resumable);
- ``study(run, data, threshold=0.3, rule="greedy")``: FC layers from each tap, field matrices, clusters, noise;
- ``extract(model, batches, n, taps)``, ``tap_table(model)``: any CNN's features at its taps, and their sizes;
- ``analyze_layer(W, means)``, ``snr_estimates(N_f, N_l, n, N_c, C_s)``, ``afcc_mask(clusters, N_l, F_s)``:
  the method's steps on tensors;
- ``paper_table(name)``: a table of the papers, as printed.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "Page": ("book.page", "Page"),
    "train_config": ("train.profiles", "train_config"),
    "load_cifar": ("train.data", "load_cifar"),
    "subset": ("train.data", "subset"),
    "get_run": ("train.runs", "get_run"),
    "study": ("method.study", "study"),
    "extract": ("train.taps", "extract"),
    "tap_table": ("train.taps", "tap_table"),
    "analyze_layer": ("method.filters", "analyze_layer"),
    "snr_estimates": ("method.snr", "snr_estimates"),
    "afcc_mask": ("method.afcc", "afcc_mask"),
    "paper_table": ("reference.printed", "table"),
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        module, attr = _API[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
