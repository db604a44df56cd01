"""The mechanism during training (helpers.figures.training_dynamics): a run keeps its weights at epochs 1, 2,
4, ...; each snapshot is the network a shorter run ends with; the tests and claims per epoch agree with a hand
computation."""

import json

import numpy as np
import pandas as pd
import papermill as pm
import pytest
import torch
from conftest import ROOT

from helpers.figures import common
from helpers.figures import training_dynamics as dynamics
from helpers.figures import universal_layer_tables as layer_tables
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.train import loop as train
from helpers.train import profiles, runs


def test_snapshot_epochs_are_powers_of_two_below_the_last():
    assert runs.snapshot_epochs(1) == []
    assert runs.snapshot_epochs(4) == [1, 2]
    assert runs.snapshot_epochs(8) == [1, 2, 4]  # the last epoch is model.pt itself
    assert runs.snapshot_epochs(10) == [1, 2, 4, 8]
    assert runs.snapshot_epochs(200) == [1, 2, 4, 8, 16, 32, 64, 128]


@pytest.mark.slow
def test_each_snapshot_is_the_network_a_run_of_that_many_epochs_ends_with(synth10):
    """The step schedule depends on the epoch only, so a 2-epoch run ends where the 4-epoch one stood after
    epoch 2: the kept weights must equal it bit for bit, and their cached test accuracy must be the plain
    one."""
    cfg = profiles.train_config("smoke", "vgg16", epochs=4)
    run = runs.get_run(cfg, synth10, progress=False)
    snaps = runs.snapshots(run, synth10)
    assert list(snaps) == [1, 2, 4] and snaps[4] is run and runs.missing_snapshots(run) == []
    assert len({s.key for s in snaps.values()}) == 3 and snaps[2].key == f"{run.key}@2"
    short = runs.get_run(profiles.train_config("smoke", "vgg16", epochs=2), synth10, progress=False)
    a, b = snaps[2].model.state_dict(), short.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], snaps[1].model.state_dict()[k]) for k in a)
    assert snaps[2].test_acc == pytest.approx(short.test_acc, abs=1e-12)
    assert snaps[1].test_acc == train.evaluate(snaps[1].model, synth10.x_test, synth10.y_test)[1]
    tested = json.loads((run.path / "epochs" / "1.json").read_text())
    assert tested["test_acc"] == snaps[1].test_acc and tested["data"] == synth10.fingerprint()
    (run.path / "epochs" / "1.pt").unlink()  # as a run cached before snapshots were kept
    assert list(runs.snapshots(run, synth10)) == [2, 4] and runs.missing_snapshots(run) == [1]


def frame(n_by_epoch: dict, accuracy=(0.7, 0.85, 0.93, 0.94, 0.94), network=0.94) -> pd.DataFrame:
    """A hand-made over_training frame of VGG-16's five taps: n per epoch, the rest fixed."""
    rows = []
    for epoch, n in n_by_epoch.items():
        for tap, a, v in zip(("2", "4", "7", "10", "13"), accuracy, n):
            rows.append(
                dict(
                    epoch=epoch,
                    network=network,
                    tap=tap,
                    accuracy=a,
                    n=v,
                    N_c=1.3,
                    C_s=2.1,
                    SNR_E=2.1 * 1.3 * 10 / v,
                )
            )
    out = pd.DataFrame(rows)
    out.attrs.update(model="vgg16", N_l=10)
    return out


def test_distances_are_the_mean_relative_distance_to_the_papers_layers():
    ref = paper.table("table6", 10).set_index("tap")
    n = [10.0, 10.0, 10.0, 10.0, 10.0]
    d = dynamics.distances(frame({1: n}))
    naive = np.mean([abs(10.0 - ref.loc[t, "n"]) / ref.loc[t, "n"] for t in ref.index])
    assert d.loc[0, "n"] == pytest.approx(naive)
    assert d.loc[0, "N_c"] == pytest.approx(np.mean([abs(1.3 - v) / v for v in ref["N_c"]]))


def test_a_statistic_approaches_the_paper_only_when_its_distance_shrinks_to_the_last_epoch():
    paper_n = [19.6, 18.3, 6.4, 3.8, 1.5]
    far, nearer, near = [40.0] * 5, [30.0] * 5, paper_n
    by = {c.claim.split()[0]: c for c in dynamics.claims_dynamics(frame({1: far, 2: nearer, 4: near}))}
    assert by["n"].verdict == claims.HOLDS and by["n"].kind == claims.ADDITION
    assert by["accuracy"].verdict == claims.FAILS  # unchanged: not closer at the last epoch than at the first
    away = {c.claim.split()[0]: c for c in dynamics.claims_dynamics(frame({1: far, 2: near, 4: nearer}))}
    assert away["n"].verdict == claims.FAILS  # closer than at epoch 1, but moving away since epoch 2
    turned = {
        c.claim.split()[0]: c
        for c in dynamics.claims_dynamics(frame({1: far, 2: near, 4: nearer, 8: nearer}))
    }
    assert turned["n"].verdict == claims.FAILS  # settled at epochs 4-8, but farther than it was at epoch 2
    small = [v * 1.005 for v in paper_n]  # within the margin of each other: no direction either way
    wobble = {
        c.claim.split()[0]: c for c in dynamics.claims_dynamics(frame({1: small, 2: paper_n, 4: small}))
    }
    assert wobble["n"].verdict == claims.FAILS  # 0.005 closer than at epoch 1 is no approach (margin 0.02)
    back = {c.claim.split()[0]: c for c in dynamics.claims_dynamics(frame({1: far, 2: paper_n, 4: small}))}
    assert back["n"].verdict == claims.HOLDS  # 0.005 above its best is within the margin: not a turn
    two = dynamics.claims_dynamics(frame({1: far, 4: near}))
    assert all(c.verdict == claims.UNTESTABLE and "kept epochs" in c.reason for c in two)


