"""The scale ladders (issue 36): the record's schema and provenance as the command writes it, resumed and
merged; the power-law fit against known exponents; the direction rule; the page's steps on a generated
record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import papermill as pm
import pytest

from helpers.book import plan as plan_mod
from helpers.book import scale as command
from helpers.book import scale_ledger
from helpers.figures import scale_plots as plots
from helpers.figures import scale_record as rec
from helpers.figures import scale_verdicts as sv
from helpers.method import powerlaw

ROOT = Path(__file__).resolve().parents[1]


def test_fit_recovers_a_known_exponent_within_its_standard_error():
    rng = np.random.default_rng(0)
    x = np.repeat([16.0, 32, 64, 128, 256], 3)
    y = 3.0 * x**-0.7 * np.exp(rng.normal(0, 0.05, x.size))
    law = powerlaw.fit(x, y)
    assert law.n == 15 and law.distinct == 5 and 0 < law.se < 0.05
    assert abs(law.exponent - 0.7) < 3 * law.se
    exact = powerlaw.fit(x, 3.0 * x**-0.7)
    assert exact.exponent == pytest.approx(0.7) and exact.se == pytest.approx(0, abs=1e-9)
    assert exact.at(100.0) == pytest.approx(3.0 * 100**-0.7)
    x_at, lo, hi = powerlaw.reach(exact, 3.0 * 1000**-0.7)
    assert x_at == pytest.approx(1000) and lo == pytest.approx(1000) == hi  # no uncertainty


def test_fit_needs_two_widths_and_gives_no_error_with_two():
    assert powerlaw.fit([32, 32], [1.0, 2.0]) is None
    two = powerlaw.fit([32, 64], [2.0, 1.0])
    assert two.exponent == pytest.approx(1.0) and math.isnan(two.se)
    assert powerlaw.direction(two, 0.5) == powerlaw.UNKNOWN  # no uncertainty to judge a direction by


@pytest.mark.parametrize(
    "slope, target, expected",
    [
        (-0.7, 0.01, powerlaw.TOWARDS),  # falling towards a smaller paper value
        (-0.7, 10.0, powerlaw.AWAY),  # falling, the paper's is larger
        (0.4, 10.0, powerlaw.TOWARDS),
        (0.4, 0.01, powerlaw.AWAY),
    ],
)
def test_direction_follows_the_slope_s_sign_against_the_paper_s_side(slope, target, expected):
    rng = np.random.default_rng(1)
    x = np.repeat([16.0, 32, 64], 2)
    law = powerlaw.fit(x, x**slope * np.exp(rng.normal(0, 0.01, x.size)))
    assert powerlaw.direction(law, target) == expected
    at = powerlaw.reach(law, target)[0]
    assert (expected == powerlaw.TOWARDS) == (at > 64)  # reached beyond the widest only when heading there


def test_t_quantile_matches_the_tables():
    for dof, t in ((1, 12.706), (2, 4.303), (4, 2.776), (30, 2.042)):
        assert powerlaw.t_quantile(dof) == pytest.approx(t, rel=2e-3)


def test_a_slope_within_its_uncertainty_is_flat():
    rng = np.random.default_rng(2)
    x = np.repeat([16.0, 32, 64], 3)
    noisy = powerlaw.fit(x, np.exp(rng.normal(0, 0.3, x.size)) * x**0.01)
    assert abs(noisy.slope) <= powerlaw.t_quantile(noisy.n - 2) * noisy.se
    assert powerlaw.direction(noisy, 0.01) == powerlaw.FLAT
    assert "flat" in powerlaw.wording(powerlaw.FLAT, math.nan, "filters")
    assert "worse" in powerlaw.wording(powerlaw.AWAY, math.nan, "filters")


def test_the_command_writes_a_record_with_provenance_and_resumes(data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    path = tmp_path / "scale.json"
    record = command.run_ladder([(0.125, 1, 0)], profile="smoke", path=path, speed_batches=1)
    (p,) = record["points"]
    assert rec.read(path) == record  # written, and valid by its schema
    assert p["profile"] == "smoke" and p["run_key"] and 0 <= p["network"] <= 1
    assert [t["tap"] for t in p["taps"]] == ["2", "4", "7", "10", "13"]
    prov = p["provenance"]
    assert prov["commit"] and prov["machine"] and prov["date"] and prov["speed_img_s"] > 0
    assert prov["point_minutes"] > 0 and p["probe"]["solver"] == "sgd" and p["probe"]["epochs"] > 0
    assert p["taps"][-1]["SNR_E"] == pytest.approx(
        p["taps"][-1]["C_s"] * p["taps"][-1]["N_c"] * 10 / p["taps"][-1]["n"]
    )  # universal Eq. (4)
    again = command.run_ladder([(0.125, 1, 0)], profile="smoke", path=path, speed_batches=0)
    assert again == record and "in the record already" in capsys.readouterr().out
    bad = dict(record, points=[dict(p, provenance={k: v for k, v in prov.items() if k != "machine"})])
    with pytest.raises(ValueError, match="provenance.machine"):
        rec.write(bad, tmp_path / "bad.json")


def generated(path, exponent_n=0.5, exponent_error=0.3, seeds=(0, 1)):
    """A record of the ladder's shape with known power laws in N_f (n ~ N_f^-exponent_n, the network's error
    ~ N_f^-exponent_error) and flat in epochs, written by the module's own writer."""
    rng = np.random.default_rng(3)
    record = rec.empty()
    for width, epochs, seed in [
        (0.125, 6, 0),
        (0.25, 6, 0),
        (0.25, 6, 1),
        (0.5, 6, 0),
        (0.25, 12, 0),
        (0.25, 24, 0),
    ]:
        if seed not in seeds:
            continue
        taps = []
        for tap, base in sv.PAPER_N_F.items():
            if tap == sv.NETWORK:
                continue
            N_f = int(base * width)
            noise = math.exp(rng.normal(0, 0.01))
            n, N_c, C_s = 40 * N_f**-exponent_n * noise, 1.2 * math.exp(rng.normal(0, 0.05)), 1.5
            taps.append(
                dict(
                    tap=tap,
                    N_f=N_f,
                    F_s=1,
                    accuracy=0.8,
                    n=n,
                    N_c=N_c,
                    C_s=C_s,
                    signal=1.0,
                    noise_E=1.0,
                    SNR_E=C_s * N_c * 10 / n,
                )
            )
        error = 2 * (512 * width) ** -exponent_error * math.exp(rng.normal(0, 0.01))
        record = rec.merge(
            record,
            dict(
                id=rec.point_id("cpu", width, epochs, seed, "generated"),
                profile="cpu",
                model="vgg16",
                dataset="cifar10",
                width=width,
                epochs=epochs,
                seed=seed,
                run_key=f"key{width}{epochs}{seed}",
                network=1 - error,
                probe=command.probe_protocol(),
                provenance=dict(
                    commit="0" * 40,
                    dirty=False,
                    date="2026-12-04 00:00 UTC",
                    machine="generated",
                    device="generated",
                    speed_img_s=100.0,
                    point_minutes=1.0,
                ),
                taps=taps,
            ),
        )
    rec.write(record, path)
    return path


