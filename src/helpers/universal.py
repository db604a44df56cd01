"""The tables and figures of *universal* (Meir et al., Sci. Rep. 14:5881, 2024) as computations on a
:class:`~helpers.pages.Page`: layer tables (Tables 1-6), per-label signal and noise (Fig. 4),
error against K with its linear fit (Figs. 5-7), AFCC, and EfficientNet-B0's shortened stages.
Each function returns ``None`` on a skipped page.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import afcc, filters, paper, probes, snr
from .mechanism import TOL, clusters_are_blocks, rises

PAPER_K = {"table4": (10, 20, 40, 60, 100), "table5": (10, 20, 40, 60, 100), "table6": (3, 6, 8, 10)}
LAYER_OF_K_FIT = {"vgg16": "10", "efficientnet_b0": "stage 9"}


def as_table(x) -> pd.DataFrame | None:
    """A study's Table-1 format (a DataFrame passes through; ``None`` stays ``None``)."""
    if x is None or isinstance(x, pd.DataFrame):
        return x
    return x.table()


def paper_rows(name: str, K: int) -> pd.DataFrame:
    """A table of *universal* for one K (Tables 4/5 at K = 100 are Tables 1/2)."""
    if K == 100 and name in ("table4", "table5"):
        name = "table1" if name == "table4" else "table2"
    return paper.table(name, None if name in ("table1", "table2", "table3") else K)


