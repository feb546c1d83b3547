"""`cdm model …`: train the risk model from the simulated cohort or from the store, and save it with its card."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cdm.commands import refuse
from cdm.i18n import Refusal
from cdm.settings import Settings

log = logging.getLogger(__name__)

model_app = typer.Typer(no_args_is_help=True, help="The 90-day risk model: train, evaluate, save")


@model_app.command("train")
def train_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Option(help="sim: the simulated cohort; db: this deployment's own outcomes")] = "sim",
    patients: Annotated[int, typer.Option(min=50, help="cohort size (--source sim)")] = 5000,
    seed: Annotated[int, typer.Option(help="cohort and model seed")] = 1,
    out: Annotated[Path | None, typer.Option(help="model directory (default: <CDM_DATA_DIR>/models)")] = None,
    split: Annotated[str, typer.Option(help="hold out whole 'patient's or whole 'township's")] = "patient",
    until: Annotated[
        datetime | None, typer.Option(help="--source db: end of the latest outcome window (default: now)")
    ] = None,
    cuts: Annotated[int, typer.Option(min=1, max=12, help="--source db: 90-day cuts per patient")] = 4,
) -> None:
    """Train, evaluate on held-out data, save; prints one JSON line with the evaluation and the version."""
    settings: Settings = ctx.obj
    if source not in {"sim", "db"} or split not in {"patient", "township"}:
        refuse(settings, Refusal("cli.refused.training_options"), code=2)
    if source == "db" and not settings.database_url:
        refuse(settings, Refusal("cli.refused.no_store"), code=2)
    try:
        result = run_training(
            settings=settings, source=source, patients=patients, seed=seed, out=out, split=split, until=until, cuts=cuts
        )
    except ValueError as exc:  # too few examples or one outcome only: say so, not a traceback
        refuse(settings, Refusal("cli.refused.cannot_train", reason=str(exc)))
    typer.echo(json.dumps(result, ensure_ascii=False))


def run_training(
    *,
    settings: Settings,
    source: str,
    patients: int,
    seed: int,
    out: Path | None,
    split: str,
    until: datetime | None = None,
    cuts: int = 4,
) -> dict[str, Any]:
    """Build the training set, train, save; the summary the command prints."""
    from assess.risk.model import save, train

    data = _training_set(settings=settings, source=source, patients=patients, seed=seed, until=until, cuts=cuts)
    trained = train(data, split_by=split, seed=seed)
    directory = out if out is not None else settings.data_dir / "models"
    saved = save(trained, directory)
    return {
        "version": saved.version,
        "model_path": str(saved.path),
        "source": source,
        "examples": len(data),
        "split": split,
        "calibration": trained.card["estimator"]["calibration"],
        "evaluation": trained.evaluation,
    }


def _training_set(
    *, settings: Settings, source: str, patients: int, seed: int, until: datetime | None, cuts: int
) -> Any:
    from assess.risk.data import to_training_set

    if source == "sim":
        from assess.risk.cohort import generate_cohort, training_set

        return training_set(generate_cohort(patients=patients, seed=seed, edition=settings.guideline_edition))
    from assess.risk.repo import store_examples
    from cdm import db

    end = until or datetime.now(UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    with db.connect(settings.database_url or "") as conn:
        examples = store_examples(conn, until=end, cuts=cuts)
    return to_training_set(examples, source=f"the store ({cuts} cuts of 90 days up to {end.isoformat()})")
