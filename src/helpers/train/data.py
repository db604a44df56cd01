"""Data of both papers: CIFAR-10/100 and their K-label subsets (ImageNet is :mod:`helpers.train.imagenet`).

Conventions (*mechanism* methods, "Data preprocessing"; *universal* Supplementary): pixels scaled to [-1, 1]
(x / 255 * 2 - 1); training augmentation = random horizontal flip + translation of up to 4 pixels; optional
bicubic resize (*universal* feeds EfficientNet-B0 224x224 inputs).

A CIFAR dataset is held as one uint8 tensor (N, 3, 32, 32) and whole mini-batches are
augmented with tensor ops: on 2 cores a per-image PIL pipeline would be the bottleneck.

Where the data come from, in this order: the data directory (:func:`helpers.infra.paths.data_dir`) holding
the packed ``cifar10.npz`` / ``cifar100.npz`` (arrays ``x_train``, ``y_train``, ``x_test``,
``y_test`` uint8 HWC), or torchvision's extracted layout (``cifar-10-batches-py/``,
``cifar-100-python/``); else a torchvision download where the network allows; else
:class:`DataNotFoundError` naming the directory and the files expected."""

from __future__ import annotations

import hashlib
import os
import pickle
import socket
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator
from urllib.error import URLError

import numpy as np
import torch
import torch.nn.functional as F

from helpers.infra.paths import data_dir, repo_root

CIFAR = {"cifar10": 10, "cifar100": 100}
_TV_LAYOUT = {
    "cifar10": (
        "cifar-10-batches-py",
        [f"data_batch_{i}" for i in range(1, 6)],
        ["test_batch"],
        "batches.meta",
        "labels",
        "label_names",
    ),
    "cifar100": ("cifar-100-python", ["train"], ["test"], "meta", "fine_labels", "fine_label_names"),
}
PAD = 4  # translation of up to 4 pixels in each direction (both papers)


class DataNotFoundError(FileNotFoundError):
    """A dataset is not on this machine and could not be downloaded."""


class DataCorruptError(ValueError):
    """A data file is there but cannot be read (truncated, damaged): the message names it and the fix."""


