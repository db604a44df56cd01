"""ImageNet's validation images for *universal* Table 3: an ImageFolder split 40,000 / 10,000 for the FC
layers, and its mini-batches. Not training code (the pretrained network is read, not trained), so not part of
a run's cache key.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import torch

from helpers.train.data import DataNotFoundError, to_float


def imagenet_split(folder: str | os.PathLike, n_train: int = 40_000, seed: int = 0, size: int = 224):
    """ImageNet validation images from an ImageFolder, split for the FC layers as in *universal*.

    *universal* trains each stage's FC layer on 40,000 of the 50,000 validation images and
    tests on the other 10,000. Returns ``(train, test, class_names)``, two torch ``Subset`` s
    whose items are ``(uint8 image 3 x size x size, label)`` (resize to size*256/224, centre crop)."""
    import torchvision
    from torchvision.transforms import v2 as T

    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(
            f"ImageNet folder {folder.resolve()} not found: give the path of an ImageFolder (one sub-folder "
            f"of images per class, e.g. ILSVRC2012 'val' sorted into its 1000 class folders). ImageNet is "
            f"not on the project's machines; it must come from image-net.org under its terms."
        )
    tf = T.Compose(
        [
            T.PILToTensor(),
            T.Resize(int(round(size * 256 / 224)), interpolation=T.InterpolationMode.BICUBIC, antialias=True),
            T.CenterCrop(size),
        ]
    )
    ds = torchvision.datasets.ImageFolder(str(folder), transform=tf)
    n = len(ds)
    if not 0 < n_train < n:
        raise ValueError(f"n_train={n_train} must lie between 1 and {n - 1} (the folder has {n} images)")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    train = torch.utils.data.Subset(ds, perm[:n_train])
    test = torch.utils.data.Subset(ds, perm[n_train:])
    return train, test, tuple(ds.classes)


def folder_batches(
    dataset, batch_size: int = 100, num_workers: int = 0, device: str | torch.device = "cpu"
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Mini-batches ``(float images in [-1, 1], labels)`` from a dataset of uint8 images (e.g. ImageNet)."""
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers
    )
    for xb, yb in loader:
        yield to_float(xb.to(device)), yb.to(device)