def layer_table(study, name: str, K: int) -> pd.DataFrame | None:
    """This run's Table-1 columns beside the paper's, tap by tap ("paper" suffix on the paper's)."""
    if study is None:
        return None
    mine = as_table(study)[["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]]
    ref = paper_rows(name, K)[["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]]
    out = mine.merge(ref, on="tap", how="left", suffixes=("", " paper"))
    return out[["tap"] + [c for pair in (("N_f", "N_f paper"), ("F_s", "F_s paper"), ("FC_s", "FC_s paper"),
                                         ("accuracy", "accuracy paper"), ("n", "n paper"), ("N_c", "N_c paper"),
                                         ("C_s", "C_s paper")) for c in pair]]


def compare_layers(mine, ref: pd.DataFrame, prefix: str = "", columns=("accuracy", "n", "N_c", "C_s"),
                   taps=None) -> list[tuple]:
    """``columns`` tap by tap, the paper's table ``ref`` against this run's ``mine`` (a study or its table;
    ``None`` on a skipped page); ``taps`` limits the rows."""
    ref = ref.set_index("tap")
    if taps is not None:
        ref = ref[ref.index.isin([str(t) for t in taps])]
    mine = as_table(mine)
    m = None if mine is None else mine.set_index("tap")
    return [(f"{prefix}{tap}: {col}", float(ref.loc[tap, col]), None if m is None else float(m.loc[tap, col]))
            for tap in ref.index if m is None or tap in m.index for col in columns]


def compare_sweep(sweep: pd.DataFrame | None, name: str, Ks) -> list[tuple]:
    """:func:`compare_layers` for every K of a sweep that the paper has."""
    rows = []
    for K in Ks:
        try:
            ref = paper_rows(name, K)
        except KeyError:
            continue
        rows += compare_layers(None if sweep is None else sweep[sweep["K"] == K], ref, f"K={K}, ")
    return rows


def Ks_for(page, name: str, Ks=None) -> list[int]:
    """The K values of a sweep page: the knob, else :func:`default_Ks`; checked."""
    N = page.full.num_classes if page.full is not None else (10 if page.dataset == "cifar10" else 100)
    return check_Ks(default_Ks(name, N) if Ks is None else Ks, N)


def claims_layers(t, model: str = "vgg16") -> list[tuple] | None:
    """Accuracy rises with the layer up to saturation; n falls with the layer (deepest vs shallowest)."""
    t = as_table(t)
    if t is None:
        return None
    t = t.iloc[::-1]  # shallow -> deep
    word = "stage" if model == "efficientnet_b0" else "layer"
    return [(f"accuracy rises with the {word} (up to saturation, within 0.01)", rises(t["accuracy"]),
             ", ".join(f"{r.tap}: {r.accuracy:.3f}" for r in t.itertuples())),
            (f"n falls with the {word} (deepest below shallowest)", t["n"].iloc[-1] < t["n"].iloc[0],
             ", ".join(f"{r.tap}: {r.n:.1f}" for r in t.itertuples()))]


# --- K-label subsets: Tables 4-6, Figs. 5-7 -------------------------------------------------------

def check_Ks(Ks, num_labels: int) -> list[int]:
    Ks = sorted({int(k) for k in Ks})
    bad = [k for k in Ks if not 2 <= k <= num_labels]
    if bad or not Ks:
        raise ValueError(f"K values {bad or Ks} are out of range: each K needs 2 <= K <= {num_labels} labels")
    return Ks


def default_Ks(name: str, num_labels: int) -> list[int]:
    """The paper's K values; on a dataset with fewer labels (CIFAR-10 standing in for CIFAR-100), VGG-16's
    sweep (Table 4) becomes Table 6's K = 3, 6, 8, 10, which the paper ran on CIFAR-10, and EfficientNet-B0's
    (Table 5), which the paper ran on CIFAR-100 only, keeps Table 5's fractions of the labels (0.1 to 1):
    K = 2, 4, 6, 10 (K = 1 has nothing to learn). Their smaller subsets also train in less time (the largest K
    is the full run)."""
    Ks = [k for k in PAPER_K[name] if k <= num_labels]
    if len(Ks) >= 3:
        return Ks
    if name == "table5":
        return sorted({round(k * num_labels / 100) for k in PAPER_K[name]} - {0, 1})
    return list(PAPER_K["table6"])


def k_sweep(page, Ks) -> pd.DataFrame | None:
    """The Table-1 columns of the page's model for every K-label subset (one trained network per K)."""
    if page.skipped:
        return None
    frames = []
    for K in Ks:
        s = page.study(K=K)
        frames.append(s.table().assign(K=K, network=s.run.test_acc))
    return pd.concat(frames, ignore_index=True)


def linear_fit(K, error) -> dict:
    """Least-squares line error = slope K + intercept, its R², and the extrapolation to K = 1."""
    K, error = np.asarray(K, float), np.asarray(error, float)
    slope, intercept = np.polyfit(K, error, 1)
    pred = intercept + slope * K
    ss = ((error - error.mean()) ** 2).sum()
    r2 = 1 - ((error - pred) ** 2).sum() / ss if ss > 0 else 1.0
    return dict(slope=float(slope), intercept=float(intercept), r2=float(r2), error_at_K1=float(intercept + slope))


def error_vs_K(sweep: pd.DataFrame | None, tap: str, name: str) -> tuple[pd.DataFrame, dict] | tuple[None, None]:
    if sweep is None:
        return None, None
    e = sweep[sweep["tap"] == tap][["K", "accuracy"]].assign(error=lambda d: 1 - d["accuracy"])
    paper_err = []
    for K in e["K"]:
        try:
            ref = paper_rows(name, int(K)).set_index("tap")
            paper_err.append(1 - float(ref.loc[tap, "accuracy"]) if tap in ref.index else np.nan)
        except KeyError:
            paper_err.append(np.nan)
    e = e.assign(paper_error=paper_err).reset_index(drop=True)
    return e, linear_fit(e["K"], e["error"]) if len(e) >= 2 else None


def paper_fit(name: str, tap: str) -> dict:
    """The linear fit of the paper's own errors (Tables 4-6) at ``tap``."""
    Ks = PAPER_K[name]
    err = [1 - float(paper_rows(name, K).set_index("tap").loc[tap, "accuracy"]) for K in Ks]
    return linear_fit(Ks, err)


def compare_fit(fit: dict | None, name: str, tap: str) -> list[tuple]:
    ref = paper_fit(name, tap)
    return [(f"{k} of the error at {tap} against K", ref[k], None if fit is None else fit[k])
            for k in ("slope", "intercept", "r2", "error_at_K1")]


def claims_K(sweep: pd.DataFrame | None, fit: dict | None, tap: str, model: str = "vgg16") -> list[tuple] | None:
    """C_s and N_c vary little with K; the error is linear in K; and the layer claims at the largest K."""
    if sweep is None:
        return None
    at = sweep[sweep["tap"] == tap]
    cv = lambda c: float(at[c].std(ddof=0) / at[c].mean()) if at[c].mean() else float("nan")
    rows = [(f"C_s at {tap} varies little with K (relative spread < 0.3)", cv("C_s") < 0.3,
             ", ".join(f"K={r.K}: {r.C_s:.2f}" for r in at.itertuples())),
            (f"N_c at {tap} varies little with K (relative spread < 0.3)", cv("N_c") < 0.3,
             ", ".join(f"K={r.K}: {r.N_c:.2f}" for r in at.itertuples()))]
    if fit:
        rows.append((f"the error at {tap} grows about linearly with K (R² >= 0.9, slope > 0)",
                     fit["r2"] >= 0.9 and fit["slope"] > 0, f"slope {fit['slope']:.4f}, R² {fit['r2']:.3f}"))
    top = sweep["K"].max()
    return rows + [(f"K={top}: {c}", ok, e) for c, ok, e in claims_layers(sweep[sweep["K"] == top], model)]


# --- Fig. 4: per-label signal and noise -----------------------------------------------------------

def label_snr(study, tap: str) -> tuple[pd.DataFrame, pd.DataFrame, dict] | tuple[None, None, None]:
    """Per-label signal, noise_I, noise_I + noise_E: Boolean (A) and field-weighted (B), and Eqs. (1)-(3)."""
    if study is None:
        return None, None, None
    la = study.layers[tap]
    est = snr.snr_estimates(la.N_f, la.N_l, la.n, la.N_c, la.C_s) if la.sizes else None
    return snr.per_label(la), snr.per_label(la, weighted=True), est


def compare_fig4(A, B, est) -> list[tuple]:
    ref = paper.FIG4
    mean = lambda d, c: None if d is None else float(d[c].mean())
    rows = []
    for key, d in (("boolean", A), ("fields", B)):
        rows += [(f"{key}: mean signal", ref[key]["signal"], mean(d, "signal")),
                 (f"{key}: mean noise_I", ref[key]["noise_I"], mean(d, "noise_I")),
                 (f"{key}: mean noise_I + noise_E", ref[key]["noise_I_plus_E"], mean(d, "noise_I_plus_E"))]
    if est is not None or A is None:
        rows += [("Eq. (1) signal = C_s N_c N_f / N_l", None, None if est is None else est["signal"]),
                 ("Eq. (2) noise_I", None, None if est is None else est["noise_I"]),
                 ("Eq. (3) noise_E = n N_f / N_l²", None, None if est is None else est["noise_E"])]
    return rows


def claims_fig3(view: dict | None, study) -> list[tuple] | None:
    """The shown filter's clusters are blocks of ones; the filter is typical of its layer."""
    if view is None:
        return None
    la = study.layers[view["tap"]]
    return [("the filter's clusters are blocks of ones of its clipped matrix", clusters_are_blocks([view]),
             "checked element by element"),
            ("the filter's clusters are small against the 100 labels (mean size < 10)",
             bool(view["clusters"]) and np.mean([len(c) for c in view["clusters"]]) < 10,
             f"sizes {[len(c) for c in view['clusters']]}; layer C_s {la.C_s:.2f}")]


def claims_fig4(A, B, est) -> list[tuple] | None:
    if A is None:
        return None
    return [("mean Boolean signal equals Eq. (1)", est is not None and abs(A["signal"].mean() - est["signal"]) < 1e-6
             * max(1, est["signal"]), f"{A['signal'].mean():.3f} vs {est and est['signal']:.3f}"),
            ("mean Boolean noise_E equals Eq. (3)", est is not None and abs(A["noise_E"].mean() - est["noise_E"]) < 1e-6
             * max(1, est["noise_E"]), f"{A['noise_E'].mean():.3f} vs {est and est['noise_E']:.3f}"),
            ("signal exceeds noise_I + noise_E on average (Boolean and fields)",
             A["signal"].mean() > A["noise_I_plus_E"].mean() and B["signal"].mean() > B["noise_I_plus_E"].mean(),
             f"A: {A['signal'].mean():.2f} vs {A['noise_I_plus_E'].mean():.2f}; "
             f"B: {B['signal'].mean():.2f} vs {B['noise_I_plus_E'].mean():.2f}")]


def equation_slips() -> pd.DataFrame:
    """Where *universal*'s text and its equations disagree (computed, not quoted)."""
    t1 = paper.table("table1").set_index("tap")
    r = t1.loc["4"]
    eq3 = snr.snr_estimates(r.N_f, 100, r.n, r.N_c, r.C_s)["noise_E"]
    eq3_512 = snr.snr_estimates(512, 100, r.n, r.N_c, r.C_s)["noise_E"]
    return pd.DataFrame([dict(where="noise_E at VGG-16 layer 4 (CIFAR-100)", text="≈ 29",
                              equation=f"Eq. (3) with N_f = {int(r.N_f)}: {eq3:.1f}",
                              explanation=f"29 is Eq. (3) with N_f = 512 ({eq3_512:.1f}); layer 4 has N_f = 128")])


# --- AFCC -------------------------------------------------------------------------------------------

def afcc_experiment(study, taps, seed: int = 0) -> pd.DataFrame | None:
    """AFCC on each of ``taps``: weights kept by clusters vs the estimate ``N_f F_s C_s N_c``, accuracy
    before, after retraining with the zeros held, and with the same number of weights kept at random."""
    if study is None:
        return None
    train_f, train_y = study.features("train")
    test_f, test_y = study.features("test")
    return pd.DataFrame([afcc_row(tap, study.probes[tap], study.layers[tap], (train_f[tap], train_y),
                                  (test_f[tap], test_y), seed) for tap in taps])


def afcc_row(tap: str, probe, la, train, test, seed: int = 0) -> dict:
    """One tap's AFCC: mask from the clusters, retrain with the mask, and the random control."""
    (train_f, train_y), (test_f, test_y) = train, test
    N_l, N_f, F_s = probe.W.shape
    mask = afcc.afcc_mask(la.clusters, N_l, F_s)
    rand = afcc.random_mask_like(mask, seed)
    kw = dict(solver=probe.solver, seed=seed, progress=False)
    pruned = probes.train_probe(train_f, train_y, test_f, test_y, N_l, mask=mask, W0=probe.W, **kw)
    random = probes.train_probe(train_f, train_y, test_f, test_y, N_l, mask=rand, W0=probe.W, **kw)
    total, kept = mask.numel(), int(mask.sum())
    return dict(tap=tap, weights=total, zeroed=total - kept, kept=kept, kept_fraction=kept / total,
                estimate=afcc.expected_nonzero(N_f, F_s, la.C_s, la.N_c) if la.sizes else 0.0,
                accuracy_before=probe.test_acc,
                accuracy_pruned_no_retraining=probes.accuracy(probe.W * mask, test_f, test_y),
                accuracy_after=pruned.test_acc, accuracy_random=random.test_acc)


STAGE8 = "stage 8"


def stage8_afcc(page, seed: int = 0) -> pd.DataFrame | None:
    """*universal* Results: EfficientNet-B0 with stage 9 removed, stage 8 (320 filters) connected to the
    output through AFCC. Stage 8 is ``features[7]`` read at a 1x1 grid; its FC layer, clusters and AFCC
    are computed as for any tap (the layers below stay as trained)."""
    if page.skipped:
        return None
    from .models import Tap
    from .taps import run_features

    run = page.run(seed=seed)
    data = page.data_for(run.config)
    tap = Tap(STAGE8, "features.7", 1)
    (tr_f, tr_y), (te_f, te_y) = (run_features(run, data, split, taps=[tap]) for split in ("train", "test"))
    probe = probes.train_probe(tr_f[STAGE8], tr_y, te_f[STAGE8], te_y, data.num_classes, solver=page.solver,
                               seed=seed, progress=False)
    la = filters.analyze_layer(probe.W, filters.class_means(te_f[STAGE8], te_y, data.num_classes), page.threshold)
    row = afcc_row(STAGE8, probe, la, (tr_f[STAGE8], tr_y), (te_f[STAGE8], te_y), seed)
    return pd.DataFrame([dict(row, N_f=la.N_f, n=la.n, N_c=la.N_c, C_s=la.C_s)])


# *universal* Results: the stages cut short, as (stage, MBConv layers kept) for models.shorten.
SHORTENED_BLOCKS = {"stages 3 and 4 cut to one layer": ((3, 1), (4, 1)), "stage 5 cut from 3 to 2 layers": ((5, 2),)}


def shortened(page, seed: int = 0) -> pd.DataFrame | None:
    """*universal* Results: EfficientNet-B0 with stages 3 and 4 cut to one layer, and with stage 5 cut
    from 3 to 2 layers, each trained as the full model is (the page's profile); test accuracy, MBConv
    layers and parameters beside the full model's."""
    if page.skipped:
        return None
    rows = []
    for name, blocks in {"full model": (), **SHORTENED_BLOCKS}.items():
        run = page.run(seed=seed, blocks=blocks)  # blocks=() is the full model's own run (same cache key)
        rows.append(dict(model=name, mbconv_layers=sum(len(s) for s in run.model.features[1:-1]),
                         parameters=sum(p.numel() for p in run.model.parameters()), accuracy=run.test_acc))
    return pd.DataFrame(rows)


def compare_shortened(short: pd.DataFrame | None, cut: pd.DataFrame | None = None) -> list[tuple]:
    """The shortened models and the stage-8 shortcut against the paper's accuracies (*universal* Results)."""
    key = "stage 9 removed, stage 8 (320 filters) through AFCC"
    acc = None if cut is None else cut.set_index("model")["accuracy"]
    return ([(name + ": accuracy", paper.SHORTENED[name], None if acc is None else float(acc[name]))
             for name in SHORTENED_BLOCKS]
            + [(key + ": accuracy", paper.SHORTENED[key],
                None if short is None else float(short["accuracy_after"][0]))])


def claims_shortened(cut: pd.DataFrame | None) -> list[tuple] | None:
    """*universal*: cutting stages 3-5 short costs practically no accuracy (0.864 and 0.862 against 0.867)."""
    if cut is None:
        return None
    acc = cut.set_index("model")["accuracy"]
    return [(f"{name}: accuracy within {TOL} of the full model", acc[name] >= acc["full model"] - TOL,
             f"{acc[name]:.3f} vs {acc['full model']:.3f}") for name in SHORTENED_BLOCKS]


def compare_afcc(res: pd.DataFrame | None, key) -> list[tuple]:
    ref = paper.AFCC[key]
    r = None if res is None else res.set_index("tap").loc[key[2]]
    get = lambda c: None if r is None else float(r[c])
    rows = [("FC weights", ref["weights"], get("weights")), ("weights kept", ref["kept"], get("kept")),
            ("kept fraction", ref["kept"] / ref["weights"], get("kept_fraction"))]
    if "estimate" in ref:
        rows.append(("estimate N_f F_s C_s N_c", ref["estimate"], get("estimate")))
    return rows + [("accuracy before", ref["accuracy_before"], get("accuracy_before")),
                   ("accuracy after AFCC + retraining", ref["accuracy_after"], get("accuracy_after"))]


def afcc_long(*results) -> pd.DataFrame | None:
    """AFCC results in long form for a bar chart: accuracy before, after, and with random pruning, per tap."""
    if any(r is None for r in results):
        return None
    names = dict(accuracy_before="before", accuracy_after="AFCC, retrained", accuracy_random="random, retrained")
    return (pd.concat(results).melt(id_vars="tap", value_vars=list(names), var_name="FC layer", value_name="accuracy")
            .replace({"FC layer": names}))


def claims_afcc(*results: pd.DataFrame | None, reduction: float = 0.9) -> list[tuple] | None:
    """Per tap: the weights zeroed, the accuracy kept, AFCC against random pruning, the estimate."""
    if not results or any(r is None for r in results):
        return None
    res = pd.concat(results)
    rows = []
    for r in res.itertuples():
        rows += [(f"{r.tap}: AFCC zeroes >= {reduction:.0%} of the FC weights", 1 - r.kept_fraction >= reduction,
                  f"{r.zeroed} of {r.weights} zeroed ({1 - r.kept_fraction:.1%}); the clusters keep about "
                  f"C_s N_c / N_l = {r.estimate / r.weights:.2f} of them"),
                 (f"{r.tap}: AFCC keeps the accuracy within 0.01 after retraining",
                  r.accuracy_after >= r.accuracy_before - TOL, f"{r.accuracy_before:.3f} -> {r.accuracy_after:.3f}"),
                 (f"{r.tap}: AFCC beats random pruning of the same count", r.accuracy_after > r.accuracy_random,
                  f"{r.accuracy_after:.3f} vs random {r.accuracy_random:.3f}"),
                 (f"{r.tap}: weights kept close to N_f F_s C_s N_c (within 30%)",
                  r.estimate > 0 and abs(r.kept / r.estimate - 1) < 0.3, f"{r.kept} vs {r.estimate:.0f}")]
    return rows


# --- Table 3's anomaly: labels with no signal --------------------------------------------------------

def no_signal_labels(study=None, table: pd.DataFrame | None = None, N_l: int = 1000) -> pd.DataFrame:
    """Labels that appear in no cluster of a stage (*universal* Table 3: stage 3 has N_f N_c C_s < 1000).

    From a study: counted label by label. From a table (the paper's): the lower bound
    ``N_l - N_f N_c C_s`` on the labels left with no signal when every cluster holds distinct labels.
    """
    rows = []
    if study is not None:
        for tap, la in study.layers.items():
            rows.append(dict(tap=tap, N_f=la.N_f, N_l=la.N_l, slots=la.N_f * la.N_c * la.C_s if la.sizes else 0.0,
                             labels_without_signal=int((la.appearances == 0).sum()), source="this run"))
    if table is not None:
        for r in table.itertuples():
            slots = r.N_f * r.N_c * r.C_s
            rows.append(dict(tap=r.tap, N_f=r.N_f, N_l=N_l, slots=slots,
                             labels_without_signal=max(0, int(round(N_l - slots))), source="paper (bound)"))
    return pd.DataFrame(rows)


def dry_run_frame(page) -> pd.DataFrame:
    """:func:`dry_run_layer` at stage 9's width for the page's profile (1280 filters at full width)."""
    from .models import scaled

    return pd.DataFrame([dry_run_layer(scaled(1280, page.config.width), 1000)]).assign(
        note="random weights: a check of the code path at ImageNet's 1000 labels, not a result")


def dry_run_layer(N_f: int, N_l: int = 1000, F_s: int = 1, seed: int = 0) -> dict:
    """The ImageNet-scale analysis path on random weights and means (a proof of the code path, not a result)."""
    import time

    g = torch.Generator().manual_seed(seed)
    W = torch.randn(N_l, N_f, F_s, generator=g)
    means = torch.rand(N_l, N_f, F_s, generator=g)
    t0 = time.perf_counter()
    la = filters.analyze_layer(W, means)
    return dict(N_f=N_f, N_l=N_l, F_s=F_s, seconds=time.perf_counter() - t0, n=la.n, N_c=la.N_c, C_s=la.C_s)


# --- ImageNet (Table 3) ------------------------------------------------------------------------------

def imagenet_study(page, n_train: int | None = None, batch_size: int = 100):
    """*universal* Table 3's protocol: EfficientNet-B0 (ImageNet weights where the width is 1), the
    validation folder split 40,000 / 10,000 (or 80% / 20% of a smaller folder), an FC layer per stage,
    then the filter analysis. Features are not cached (a GPU machine's job)."""
    if page.skipped:
        return None
    from . import data as data_mod, method, models, taps as taps_mod
    from .train import pick_device

    cfg = page.config
    size = cfg.input_size or 224
    model = models.build("efficientnet_b0", 1000, cfg.width, input_size=size, pretrained=cfg.width == 1.0)
    folder_size = sum(1 for p in Path(page.imagenet).rglob("*") if p.suffix.lower() in (".jpeg", ".jpg", ".png"))
    n_train = n_train or min(40_000, int(0.8 * folder_size))
    train, test, names = data_mod.imagenet_split(page.imagenet, n_train, cfg.seed, size)
    taps = [t for t in model.taps if t.name in page.taps]
    dev = pick_device(page.device)
    model = model.to(dev).eval()
    feats = {}
    for split, ds in (("train", train), ("test", test)):
        feats[split] = taps_mod.extract(model, data_mod.folder_batches(ds, batch_size, device=dev), len(ds), taps,
                                        torch.float16, True, desc=f"ImageNet {split} taps")
    (tr_f, tr_y), (te_f, te_y) = feats["train"], feats["test"]
    N_l = len(names)
    present = torch.bincount(te_y, minlength=N_l) > 0
    if not present.all():
        raise ValueError(f"{int((~present).sum())} labels have no test image: the folder is too small to split")
    trained = {t.name: probes.train_probe(tr_f[t.name], tr_y, te_f[t.name], te_y, N_l, solver=page.solver,
                                          progress=False) for t in taps}
    means = {t.name: filters.class_means(te_f[t.name], te_y, N_l) for t in taps}
    layers = {t.name: filters.analyze_layer(trained[t.name].W, means[t.name], page.threshold) for t in taps}
    return method.Study(None, None, trained, means, layers)
