"""The risk-model notebook runs end to end on a small cohort and produces an evaluation worth the name."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "risk_model.ipynb"

pytestmark = pytest.mark.integration


def _run(tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source += f"\nPATIENTS = 300\nOUT_DIR = {str(tmp_path / 'models')!r}\n"
    # "python3" is ipykernel's native spec: this interpreter (the venv's), which has the package installed.
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parents[1])}}
    )
    client.execute()
    return nb


def _evaluation(nb: nbformat.NotebookNode) -> dict:
    cell = next(c for c in nb.cells if "evaluation" in c.metadata.get("tags", []))
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_notebook_trains_and_evaluates_end_to_end(tmp_path):
    nb = _run(tmp_path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    kernel = next(c for c in nb.cells if c.cell_type == "code" and "sys.executable" in c.source)
    assert "".join(o.get("text", "") for o in kernel.outputs).strip() == sys.executable
    result = _evaluation(nb)
    ev = result["evaluation"]
    assert ev["auroc"] > 0.6
    assert ev["brier"] < ev["brier_base_rate"]
    assert len(ev["calibration"]) == 10 and set(ev["per_sex"]) == {"F", "M"}
    assert (tmp_path / "models" / f"{result['version']}.joblib").exists()
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the winter rise and the calibration curve