def test_one_cycle_snapshots_are_not_shorter_runs_so_the_direction_is_not_testable():
    approaching = frame({1: [40.0] * 5, 2: [30.0] * 5, 4: [19.6, 18.3, 6.4, 3.8, 1.5]})
    approaching.attrs["schedule"] = (
        "onecycle"  # the cpu VGG-16's: epoch 1 in the warm-up, only the last annealed
    )
    cs = dynamics.claims_dynamics(approaching)
    assert all(c.verdict == claims.UNTESTABLE and "not a shorter run" in c.reason for c in cs)
    approaching.attrs["schedule"] = "step"
    assert {c.claim.split()[0]: c.verdict for c in dynamics.claims_dynamics(approaching)}["n"] == claims.HOLDS


def test_the_books_layer_by_layer_claims_epoch_by_epoch_are_the_pages_own():
    """Each column is a claim of the Fig. 5 or Table pages, decided by the same function with the floor
    lifted: on a table whose network passes the floor, the columns are exactly those pages' verdicts."""
    good, bad = [19.6, 18.3, 6.4, 3.8, 1.5], [5, 6, 7, 8, 9]
    t = dynamics.tests_by_epoch(frame({1: bad, 8: good}, accuracy=(0.5, 0.6, 0.7, 0.8, 0.75), network=0.8))
    assert list(t["epoch"]) == [1, 8]
    assert list(t["the noise per filter n falls layer by layer toward the output"]) == [
        claims.FAILS,
        claims.HOLDS,
    ]
    assert list(t["accuracy increases progressively with the layer"]) == [claims.FAILS] * 2  # 0.80 -> 0.75
    assert list(t["the deepest layer reaches the whole network's accuracy"]) == [claims.FAILS] * 2
    assert t["accuracy floor"].iloc[0] == "above 0.752"  # 0.80 >= 0.8 x 0.94
    low = dynamics.tests_by_epoch(frame({1: good}, network=0.5))
    assert low["accuracy floor"].iloc[0] == "below 0.752"
    assert (
        low["the noise per filter n falls layer by layer toward the output"].iloc[0] == claims.HOLDS
    )  # floor lifted
    one = frame({1: good}, network=0.94)
    table = one.reset_index(drop=True)
    table.attrs.update(network=0.94, model="vgg16", N_l=10)  # what the pages hand their claims
    on_page = common.claims_noise(table.rename(columns={"tap": "layer"})) + layer_tables.claims_layers(table)
    assert all(c.verdict != claims.UNTESTABLE for c in on_page)
    row = dynamics.tests_by_epoch(one).iloc[0]
    assert [row[c.claim] for c in on_page] == [c.verdict for c in on_page]  # the claims' own names as columns


def test_the_reference_is_the_papers_table_for_the_network_and_labels_that_ran():
    assert paper.per_layer("vgg16", 10).loc["13", "n"] == 1.5  # Table 6, K = 10
    assert (
        paper.per_layer("vgg16", 100).loc["10", "n"] == paper.table("table1").set_index("tap").loc["10", "n"]
    )
    assert paper.per_layer("vgg6", 10).loc["5", "C_s"] == 2.6 and paper.per_layer("vgg6", 100).empty
    assert paper.per_layer("resnet18", 10).empty
    assert list(paper.per_layer("vgg16", 10).index) == ["2", "4", "7", "10", "13"]  # shallow to deep
    cs = dynamics.claims_dynamics(frame({1: [40] * 5, 2: [30] * 5, 4: [20] * 5}).assign(), "resnet18")
    assert all(c.verdict == claims.UNTESTABLE and "gives no per-layer" in c.reason for c in cs)


@pytest.mark.slow
def test_training_dynamics_page_at_smoke_analyses_every_kept_epoch(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "training-dynamics.ipynb"),
        str(out),
        kernel_name="python3",
        parameters=dict(profile="smoke", epochs=4, taps=["4", "10", "13"]),
        progress_bar=False,
        cwd=str(ROOT),
    )
    nb = json.loads(out.read_text())
    meta = [
        o["metadata"]["mechanism_book"]
        for c in nb["cells"]
        for o in c.get("outputs", [])
        if "mechanism_book" in o.get("metadata", {})
    ]
    shown = [m["claims"] for m in meta if "claims" in m][0]
    assert len(shown) == len(dynamics.STATS) and all(c["kind"] == claims.ADDITION for c in shown)
    assert all(
        c["verdict"] in (claims.HOLDS, claims.FAILS) for c in shown
    )  # three epochs: every test decided
    assert all("epoch 1" in c["evidence"] and "epoch 4" in c["evidence"] for c in shown)
    figures = [f for m in meta if "figure" in m for f in m["figure"]]
    assert len(figures) == 1 and "epochs 1, 2, 4" in figures[0]["caption"] and figures[0]["alt"]
