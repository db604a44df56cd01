"""Shared fixtures: a private cache, no downloads, small generated data (labelled synthetic)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.train import data

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("MECH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MECH_DOWNLOAD", "0")
    monkeypatch.setenv("MECH_DEVICE", "cpu")
    torch.set_num_threads(2)


def write_npz(path: Path, ds: data.ImageData) -> Path:
    np.savez(
        path,
        x_train=ds.x_train.permute(0, 2, 3, 1).numpy(),
        y_train=ds.y_train.numpy(),
        x_test=ds.x_test.permute(0, 2, 3, 1).numpy(),
        y_test=ds.y_test.numpy(),
        class_names=np.array(ds.class_names),
        provenance=np.array(ds.provenance),
    )
    return path


@pytest.fixture
def synth10():
    return data.synthetic_cifar(10, n_train=500, n_test=200, seed=0)


@pytest.fixture
def data_dir(tmp_path, synth10):
    d = tmp_path / "data"
    d.mkdir()
    write_npz(d / "cifar10.npz", synth10)
    return d