def test_the_page_s_fits_recover_the_generated_exponents(tmp_path):
    frame = sv.load(generated(tmp_path / "scale.json"))
    assert frame.attrs["points"] == 6 and frame.attrs["profile"] == "cpu"
    assert sv.bases(frame) == (6, 0.25)
    fit = sv.fits(frame).set_index(["ladder", "tap", "statistic"])
    for tap in ("2", "13"):
        r = fit.loc[("width", tap, "n")]
        assert r.points == 4 and abs(r.exponent - 0.5) < 3 * r.se + 0.01
    net = fit.loc[("width", sv.NETWORK, "error")]
    assert abs(net.exponent - 0.3) < 3 * net.se + 0.01
    # n falls with width towards the paper's 1.5 at layer 13; N_c is flat in width and epochs
    assert fit.loc[("width", "13", "n"), "direction"] == powerlaw.TOWARDS
    assert fit.loc[("width", "13", "N_c"), "direction"] == powerlaw.FLAT
    assert fit.loc[("budget", "13", "n"), "direction"] == powerlaw.FLAT
    reach = fit.loc[("width", "13", "n")]
    assert reach.reach == pytest.approx((40 / 1.5) ** (1 / 0.5), rel=0.15)  # where 40 N_f^-0.5 = 1.5
    heads = sv.headline(sv.fits(frame))
    assert len(heads) == 11 and heads["standard error"].notna().all()  # error at 5 taps and the network, n
    verdicts = {c.claim: c.verdict for c in sv.claims_scale(sv.fits(frame))}
    assert verdicts["n at layer 13 moves towards the paper's value with the width"] == "holds"
    assert verdicts["N_c at layer 13 moves towards the paper's value with the width"] == "not testable here"
    assert plots.plot_scale(frame, "width") is not None and plots.plot_scale(frame, "budget") is not None


def test_a_build_outside_the_record_s_spread_is_flagged(tmp_path):
    frame = sv.load(generated(tmp_path / "scale.json"))
    same = frame[(frame["width"] == 0.25) & (frame["epochs"] == 6) & (frame["tap"] != sv.NETWORK)]
    build = same[same["seed"] == 0].assign(seed=0).copy()
    build.attrs.update(width=0.25, epochs=6, profile="cpu")
    assert sv.overlay(build, frame)["inside"].all()
    far = build.assign(n=build["n"] * 2)
    far.attrs.update(build.attrs)
    table = sv.overlay(far, frame)
    assert not table.set_index(["tap", "statistic"]).loc[("13", "n"), "inside"]
    assert "outside the record's spread" in sv.overlay_note(table)
    other = build.copy()
    other.attrs.update(width=0.125, epochs=1, profile="smoke")
    assert "no point at this build's recipe" in sv.overlay_note(sv.overlay(other, frame))


