"""Features of a trained network at its taps: ``a[f, s](x)`` for filter f and position s.

One pass over a dataset gives every tap at once (torchvision's ``create_feature_extractor``
on graph node names), so any torchvision CNN can be read: pass ``taps=[Tap("layer3", "layer3")]``.
EfficientNet-B0 taps are average-pooled to the paper's grid (*universal*: "sampled by 7x7
average pooling"); adaptive pooling gives the same grid at other input sizes.

Features are stored as float16 by default (halves the 16384-wide taps); ``bench/analysis.py``
measures what that costs in probe accuracy. Cached features live in
``$MECH_CACHE/taps/<key>/<split>-<tap>.npy`` and load memory-mapped.
"""

from __future__ import annotations

import sys
import weakref
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor
from tqdm import tqdm

from helpers.infra.cache import CorruptCacheError, atomic_path, code_version, key_of, save_json
from helpers.infra.locks import locked
from helpers.infra.paths import cache_root
from helpers.train import data as data_mod
from helpers.train.loop import pick_device
from helpers.train.models import Tap

_EXTRACTORS: "weakref.WeakKeyDictionary[nn.Module, dict]" = weakref.WeakKeyDictionary()


def extractor(model: nn.Module, taps: list[Tap]) -> nn.Module:
    """A graph module returning ``{tap.name: raw output}`` for ``taps`` (built once per model)."""
    per_model = _EXTRACTORS.setdefault(model, {})
    key = tuple(t.node for t in taps)
    if key not in per_model:
        per_model[key] = create_feature_extractor(model, return_nodes={t.node: t.node for t in taps})
    return per_model[key]


def shape_tap(t: Tap, out: torch.Tensor) -> torch.Tensor:
    """(B, N_f, H, W) -> (B, N_f, F_s), after pooling to ``t.grid`` where the tap asks for it."""
    if out.dim() == 2:  # a flat node (e.g. after avgpool + flatten): N_f filters of one position
        return out[:, :, None]
    if t.grid is not None and out.shape[-1] != t.grid:
        out = F.adaptive_avg_pool2d(out, t.grid)
    return out.flatten(2)


@torch.no_grad()
def extract_batch(
    model: nn.Module, x: torch.Tensor, taps: list[Tap] | None = None
) -> dict[str, torch.Tensor]:
    """Tap outputs ``{name: (B, N_f, F_s)}`` of one batch, model in eval mode."""
    taps = taps or model.taps
    model.eval()
    ex = extractor(model, taps).eval()
    outs = ex(x)
    return {t.name: shape_tap(t, outs[t.node]) for t in taps}


@torch.no_grad()
def extract(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    n: int,
    taps: list[Tap] | None = None,
    dtype: torch.dtype = torch.float16,
    progress: bool = True,
    desc: str = "taps",
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Features of all ``taps`` over ``n`` inputs in one pass: ``({name: (n, N_f, F_s)}, labels)``."""
    taps = taps or model.taps
    feats: dict[str, torch.Tensor] = {}
    labels = torch.empty(n, dtype=torch.int64)
    i = 0
    for xb, yb in tqdm(batches, desc=desc, disable=not progress, leave=False, mininterval=2.0):
        out = extract_batch(model, xb, taps)
        for name, a in out.items():
            if name not in feats:
                feats[name] = torch.empty((n, *a.shape[1:]), dtype=dtype)
            feats[name][i : i + len(a)] = a.to("cpu", dtype)
        labels[i : i + len(yb)] = yb.cpu()
        i += len(yb)
    if i != n:
        raise ValueError(f"expected {n} inputs, the batches held {i}")
    return feats, labels


def features_key(
    run_key: str,
    data_fingerprint: str,
    split: str,
    taps: list[Tap],
    dtype: torch.dtype,
    input_size: int | None,
) -> str:
    """The cache key of a run's features (the run's key covers the model's code; this module's code is
    added)."""
    return key_of(
        dict(
            run=run_key,
            data=data_fingerprint,
            split=split,
            taps=[(t.name, t.node, t.grid) for t in taps],
            dtype=str(dtype),
            size=input_size,
            code=code_version(sys.modules[__name__]),
        )
    )


def _safe(name: str) -> str:
    return name.replace(" ", "_").replace("/", "_")


def cached_features(
    key: str, compute, taps: list[Tap], split: str
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Load ``{split}`` features under ``key`` from the cache, else ``compute()`` and store them.

    Each array is written atomically and ``done.json`` last, so an interrupted write is
    recomputed rather than read half-written.
    """
    path = cache_root() / "taps" / key
    done = path / f"{split}-done.json"
    with locked(path):
        if not done.is_file():
            feats, labels = compute()
            for name, a in feats.items():
                _save_npy(a.numpy(), path / f"{split}-{_safe(name)}.npy")
            _save_npy(labels.numpy(), path / f"{split}-labels.npy")
            save_json(dict(taps=[t.name for t in taps], n=len(labels)), done)
        return (
            {t.name: _load_npy(path / f"{split}-{_safe(t.name)}.npy", mmap_mode="c") for t in taps},
            _load_npy(path / f"{split}-labels.npy"),
        )


def _load_npy(path: Path, **kw) -> torch.Tensor:
    """A cached feature array; an unreadable one is a :class:`~helpers.train.runs.CorruptCacheError` naming
    the fix."""
    try:
        return torch.from_numpy(np.load(path, **kw))
    except (OSError, ValueError, EOFError) as err:
        raise CorruptCacheError(
            f"cached features {path} are corrupt or unreadable ({type(err).__name__}: {err}); "
            f"delete their folder (rm -r {path.parent}) and run again to recompute them"
        ) from err


def _save_npy(a: np.ndarray, path: Path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, a)


def run_features(
    run,
    data,
    split: str = "test",
    taps: list[Tap] | None = None,
    dtype: torch.dtype = torch.float16,
    batch_size: int = 500,
    device: str | None = None,
    progress: bool = True,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Cached features of a :class:`~helpers.train.runs.Run` on ``data``'s ``train`` or ``test`` split (no
    augmentation)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    taps = taps or run.model.taps
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    size = run.config.input_size if run.config.input_size and run.config.input_size != x.shape[-1] else None
    key = features_key(run.key, data.fingerprint(), split, taps, dtype, size)

    def compute():
        dev = pick_device(device)
        model = run.model.to(dev)
        out = extract(
            model,
            data_mod.batches(x, y, batch_size, size=size, device=dev),
            len(y),
            taps,
            dtype,
            progress,
            desc=f"{run.config.model} {split} taps",
        )
        run.model.to("cpu")
        return out

    return cached_features(key, compute, taps, split)


def tap_table(model: nn.Module, input_size: int | None = None, taps: list[Tap] | None = None) -> pd.DataFrame:
    """One row per tap, shallow to deep: ``N_f``, ``F_s`` (positions per filter), ``FC_s`` = N_f * F_s.

    At full width this is the N_f / F_s / FC_s part of *universal* Tables 1 (VGG-16, 32x32)
    and 2 (EfficientNet-B0, 224x224).
    """
    size = input_size or getattr(model, "input_size", 32)
    taps = taps or model.taps
    x = torch.zeros(1, 3, size, size)
    outputs = extract_batch(model, x, taps)
    rows = []
    for t in taps:
        _, N_f, F_s = outputs[t.name].shape
        side = int(round(F_s**0.5))
        rows.append(
            dict(
                tap=t.name,
                node=t.node,
                N_f=int(N_f),
                F_s=int(F_s),
                grid=f"{side}x{side}",
                FC_s=int(N_f * F_s),
            )
        )
    return pd.DataFrame(rows)
