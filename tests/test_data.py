import pickle

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA

from helpers.train import data, imagenet


def test_npz_layout_shapes_and_range(data_dir, synth10):
    ds = data.load_cifar("cifar10", root=data_dir)
    assert ds.x_train.shape == (500, 3, 32, 32) and ds.x_train.dtype == torch.uint8
    assert ds.x_test.shape == (200, 3, 32, 32) and ds.y_test.dtype == torch.int64
    assert torch.equal(ds.x_train, synth10.x_train) and torch.equal(ds.y_test, synth10.y_test)
    assert ds.synthetic and ds.num_classes == 10
    x = data.to_float(torch.tensor([[[[0, 255, 51]]]], dtype=torch.uint8))
    assert x.flatten().tolist() == pytest.approx([-1.0, 1.0, 51 / 255 * 2 - 1])


def test_mech_data_environment_variable(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    assert data.load_cifar("cifar10").num_classes == 10


def _write_torchvision_layout(root, ds, name):
    if name == "cifar10":
        base, train_files, test_file, meta, key, names = (
            root / "cifar-10-batches-py",
            [f"data_batch_{i}" for i in range(1, 6)],
            "test_batch",
            "batches.meta",
            "labels",
            "label_names",
        )
    else:
        base, train_files, test_file, meta, key, names = (
            root / "cifar-100-python",
            ["train"],
            "test",
            "meta",
            "fine_labels",
            "fine_label_names",
        )
    base.mkdir(parents=True)
    xs = np.array_split(ds.x_train.reshape(len(ds.x_train), -1).numpy(), len(train_files))
    ys = np.array_split(ds.y_train.numpy(), len(train_files))
    for f, x, y in zip(train_files, xs, ys):
        pickle.dump({"data": x, key: y.tolist()}, open(base / f, "wb"))
    pickle.dump(
        {"data": ds.x_test.reshape(len(ds.x_test), -1).numpy(), key: ds.y_test.tolist()},
        open(base / test_file, "wb"),
    )
    pickle.dump({names: list(ds.class_names)}, open(base / meta, "wb"))


@pytest.mark.parametrize("name,n", [("cifar10", 10), ("cifar100", 100)])
def test_torchvision_layout(tmp_path, name, n):
    ds = data.synthetic_cifar(n, n_train=300, n_test=100, seed=1)
    _write_torchvision_layout(tmp_path, ds, name)
    got = data.load_cifar(name, root=tmp_path)
    assert torch.equal(got.x_train, ds.x_train) and torch.equal(got.y_train, ds.y_train)
    assert torch.equal(got.x_test, ds.x_test) and got.class_names == ds.class_names


def test_missing_data_directory_says_what_to_put_where(tmp_path):
    with pytest.raises(data.DataNotFoundError) as e:
        data.load_cifar("cifar100", root=tmp_path / "nowhere")
    msg = str(e.value)
    assert "nowhere" in msg and "cifar100.npz" in msg and "cifar-100-python" in msg and "MECH_DATA" in msg


def test_bad_inputs_raise_clear_errors(tmp_path, synth10):
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_cifar("cifar1000", root=tmp_path)
    (tmp_path / "cifar10.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable"):
        data.load_cifar("cifar10", root=tmp_path)


def test_nested_k_subsets(synth10):
    for K in (0, 11, 2.5):
        with pytest.raises(ValueError, match="K="):
            data.subset(synth10, K)
    small, big = data.subset(synth10, 3), data.subset(synth10, 6)
    assert set(small.y_train.tolist()) == {0, 1, 2} and set(big.y_test.tolist()) == set(range(6))
    assert small.class_names == synth10.class_names[:3]
    # nested: every image of the 3-label set is in the 6-label set, with the same label
    big_rows = {(x.numpy().tobytes(), int(y)) for x, y in zip(big.x_train, big.y_train)}
    assert all((x.numpy().tobytes(), int(y)) in big_rows for x, y in zip(small.x_train, small.y_train))
    limited = data.subset(synth10, 5, n_train=100, n_test=50)
    assert torch.bincount(limited.y_train).tolist() == [20] * 5 and len(limited.y_test) == 50


def test_drawn_k_subsets_take_random_labels_renumbered_in_order(synth10):
    """*universal*'s "K labels from CIFAR-100" drawn at random (issue 34: labels 0..K-1 made cat and dog
    enter together at K = 6): each draw its own K labels, renumbered 0..K-1 in increasing order, with every
    image of those labels and their names."""
    draws = [data.drawn_labels(10, 3, d) for d in range(6)]
    assert all(len(set(d)) == 3 and d == sorted(d) for d in draws) and len({tuple(d) for d in draws}) > 1
    assert data.drawn_labels(10, 3, None) == [0, 1, 2] and data.drawn_labels(10, 3, 4) == draws[4]
    labels = draws[1]
    got = data.subset(synth10, 3, draw=1)
    assert got.class_names == tuple(synth10.class_names[i] for i in labels) and got.name.endswith("-K3-draw1")
    for new, old in enumerate(labels):
        mine = synth10.x_train[synth10.y_train == old]
        assert torch.equal(got.x_train[got.y_train == new], mine)
    assert data.subset(synth10, 10, draw=3).name == synth10.name  # all labels: the full dataset


def test_augment_is_a_flip_and_shift_of_each_image():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8, generator=g)
    out = data.augment(x, g)
    assert out.shape == x.shape and out.dtype == torch.uint8
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    for img, src, pad_src in zip(out, x, padded):
        candidates = [torch.nn.functional.pad(s, (4, 4, 4, 4)) for s in (src, src.flip(2))]
        assert any(
            torch.equal(img, c[:, dy : dy + 32, dx : dx + 32])
            for c in candidates
            for dy in range(9)
            for dx in range(9)
        )
    assert not torch.equal(out, x)  # something moved


def test_batches_and_resize(synth10):
    xb, yb = next(
        data.batches(
            synth10.x_train,
            synth10.y_train,
            50,
            shuffle=True,
            augmented=True,
            generator=torch.Generator().manual_seed(0),
            size=64,
        )
    )
    assert xb.shape == (50, 3, 64, 64) and xb.dtype == torch.float32
    assert xb.min() >= -1 and xb.max() <= 1 and len(yb) == 50


@pytest.mark.skipif(not (SHARED_DATA / "cifar10.npz").is_file(), reason="the lossy CIFAR-10 copy is not here")
def test_shared_cifar10_copy():
    ds = data.load_cifar("cifar10", root=SHARED_DATA)
    assert ds.x_train.shape == (50000, 3, 32, 32) and ds.x_test.shape == (10000, 3, 32, 32)
    assert torch.bincount(ds.y_train).tolist() == [5000] * 10 and not ds.synthetic
    assert "LOSSY" in ds.provenance


def test_imagenet_folder_split(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in ("n01", "n02", "n03"):
        (tmp_path / "val" / c).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(
                tmp_path / "val" / c / f"{i}.png"
            )
    train, test, classes = imagenet.imagenet_split(tmp_path / "val", n_train=9, seed=0, size=32)
    assert len(train) == 9 and len(test) == 3 and classes == ("n01", "n02", "n03")
    x, y = train[0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.uint8
    xb, yb = next(imagenet.folder_batches(test, batch_size=3))
    assert xb.shape == (3, 3, 32, 32) and xb.min() >= -1 and xb.max() <= 1
    with pytest.raises(data.DataNotFoundError, match="ImageFolder"):
        imagenet.imagenet_split(tmp_path / "missing")
    with pytest.raises(ValueError, match="n_train"):
        imagenet.imagenet_split(tmp_path / "val", n_train=12)
