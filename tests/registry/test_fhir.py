"""`cdm export fhir` on a county imported from its files, with readings, follow-up visits and assessments: every
resource validates against the fhir.resources models, every reference resolves within the export, an Observation
read back gives the reading's values, and the ID-card number is never in it unless asked for (audited)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fhir.resources.R4B import get_fhir_model_class

from assess.rules import RuleSettings
from assess.service import rescore
from cdm.settings import Settings
from registry.fhir.service import TYPES, ExportError, ExportRequest, export
from registry.importing.service import Actor, import_directory

from .county_files import ID_1, ID_2, write_county

pytestmark = pytest.mark.integration
MEASURED = datetime(2026, 5, 2, 1, 30, tzinfo=UTC)  # 09:30 in China


@pytest.fixture
def county(db_url: str, tmp_path: Path) -> Settings:
    """The dirty county imported (its clean rows), a BP and a glucose reading each for P001, a visit, assessments."""
    settings = Settings(database_url=db_url, county_code="xc", _env_file=None)  # type: ignore[call-arg]
    write_county(tmp_path / "county")
    with psycopg.connect(db_url) as conn:
        import_directory(
            conn, directory=tmp_path / "county", settings=settings, actor=Actor("t"), report=tmp_path / "r.csv"
        )
        pid, bp, glu = conn.execute(
            "select p.id, (select id from device where uid = 'BP-SN1'), (select id from device where uid = 'GLU-SN2')"
            " from patient p where record_no = 'P001'"
        ).fetchone()  # type: ignore[misc]
        clinic = conn.execute("select clinic_id from device where id = %s", (bp,)).fetchone()[0]  # type: ignore[index]
        for device, seq, kind, values in (
            (bp, 7, "bp", (152, 94, 78, None, None, None)),
            (bp, 8, "bp", (130, 80, None, None, None, None)),
            (glu, 3, "glucose", (None, None, None, 6.4, None, "fasting")),
            (glu, 4, "glucose", (None, None, None, None, "HI", "non_fasting")),
        ):
            conn.execute(
                "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                " systolic, diastolic, pulse, glucose_mmol, glucose_flag, glucose_context)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    device,
                    seq,
                    MEASURED + timedelta(minutes=seq),
                    MEASURED + timedelta(minutes=seq, seconds=5),
                    clinic,
                    kind,
                    pid,
                    *values,
                ),
            )
        conn.execute(
            "insert into follow_up (patient_id, done_on, class, recorded_by) values (%s, %s, 'controlled', 'doc')",
            (pid, date(2026, 5, 3)),
        )
        ids = [r[0] for r in conn.execute("select id from patient")]
        rescore(conn, patient_ids=ids, now=MEASURED + timedelta(days=2), rules=RuleSettings.from_settings(settings))
        conn.commit()
    return settings


def _read(out: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        kind: [json.loads(line) for line in (out / f"{kind}.ndjson").read_text(encoding="utf-8").splitlines()]
        for kind in TYPES
    }


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def test_every_resource_validates_and_every_reference_resolves(county: Settings, db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url) as conn:
        manifest = export(conn, ExportRequest(out=tmp_path / "fhir", by="exporter"), settings=county)
    resources = _read(tmp_path / "fhir")
    assert {o["type"]: o["count"] for o in manifest["output"]} == {k: len(v) for k, v in resources.items()}
    assert len(resources["Patient"]) == 7  # the dirty county's clean rows (P021's ID number is nobody else's here)
    known = {f"{r['resourceType']}/{r['id']}" for rs in resources.values() for r in rs}
    for kind, items in resources.items():
        model = get_fhir_model_class(kind)
        for resource in items:
            model.model_validate(resource)
            contained = {"#" + c["id"] for c in resource.get("contained", [])}
            for reference in _references(resource):
                assert reference in known or reference in contained, (kind, reference)
            if kind == "Observation":
                assert ("valueQuantity" in resource) != ("dataAbsentReason" in resource) or "component" in resource
    assert len(resources["Condition"]) == sum(1 for p in resources["Patient"]) + 2  # P002, P004 have both
    assert {d["type"]["coding"][0]["code"] for d in resources["Device"]} == {"528391", "528401"}
    assert len(resources["Encounter"]) == 1 and len(resources["RiskAssessment"]) == 7


def test_an_observation_read_back_gives_the_reading(county: Settings, db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url) as conn:
        export(conn, ExportRequest(out=tmp_path / "fhir", by="exporter"), settings=county)
    observations = _read(tmp_path / "fhir")["Observation"]
    model = get_fhir_model_class("Observation")
    panel = model.model_validate(next(o for o in observations if o["identifier"][0]["value"] == "BP-SN1:7"))
    assert panel.code.coding[0].code == "85354-9"
    values = {c.code.coding[0].code: (float(c.valueQuantity.value), c.valueQuantity.code) for c in panel.component}
    assert values == {"8480-6": (152.0, "mm[Hg]"), "8462-4": (94.0, "mm[Hg]")}
    assert panel.effectiveDateTime.isoformat() == "2026-05-02T09:37:00+08:00"
    rate = next(o for o in observations if o["id"].startswith("hr-"))
    assert rate["valueQuantity"] == {"value": 78, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}
    assert not any(o["id"].startswith("hr-") and o["identifier"][0]["value"] == "BP-SN1:8" for o in observations)
    glucose = model.model_validate(next(o for o in observations if o["identifier"][0]["value"] == "GLU-SN2:3"))
    assert (glucose.code.coding[0].code, float(glucose.valueQuantity.value), glucose.valueQuantity.code) == (
        "14743-9",
        6.4,
        "mmol/L",
    )
    assert glucose.contained[0].collection.fastingStatusCodeableConcept.coding[0].code == "F"
    high = next(o for o in observations if o["identifier"][0]["value"] == "GLU-SN2:4")
    assert high["interpretation"][0]["coding"][0]["code"] == "HH" and "valueQuantity" not in high


def test_the_id_number_only_on_request_masked_and_audited(county: Settings, db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url) as conn:
        export(conn, ExportRequest(out=tmp_path / "plain", by="exporter"), settings=county)
        export(conn, ExportRequest(out=tmp_path / "with", by="exporter", include_id_number=True), settings=county)
        audits = conn.execute(
            "select detail->>'include_id_number' from audit_event where action = 'export_fhir' order by id"
        ).fetchall()
    plain = (tmp_path / "plain" / "Patient.ndjson").read_text(encoding="utf-8")
    with_id = (tmp_path / "with" / "Patient.ndjson").read_text(encoding="utf-8")
    for number in (ID_1, ID_2):
        assert number[:14] not in plain and number[:14] not in with_id
        assert number[:6] + "********" + number[-4:] not in plain
    assert ID_1[:6] + "********" + ID_1[-4:] in with_id
    assert audits == [("false",), ("true",)]


def test_a_township_not_in_the_county_is_refused_in_the_countys_words(county: Settings, db_url: str, tmp_path: Path):
    with psycopg.connect(db_url) as conn, pytest.raises(ExportError) as refused:
        export(conn, ExportRequest(out=tmp_path / "none", by="x", township="T9"), settings=county)
    assert refused.value.text("zh") == f"县“{county.county_code}”中没有编码为“T9”的乡镇"
    assert refused.value.text("en") == f"no township 'T9' in county '{county.county_code}'"
    assert not (tmp_path / "none").exists(), "nothing written"


def test_one_township_and_since(county: Settings, db_url: str, tmp_path: Path) -> None:
    since = datetime(2026, 5, 2, 9, 36, tzinfo=county.tz)
    with psycopg.connect(db_url) as conn:
        manifest = export(conn, ExportRequest(out=tmp_path / "t2", by="x", township="T2", since=since), settings=county)
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts["Patient"] == 1  # P005 of 河口乡
    assert counts["Observation"] == 0
    with psycopg.connect(db_url) as conn:
        manifest = export(conn, ExportRequest(out=tmp_path / "t1", by="x", township="T1", since=since), settings=county)
    resources = _read(tmp_path / "t1")
    # measured 09:37 and 09:38; the glucose readings (09:33, 09:34) are before --since
    assert sorted(o["identifier"][0]["value"] for o in resources["Observation"] if not o["id"].startswith("hr")) == [
        "BP-SN1:7",
        "BP-SN1:8",
    ]
    assert manifest["request"].endswith("_since=" + since.isoformat())
