"""Importing a county's real files: dirty rows refused whole and named by row and column in the report, a dry run
that changes nothing, the same files twice (nothing changed), then an updated export (exactly the changed patients
updated, their history kept, a missing patient reported and not deleted); no ID-card number left in clear."""

from __future__ import annotations

import csv
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from cdm.settings import Settings
from registry.importing.service import Actor, Outcome, import_directory
from tests.support.store_scan import columns_holding

from .county_files import ID_1, ID_2, ID_STORED, WAITING_CARD, patient_rows, write_county, write_csv
from .store_support import register_before_import, snapshot, waiting_reading

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url, county_code="xc", county_name="西城县", data_dir=tmp_path / "cdm", _env_file=None
    )  # type: ignore[call-arg]


def _import(conn: psycopg.Connection, directory: Path, settings: Settings, report: Path, **kw: object) -> Outcome:
    return import_directory(conn, directory=directory, settings=settings, actor=Actor("clerk"), report=report, **kw)  # type: ignore[arg-type]


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class CountyFiles:
    """The county's files in `directory` (the patients' rows written dirty: the columns at fault by spreadsheet row),
    imported as the clerk under `settings` into the store at `db_url`, each import's report in `reports`."""

    directory: Path
    bad: dict[int, list[str]]
    settings: Settings
    db_url: str
    reports: Path

    def import_into(
        self, conn: psycopg.Connection, report: str, settings: Settings | None = None, **kw: object
    ) -> Outcome:
        """Import the files on `conn` (under other settings if given), the report to `reports/<report>`."""
        return _import(conn, self.directory, settings or self.settings, self.reports / report, **kw)

    def report(self, name: str) -> list[dict[str, str]]:
        """The lines of an import's report."""
        return _report(self.reports / name)


@pytest.fixture
def county(tmp_path: Path, settings: Settings, db_url: str) -> CountyFiles:
    """The county's files; the places already imported, a patient registered before and a reading waiting."""
    directory = tmp_path / "county"
    bad = write_county(directory)
    places = tmp_path / "places"
    places.mkdir()
    for name in ("townships.csv", "villages.xlsx", "teams.csv"):
        shutil.copy(directory / name, places / name)
    with psycopg.connect(db_url) as conn:
        first = _import(conn, places, settings, tmp_path / "places.csv").summary()
        assert first["townships"] == {"rows": 4, "added": 2, "updated": 0, "unchanged": 0, "refused": 2}
        assert first["villages"] == {"rows": 4, "added": 3, "updated": 0, "unchanged": 0, "refused": 1}
        assert first["teams"] == {"rows": 2, "added": 2, "updated": 0, "unchanged": 0, "refused": 0}
        register_before_import(conn, settings, id_number=ID_STORED, village="V1")
        waiting_reading(conn, card=WAITING_CARD, clinic="V1", systolic=185)
        conn.commit()
    return CountyFiles(directory, bad, settings, db_url, reports=tmp_path)


def test_dirty_rows_are_refused_whole_and_named_by_row_and_column(county: CountyFiles) -> None:
    with psycopg.connect(county.db_url) as conn:
        outcome = county.import_into(conn, "r.csv")
    summary = outcome.summary()
    assert summary["patients"] == {"rows": 22, "added": 6, "updated": 0, "unchanged": 0, "refused": 16, "missing": 0}
    assert summary["meters"] == {"rows": 4, "added": 2, "updated": 0, "unchanged": 0, "refused": 2}
    assert summary["accounts"] == {"rows": 4, "added": 3, "updated": 0, "unchanged": 0, "refused": 1}
    assert summary["readings_attributed"] == 1
    lines = county.report("r.csv")
    assert list(lines[0]) == ["文件", "行号", "列", "原因"]
    by_row: dict[int, set[str]] = {}
    for line in lines:
        if line["文件"] == "patients.csv":
            by_row.setdefault(int(line["行号"]), set()).add(line["列"])
    assert by_row == {row: set(columns) for row, columns in county.bad.items()}
    reasons = {int(x["行号"]): x["原因"] for x in lines if x["文件"] == "patients.csv"}
    assert "文本" in reasons[7] and "重新" in reasons[7]  # format the column as text and export again
    assert reasons[16] == "与第2行的健康档案号重复"
    assert "H-OLD" in reasons[24]
    assert {(x["文件"], x["行号"]) for x in lines if x["文件"] != "patients.csv"} == {
        ("townships.csv", "4"),
        ("townships.csv", "5"),
        ("villages.xlsx", "5"),
        ("meters.csv", "4"),
        ("meters.csv", "5"),
        ("accounts.csv", "4"),
    }
    assert outcome.credentials is not None and stat.S_IMODE(outcome.credentials.stat().st_mode) == 0o600


