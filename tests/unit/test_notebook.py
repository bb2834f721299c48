"""The notebook runs top to bottom on the committed results, so it cannot rot."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from basebench.paths import PROJECT_ROOT
from basebench.results import ResultStore

NOTEBOOK = PROJECT_ROOT / "notebooks" / "basebench-results.ipynb"


def test_committed_reference_run_exists():
    runs = ResultStore(PROJECT_ROOT / "results").runs()
    assert runs, "results/ must keep at least one real run as reference data"


def test_notebook_executes_on_committed_results(tmp_path: Path):
    # nbformat has no type hints.
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert any(
        o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for o in outputs
    ), "the notebook drew no chart"
