"""Helpers for the reproducible companion to *mechanism* (Tzach et al., 2023) and *universal* (Meir et al.,
2024).

One folder per layer, each importing only from those above it in this list, one module per step:

- ``infra/``: paths, the cache, locks;
- ``reference/``: what the papers printed, their quotes, the verdict rules;
- ``train/`` (stage 1 and the probes' inputs): ``data`` -> ``models`` (``any_cnn``) -> ``loop`` -> ``runs``,
  ``profiles``; ``taps`` -> ``probes`` (stage 2);
- ``method/`` (stage 3): ``fields`` -> ``layer`` -> ``snr``, ``afcc``, ``kfit``; ``study`` runs stages 2-3 on
  a trained network;
- ``figures/``: one module per table or figure of the papers, its computation, plot, comparison and claims;
- ``book/``: ``page`` (one page of the book), ``build`` (the book), ``jobs`` (training on a GPU or a cluster).

What a user of the package calls (each loads its module on first use, so ``import helpers`` stays light):

- ``Page(name, profile, **knobs)``: one page's knobs, data, cached runs, studies, comparison and claims;
- ``train_config(profile, model, **knobs)``: a profile's training configuration, knobs overridden;
- ``load_cifar(name)``, ``subset(data, K, n_train, n_test)``: CIFAR-10/100 and its K-label subsets;
- ``get_run(config, data)``: the trained network, from the run cache or trained now (resumable);
- ``study(run, data, threshold=0.3, rule="greedy")``: FC layers from each tap, field matrices, clusters,
noise;
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
    "analyze_layer": ("method.layer", "analyze_layer"),
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