def test_no_record_is_none(tmp_path):
    assert sv.load(tmp_path / "none.json") is None and sv.fits(None) is None
    assert json.loads(json.dumps(rec.empty()))["points"] == []


def test_plan_lists_the_gpu_ladder_at_paper_and_only_the_book_s_networks_at_cpu(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    paper_plan = plan_mod.plan("paper", ["scale-verdicts"])
    ladder = {(r.config.width, r.config.epochs, r.config.seed) for r in paper_plan.runs}
    assert set(command.GPU_LADDER) <= ladder and all(r.hours > 0 for r in paper_plan.runs)
    cpu_plan = plan_mod.plan("cpu", ["scale-verdicts"])  # the ladder comes from the record there
    assert {(r.config.width, r.config.epochs, r.config.seed) for r in cpu_plan.runs} == {
        (0.25, 6, 0),
        (0.25, 6, 1),
    }


def test_the_page_runs_at_smoke_on_a_generated_record(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    path = generated(tmp_path / "scale.json")
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "scale-verdicts.ipynb"),
        str(out),
        parameters=dict(profile="smoke", record=str(path)),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(ROOT),
    )
    text = json.dumps(json.loads(out.read_text()))
    assert "6 networks of the `cpu` ladder" in text and "no point at this build" in text
    assert "n at layer 13 moves towards the paper" in text and "Figure 2." in text


@pytest.mark.parametrize(
    "claim, expected",
    [
        ("the noise per filter n falls layer by layer toward the output", ("n", "13")),
        ("n decreases with the layer until the accuracy saturates", ("n", "13")),
        ("layer-13 clusters are of size about 3, most often exactly 3", ("C_s", "13")),
        ("each layer-13 filter has one cluster", ("N_c", "13")),
        ("SNR > 5 for a typical input label (layer 13)", ("SNR_E", "13")),
        ("accuracy saturates from layer 10 on", ("error", "10")),
        ("accuracy rises with the layer", ("error", sv.NETWORK)),
        ("VGG-6's noise falls layer by layer toward the output", None),  # not the ladder's network
        ("the test error at 10 increases approximately linearly with K", None),  # the label count
        ("each label appears about equally often in layer 13's clusters", None),
        ("the noise n rises in the layers right after a max pooling (layers 8 and 11)", None),  # not read
        ("layer 10 has more noise than layers 13 and 7", ("n", "10")),
    ],
)
def test_a_failing_claim_is_read_as_the_statistic_it_names(claim, expected):
    assert scale_ledger.statistic_of(claim) == expected


def test_the_overview_section_gives_each_failing_claim_its_direction_and_counts_them(tmp_path):
    path = generated(tmp_path / "scale.json")
    rows = [
        (
            "p",
            "P",
            dict(
                claim="the noise per filter n falls layer by layer toward the output", verdict="does not hold"
            ),
        ),
        ("p", "P", dict(claim="each layer-13 filter has one cluster", verdict="does not hold")),
        (
            "p",
            "P",
            dict(claim="VGG-6's noise falls layer by layer toward the output", verdict="does not hold"),
        ),
        ("p", "P", dict(claim="accuracy rises with the layer", verdict="holds")),  # holds: not listed
    ]
    text = "\n".join(scale_ledger.section(rows, path))
    assert "heading to the paper's value" in text and "does not move with scale" in text
    assert "Of the 3 paper claims that do not hold, with the width: 1 towards the paper, 1 flat" in text
    assert "1 not measured" in text and "accuracy rises" not in text
    vgg6 = next(line for line in text.splitlines() if line.startswith("| VGG-6's noise"))
    assert "nan" not in vgg6 and "| – |" in vgg6 and scale_ledger.OFF_LADDER in vgg6
    none = "\n".join(scale_ledger.section(rows, tmp_path / "absent.json"))
    assert "no scale record yet" in none and "3 not measured" in none


def test_a_new_record_executes_the_scale_page_again_and_no_other(tmp_path, monkeypatch):
    """The build's key of the scale page covers the committed record (``helpers.book.generated.RECORDS``): a
    cached build with a record measured since re-executes that page, and only it."""
    from helpers.book import generated

    assert [ROOT / r for r in generated.RECORDS["scale-verdicts"]] == [rec.default_path()]
    monkeypatch.setattr(generated, "repo_root", lambda: tmp_path)
    scale_page, other = (
        ROOT / "notebooks" / f"{n}.ipynb" for n in ("scale-verdicts", "mechanism-fig2-layer-accuracy")
    )
    before = [generated.notebook_key(p, {"profile": "cpu"}) for p in (scale_page, other)]
    (tmp_path / "results").mkdir()
    rec.write(rec.empty(), tmp_path / "results" / "scale.json")
    after = [generated.notebook_key(p, {"profile": "cpu"}) for p in (scale_page, other)]
    assert after[0] != before[0] and after[1] == before[1]
