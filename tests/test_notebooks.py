"""Every notebook runs end to end under papermill at the smoke profile (on generated data where needed)."""
import time

import papermill as pm
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_at_smoke(path, tmp_path):
    t0 = time.time()
    pm.execute_notebook(str(path), str(tmp_path / path.name), parameters=dict(profile="smoke"), kernel_name="python3",
                        progress_bar=False, cwd=str(ROOT))
    assert time.time() - t0 < 60


def test_bad_parameters_stop_at_the_parameters_cell(tmp_path):
    path = ROOT / "notebooks" / "architectures-taps.ipynb"
    with pytest.raises(pm.PapermillExecutionError, match="unknown model"):
        pm.execute_notebook(str(path), str(tmp_path / "out.ipynb"), parameters=dict(profile="smoke", models=["vgg19"]),
                            kernel_name="python3", progress_bar=False, cwd=str(ROOT))