@dataclass(frozen=True)
class ImageData:
    """A labelled image dataset held in memory as uint8 NCHW tensors."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    class_names: tuple[str, ...]
    provenance: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def synthetic(self) -> bool:
        return self.provenance.upper().startswith("SYNTHETIC")

    def fingerprint(self) -> str:
        """A short hash of the contents (labels in full, every 97th image), for cache keys."""
        h = hashlib.sha256()
        for t in (self.x_train.flatten()[::97], self.y_train, self.x_test.flatten()[::97], self.y_test):
            h.update(t.contiguous().numpy().tobytes())
        h.update(
            f"{self.name}|{self.class_names}|{tuple(self.x_train.shape)}|{tuple(self.x_test.shape)}".encode()
        )
        return h.hexdigest()[:16]

    def __repr__(self) -> str:
        return (
            f"ImageData({self.name!r}, train={tuple(self.x_train.shape)}, test={tuple(self.x_test.shape)}, "
            f"classes={self.num_classes}, provenance={self.provenance[:60]!r})"
        )


def _download_allowed(download: bool | None) -> bool:
    if download is not None:
        return download
    return os.environ.get("MECH_DOWNLOAD", "1") not in ("0", "false", "no")


def load_cifar(
    name: str = "cifar10", root: str | os.PathLike | None = None, download: bool | None = None
) -> ImageData:
    """Load CIFAR-10 or CIFAR-100 (all 50,000 + 10,000 images) as uint8 tensors.

    ``download=None`` follows ``$MECH_DOWNLOAD`` (default on); a failed download ends in
    :class:`DataNotFoundError` that says what to put where."""
    if name not in CIFAR:
        raise ValueError(f"unknown dataset {name!r}: expected one of {sorted(CIFAR)}")
    root = data_dir(root)
    packed = root / f"{name}.npz"
    layout = root / _TV_LAYOUT[name][0]
    if packed.is_file():
        return _from_npz(packed, name)
    if layout.is_dir():
        return _from_torchvision_layout(root, name)
    if _download_allowed(download):
        try:
            _torchvision_download(root, name)
            return _from_torchvision_layout(root, name)
        except Exception as err:  # no network, refused, interrupted: say what to do instead
            offline = isinstance(err, (URLError, ConnectionError, socket.timeout, socket.gaierror))
            reason = (
                "torchvision could not download it: no network here"
                if offline
                else f"torchvision could not download it ({type(err).__name__}: {err})"
            )
    else:
        reason = "downloading is switched off (MECH_DOWNLOAD=0 or download=False)"
    raise DataNotFoundError(
        f"{name} not found in the data directory {_shown(root)}: expected {packed.name} "
        f"(arrays x_train, y_train, x_test, y_test, uint8 HWC) or torchvision's folder {layout.name}/; "
        f"{reason}. Put one of them there, or point MECH_DATA at a directory that has them "
        f"(on the project's machines: MECH_DATA=../shared/data, which holds cifar10.npz only)."
    )


def _shown(path: Path) -> str:
    """A path as a reader of the page should see it: ``$MECH_DATA`` as the user gave it (the build's absolute
    paths are not the reader's), else relative to the repository."""
    given = os.environ.get("MECH_DATA", "").strip()
    if given and data_dir() == path:
        return f"{given} (MECH_DATA)"
    return os.path.relpath(path, repo_root())


def _from_npz(path: Path, name: str) -> ImageData:
    try:
        with np.load(path, allow_pickle=False) as d:
            arrays = {k: d[k] for k in ("x_train", "y_train", "x_test", "y_test")}
            class_names = tuple(str(c) for c in d["class_names"]) if "class_names" in d.files else None
            provenance = str(d["provenance"]) if "provenance" in d.files else f"{path}"
    except KeyError as err:
        raise ValueError(
            f"{path} lacks array {err}: a packed CIFAR file needs x_train, y_train, x_test, y_test"
        ) from err
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise DataCorruptError(
            f"{path} is not a readable .npz file ({type(err).__name__}: {err}): it is truncated "
            f"or damaged, e.g. by an interrupted copy. Replace it with a good copy (or delete it: "
            f"torchvision then downloads the dataset where the network allows)"
        ) from err
    n = CIFAR[name]
    return _make(name, arrays, class_names or tuple(str(i) for i in range(n)), provenance)


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except Exception as err:  # a damaged pickle raises almost anything (EOFError, KeyError, ImportError...)
        raise DataCorruptError(
            f"{path} cannot be read ({type(err).__name__}: {err}): it is truncated or damaged. "
            f"Delete its folder {path.parent} and download or copy the dataset again"
        ) from err


def _from_torchvision_layout(root: Path, name: str) -> ImageData:
    folder, train_files, test_files, meta, label_key, names_key = _TV_LAYOUT[name]
    base = root / folder
    missing = [f for f in train_files + test_files if not (base / f).is_file()]
    if missing:
        raise DataNotFoundError(f"{base} is incomplete: missing {missing}")

    def read(files):
        parts = [_unpickle(base / f) for f in files]
        x = np.concatenate([p["data"] for p in parts]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        y = np.concatenate([np.asarray(p[label_key]) for p in parts])
        return x, y

    x_train, y_train = read(train_files)
    x_test, y_test = read(test_files)
    names = (
        tuple(_unpickle(base / meta)[names_key])
        if (base / meta).is_file()
        else tuple(str(i) for i in range(CIFAR[name]))
    )
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return _make(name, arrays, names, f"torchvision layout at {base}")


def _torchvision_download(root: Path, name: str) -> None:
    import torchvision

    cls = torchvision.datasets.CIFAR10 if name == "cifar10" else torchvision.datasets.CIFAR100
    root.mkdir(parents=True, exist_ok=True)
    cls(str(root), train=True, download=True)


def _make(name, arrays, class_names, provenance) -> ImageData:
    def images(a):
        a = np.asarray(a)
        if a.dtype != np.uint8 or a.ndim != 4 or a.shape[1:] != (32, 32, 3):
            raise ValueError(f"{name}: images must be uint8 of shape (N, 32, 32, 3), got {a.dtype} {a.shape}")
        return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))

    y_train = torch.as_tensor(np.asarray(arrays["y_train"]), dtype=torch.int64)
    y_test = torch.as_tensor(np.asarray(arrays["y_test"]), dtype=torch.int64)
    return ImageData(
        name,
        images(arrays["x_train"]),
        y_train,
        images(arrays["x_test"]),
        y_test,
        tuple(class_names),
        provenance,
    )


def drawn_labels(num_labels: int, K: int, draw: int | None) -> list[int]:
    """The K labels of CIFAR-K/N: 0..K-1 without a ``draw`` (the sets nested, CIFAR-3/10 inside CIFAR-6/10),
    else K labels drawn uniformly with the seed ``draw``, in increasing order (*universal* trains each K on
    "K labels from CIFAR-100" without saying which: a drawn subset is not biased toward the first labels,
    e.g. cat and dog entering together at K = 6 on CIFAR-10)."""
    if draw is None:
        return list(range(K))
    perm = torch.randperm(num_labels, generator=torch.Generator().manual_seed(int(draw)))
    return sorted(perm[:K].tolist())


def subset(
    data: ImageData,
    K: int | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    draw: int | None = None,
) -> ImageData:
    """CIFAR-K/N (*universal* Tables 4-6) and/or a balanced size limit.

    The K-label subset keeps the labels of :func:`drawn_labels` (0..K-1 without a ``draw``), renumbered
    0..K-1 in increasing order. ``n_train`` / ``n_test`` keep the first ``n // K`` images of each label, in
    the dataset's order."""
    N = data.num_classes
    K = N if K is None else K
    if not isinstance(K, (int, np.integer)) or not 1 <= K <= N:
        raise ValueError(
            f"K={K!r} is out of range: {data.name} has {N} labels, so K must be an integer in 1..{N}"
        )
    labels = drawn_labels(N, K, draw if K < N else None)
    new = torch.full((N,), -1, dtype=torch.long)
    new[labels] = torch.arange(K)

    def pick(x, y, n):
        y = new[y]
        keep = y >= 0
        if n is not None:
            if n < K:
                raise ValueError(f"asked for {n} images of {K} labels: need at least one per label")
            rank = torch.zeros_like(y)
            for label in range(K):  # position of each image within its label, in dataset order
                idx = (y == label).nonzero().flatten()
                rank[idx] = torch.arange(len(idx))
            keep &= rank < n // K
        return x[keep], y[keep]

    x_train, y_train = pick(data.x_train, data.y_train, n_train)
    x_test, y_test = pick(data.x_test, data.y_test, n_test)
    name = data.name if K == N else f"{data.name}-K{K}" + ("" if draw is None else f"-draw{draw}")
    return replace(
        data,
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=tuple(data.class_names[i] for i in labels),
    )