def test_what_the_store_keeps_of_the_rows_taken(county: CountyFiles) -> None:
    with psycopg.connect(county.db_url) as conn:
        county.import_into(conn, "r.csv")
        row = conn.execute(
            "select p.sex, p.birth_year, h.birth_date::text, p.hypertension, p.diabetes, p.id_card_masked,"
            " c.phone, pp.address, p.health_card_no, h.total_cholesterol_mmol, h.on_bp_treatment, h.urban,"
            " (p.registered_at at time zone 'Asia/Shanghai')::date::text"
            " from patient p join health_record h on h.patient_id = p.id join patient_person pp on pp.patient_id = p.id"
            " left join patient_contact c on c.patient_id = p.id where p.record_no = 'P001'"
        ).fetchone()
        assert row == (
            "M",
            1958,
            "1958-03-15",
            True,
            False,
            ID_1[:6] + "********" + ID_1[-4:],
            "13812345678",
            "东村3组12号",
            "H001",
            pytest.approx(5.2),
            True,
            False,
            "2020-01-05",
        )
        p002 = conn.execute(
            "select p.diabetes, p.health_card_no, c.phone, p.id_card_masked from patient p"
            " join patient_contact c on c.patient_id = p.id where record_no = 'P002'"
        ).fetchone()
        assert p002 == (True, "P002", "057188881234", ID_2[:6] + "********" + ID_2[-4:])
        waiting = conn.execute(
            "select a.colour, r.patient_id is not null from reading r join patient p on p.id = r.patient_id"
            " join assessment_current a on a.patient_id = p.id where p.record_no = 'P019'"
        ).fetchone()
        assert waiting == ("red", True)  # the waiting 185 mmHg reading was attributed and assessed
        assessed = conn.execute(
            "select count(*) from assessment_current a join patient p on p.id = a.patient_id"
            " where p.record_no is not null"
        ).fetchone()
        assert assessed == (6,)
        for number in (ID_1, ID_2, ID_STORED, ID_2.lower()):
            assert columns_holding(conn, number) == []
            assert columns_holding(conn, number[:14]) == []  # not even area + birth date
        first = conn.execute("select password_change_required, phone from app_user where username = 'town.chen'")
        assert first.fetchone() == (True, "13700001111")


def test_a_dry_run_checks_everything_and_changes_nothing(county: CountyFiles) -> None:
    with psycopg.connect(county.db_url) as conn:
        before = snapshot(conn)
        dry = county.import_into(conn, "dry.csv", dry_run=True)
        after = snapshot(conn)
        real = county.import_into(conn, "real.csv")
    changed = {t for t in before if before[t] != after[t]}
    assert changed == {"audit_event"}  # the dry run itself is audited, nothing else moved
    assert dry.credentials is None
    dry_summary, real_summary = dry.summary(), real.summary()
    for kind in ("townships", "villages", "teams", "patients", "meters", "accounts"):
        assert dry_summary[kind] == real_summary[kind]
    assert county.report("dry.csv") == county.report("real.csv")
    assert dry_summary["readings_attributed"] == real_summary["readings_attributed"] == 1