def for_config(full: ImageData, cfg) -> ImageData:
    """The data a training config ``cfg`` (:class:`~helpers.train.loop.TrainConfig`) trains on: its K labels
    (drawn by ``cfg.label_draw``) and subset sizes."""
    return subset(full, cfg.K, cfg.n_train, cfg.n_test, cfg.label_draw)


def synthetic_cifar(
    num_classes: int = 10, n_train: int = 500, n_test: int = 200, seed: int = 0, size: int = 32
) -> ImageData:
    """Small generated data of CIFAR's shape with a learnable class signal (for tests; never results).

    Each label has its own random low-frequency colour pattern; images are that pattern plus noise."""
    g = torch.Generator().manual_seed(seed)
    protos = F.interpolate(
        torch.rand(num_classes, 3, 4, 4, generator=g), size=(size, size), mode="bilinear", align_corners=False
    )

    def draw(n):
        y = torch.arange(n) % num_classes
        x = protos[y] * 0.7 + 0.3 * torch.rand(n, 3, size, size, generator=g)
        return (x * 255).round().clamp(0, 255).to(torch.uint8), y

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    return ImageData(
        f"synthetic{num_classes}",
        x_train,
        y_train,
        x_test,
        y_test,
        tuple(f"class{i}" for i in range(num_classes)),
        # the cached runs were keyed with this string (helpers.infra.cache.code_version)
        f"SYNTHETIC: generated by helpers.data.synthetic_cifar(seed={seed}); not CIFAR",
    )


SHAPE_ONLY = "SHAPE ONLY"  # the provenance of :func:`shape_only`'s data


def shape_only(name: str, why: str) -> ImageData:
    """CIFAR ``name``'s shape without its images, for a plan made where the data is not (issue 37): 50,000
    training and 10,000 test images, labels in equal shares, every pixel 0 (one stored byte, broadcast). A
    run's configuration, subset sizes and FLOPs come out right; its cache key does not (it hashes the images).
    ``why`` (the :class:`DataNotFoundError`'s message) is kept in the provenance."""
    if name not in CIFAR:
        raise ValueError(f"unknown dataset {name!r}: expected one of {sorted(CIFAR)}")
    n_labels, pixel = CIFAR[name], torch.zeros((1, 1, 1, 1), dtype=torch.uint8)
    y_train, y_test = torch.arange(50_000) % n_labels, torch.arange(10_000) % n_labels
    x_train, x_test = pixel.expand(50_000, 3, 32, 32), pixel.expand(10_000, 3, 32, 32)
    names = tuple(f"label {i}" for i in range(n_labels))
    return ImageData(name, x_train, y_train, x_test, y_test, names, f"{SHAPE_ONLY}: {why}")


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float in [-1, 1] (*mechanism* methods: x / 255 * 2 - 1)."""
    return x.float().mul_(2.0 / 255.0).sub_(1.0)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bicubic resize of a float batch in [-1, 1] to ``size`` x ``size`` (clamped back to [-1, 1])."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False).clamp_(-1.0, 1.0)


def augment(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random horizontal flip and translation of up to 4 pixels, for a whole uint8 batch at once.

    Translation pads with 4 black pixels and crops at a random offset, as torchvision's
    ``RandomCrop(32, padding=4)`` does image by image."""
    B, C, H, W = x.shape
    flip = torch.rand(B, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (PAD, PAD, PAD, PAD))
    dy = torch.randint(0, 2 * PAD + 1, (B,), generator=generator)
    dx = torch.randint(0, 2 * PAD + 1, (B,), generator=generator)
    rows = (dy[:, None] + torch.arange(H))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(W))[:, None, None, :]
    return padded[torch.arange(B)[:, None, None, None], torch.arange(C)[None, :, None, None], rows, cols]


def batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 100,
    *,
    shuffle: bool = False,
    augmented: bool = False,
    generator: torch.Generator | None = None,
    size: int | None = None,
    device: str | torch.device = "cpu",
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Mini-batches ``(float images in [-1, 1], labels)`` from uint8 tensors, augmented on the fly."""
    n = len(x)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        xb = x[idx]
        if augmented:
            xb = augment(xb, generator)
        xb = to_float(xb.to(device, non_blocking=True))
        if size is not None:
            xb = resize(xb, size)
        yield xb, y[idx].to(device, non_blocking=True)