def test_twice_changes_nothing_then_an_updated_export_updates_exactly_what_changed(county: CountyFiles) -> None:
    with psycopg.connect(county.db_url) as conn:
        county.import_into(conn, "1.csv")
        before = snapshot(conn)
        again = county.import_into(conn, "2.csv").summary()
        after = snapshot(conn)
        assert {t for t in before if before[t] != after[t]} == {"audit_event", "registry_import"}
        assert again["patients"] == {"rows": 22, "added": 0, "updated": 0, "unchanged": 6, "refused": 16, "missing": 0}
        assert again["meters"]["unchanged"] == 2 and again["accounts"]["unchanged"] == 3
        assert "credentials" not in again

        rows, _ = patient_rows()
        header = rows[0]
        updated = [header]
        for values in rows[1:6]:
            record = dict(zip(header, values, strict=True))
            if record["健康档案号"] == "P001":
                record["联系电话"] = "13911112222"
            if record["健康档案号"] == "Ｐ００２":
                record["村卫生室编码"] = "V2"
            if record["健康档案号"] == "P003":
                record["管理病种"] = "高血压、糖尿病"
            if record["健康档案号"] == "P005":
                continue  # no longer in the export
            updated.append([record[h] for h in header])
        updated.append(rows[21])  # P019 (spreadsheet row 22), unchanged
        write_csv(county.directory / "patients.csv", updated, encoding="gb18030")
        third = county.import_into(conn, "3.csv").summary()
        assert third["patients"] == {"rows": 5, "added": 0, "updated": 3, "unchanged": 2, "refused": 0, "missing": 1}
        history = conn.execute(
            "select p.record_no, c.field, c.old_value, c.new_value from patient_change c"
            " join patient p on p.id = c.patient_id order by 1, 2"
        ).fetchall()
        assert history == [
            ("P001", "phone", "138****678", "139****222"),
            ("P002", "village", "V1", "V2"),
            ("P003", "hypertension", "false", "true"),
        ]
        assert conn.execute("select count(*) from patient where record_no = 'P005'").fetchone() == (1,)
    missing = [x for x in county.report("3.csv") if x["行号"] == ""]
    assert len(missing) == 1 and "P005" in missing[0]["原因"] and "未删除" in missing[0]["原因"]


def test_after_an_id_card_key_rotation_the_same_files_change_nothing_and_a_number_stays_taken(
    county: CountyFiles,
) -> None:
    """Re-keying wraps every stored hash under the new key without the numbers (cdm.id_keys): an import after it
    still recognises each patient's ID-card number, and another record with the same number is still refused."""
    from ingest.attribution.service import rekey

    rotated = Settings(
        database_url=county.db_url, county_code="xc", county_name="西城县", data_dir=county.settings.data_dir,
        id_card_key="a-new-id-card-key-" * 3, id_card_retired_keys=(county.settings.id_card_key.get_secret_value(),),
        _env_file=None,
    )  # type: ignore[call-arg]  # fmt: skip
    with psycopg.connect(county.db_url) as conn:
        county.import_into(conn, "1.csv")
        rekey(conn, rotated.id_card_keyring)
        conn.commit()
        chains = {r[0] for r in conn.execute("select id_card_key_id from patient where id_card_hash is not null")}
        assert all(">" in chain for chain in chains), chains  # every stored hash is wrapped under the new key
        again = county.import_into(conn, "2.csv", rotated).summary()
        assert again["patients"]["added"] == 0 and again["patients"]["updated"] == 0
        rows, _ = patient_rows()
        header = rows[0]
        clash = dict(zip(header, rows[1], strict=True))  # the first patient's ID number under a new record
        clash["健康档案号"], clash["健康卡号"] = "P900", "H900"
        write_csv(county.directory / "patients.csv", [header, [clash[h] for h in header]], encoding="gb18030")
        third = county.import_into(conn, "3.csv", rotated).summary()
        assert third["patients"]["refused"] == 1 and third["patients"]["added"] == 0
    assert any("身份证号" in line["列"] for line in county.report("3.csv") if line["行号"] == "2")
