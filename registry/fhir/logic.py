"""FHIR R4 resources from the store's rows, as plain dicts ready for NDJSON. Pure.

Patient (identifiers: health-record number, health card; the ID-card number only on request, and then only in the
masked form the store keeps), Condition (ICD-10 I10 / E11, onset = management start), Observation (the LOINC
blood-pressure panel with systolic and diastolic components in mm[Hg], heart rate in /min, capillary glucose in
mmol/L with the specimen's fasting status), Device (IEEE 11073 device specialisation), Encounter (follow-up
visits), RiskAssessment (the colour and China-PAR). Every reference points at a resource of the same export.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cdm.i18n import t

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
MDC = "urn:iso:std:iso:11073:10101"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
FASTING = "http://terminology.hl7.org/CodeSystem/v2-0916"
RISK = "http://terminology.hl7.org/CodeSystem/risk-probability"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFIED = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
LOCAL = ZoneInfo("Asia/Shanghai")  # effectiveDateTime is written in +08:00, as the county reads it

CONDITIONS = {
    "hypertension": ("htn", "I10", "Essential (primary) hypertension"),
    "diabetes": ("dm", "E11", "Type 2 diabetes mellitus"),
}
# IEEE 11073-10101 device specialisations (MDC_DEV_SPEC_PROFILE_BP, _GLUCOSE: ISO/IEEE 11073-10407 and -10417).
DEVICE_TYPES = {"bp": ("528391", "MDC_DEV_SPEC_PROFILE_BP"), "glucose": ("528401", "MDC_DEV_SPEC_PROFILE_GLUCOSE")}
RISK_OF_COLOUR = {"green": "low", "yellow": "moderate", "red": "high"}
RISK_OF_CATEGORY = {"low": "low", "medium": "moderate", "high": "high"}


def systems(county: str) -> dict[str, str]:
    """The identifier systems of this county's export."""
    return {
        name: f"urn:cdm:{county}:{name}"
        for name in ("health-record", "health-card", "reading", "meter", "id-card-masked", "follow-up")
    }


def ref(kind: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{kind}/{resource_id}"}


def patient_id(pid: int) -> str:
    return f"p{pid}"


def device_id(did: int) -> str:
    return f"d{did}"


def local_time(moment: datetime) -> str:
    """An instant as FHIR dateTime in China time (+08:00)."""
    return moment.astimezone(LOCAL).isoformat(timespec="seconds")


def patient(row: Mapping[str, Any], *, county: str, lang: str, include_id: bool) -> dict[str, Any]:
    """A Patient: record number and health card as identifiers; the masked ID-card number only when asked."""
    s = systems(county)
    identifiers = []
    if row["record_no"]:
        identifiers.append(
            {
                "use": "official",
                "system": s["health-record"],
                "value": row["record_no"],
                "type": {"text": t("fhir.identifier.record", lang)},
            }
        )
    if row["health_card_no"] and row["health_card_no"] != row["record_no"]:
        identifiers.append(
            {
                "system": s["health-card"],
                "value": row["health_card_no"],
                "type": {"text": t("fhir.identifier.card", lang)},
            }
        )
    if include_id and row["id_card_masked"]:
        identifiers.append(
            {
                "system": s["id-card-masked"],
                "value": row["id_card_masked"],
                "type": {"text": t("fhir.identifier.id_card_masked", lang)},
            }
        )
    born = row["birth_date"]
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id(row["id"]),
        "identifier": identifiers,
        "active": True,
        "gender": "male" if row["sex"] == "M" else "female",
        "birthDate": born.isoformat() if isinstance(born, date) else str(row["birth_year"]),
    }
    if row.get("name"):
        out["name"] = [{"text": row["name"]}]
    if row.get("phone"):
        out["telecom"] = [{"system": "phone", "value": row["phone"]}]
    if row.get("address"):
        out["address"] = [{"text": row["address"]}]
    return out


def conditions(row: Mapping[str, Any], *, lang: str) -> list[dict[str, Any]]:
    """Hypertension (I10) and type 2 diabetes (E11), each with onset = the management start."""
    out = []
    for flag, (prefix, code, display) in CONDITIONS.items():
        if not row[flag]:
            continue
        out.append(
            {
                "resourceType": "Condition",
                "id": f"{prefix}-{row['id']}",
                "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
                "verificationStatus": {"coding": [{"system": CONDITION_VERIFIED, "code": "confirmed"}]},
                "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
                "code": {
                    "coding": [{"system": ICD10, "code": code, "display": display}],
                    "text": t(f"fhir.condition.{flag}", lang),
                },
                "subject": ref("Patient", patient_id(row["id"])),
                "onsetDateTime": row["registered_at"].astimezone(LOCAL).date().isoformat(),
            }
        )
    return out


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _reading_base(row: Mapping[str, Any], *, county: str, prefix: str, code: str, display: str) -> dict[str, Any]:
    when = row["measured_at"]
    return {
        "resourceType": "Observation",
        "id": f"{prefix}-{row['device_id']}-{row['seq']}-{int(when.timestamp())}",
        "identifier": [{"system": systems(county)["reading"], "value": f"{row['uid']}:{row['seq']}"}],
        "status": "final",
        "category": [
            {"coding": [{"system": OBS_CATEGORY, "code": "vital-signs" if prefix != "glu" else "laboratory"}]}
        ],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "subject": ref("Patient", patient_id(row["patient_id"])),
        "effectiveDateTime": local_time(when),
        "issued": local_time(row["received_at"]),
        "device": ref("Device", device_id(row["device_id"])),
    }


def observations(row: Mapping[str, Any], *, county: str) -> list[dict[str, Any]]:
    """The resources of one reading: the BP panel (and heart rate, derived from it), or capillary glucose."""
    if row["kind"] == "bp":
        panel = _reading_base(
            row, county=county, prefix="bp", code="85354-9", display="Blood pressure panel with all children optional"
        )
        panel["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}]},
                "valueQuantity": _quantity(row["systolic"], "mm[Hg]"),
            },
            {
                "code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}]},
                "valueQuantity": _quantity(row["diastolic"], "mm[Hg]"),
            },
        ]
        if row["pulse"] is None:
            return [panel]
        rate = _reading_base(row, county=county, prefix="hr", code="8867-4", display="Heart rate")
        rate["valueQuantity"] = _quantity(row["pulse"], "/min")
        rate["derivedFrom"] = [ref("Observation", panel["id"])]
        return [panel, rate]
    return [_glucose(row, county=county)]


def _glucose(row: Mapping[str, Any], *, county: str) -> dict[str, Any]:
    obs = _reading_base(
        row,
        county=county,
        prefix="glu",
        code="14743-9",
        display="Glucose [Moles/volume] in Capillary blood by Glucometer",
    )
    fasting = row["glucose_context"] == "fasting"
    obs["contained"] = [
        {
            "resourceType": "Specimen",
            "id": "specimen",
            "type": {"text": "capillary whole blood"},
            "collection": {
                "fastingStatusCodeableConcept": {"coding": [{"system": FASTING, "code": "F" if fasting else "NF"}]}
            },
        }
    ]
    obs["specimen"] = {"reference": "#specimen"}
    flag, value = row["glucose_flag"], row["glucose_mmol"]
    if flag is None and value is not None:
        obs["valueQuantity"] = _quantity(round(float(value), 2), "mmol/L")
    else:  # the meter showed HI or LO: beyond what it measures
        high = flag == "HI"
        obs["dataAbsentReason"] = {
            "coding": [{"system": ABSENT, "code": "positive-infinity" if high else "negative-infinity"}],
            "text": flag,
        }
        obs["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": "HH" if high else "LL"}]}]
    return obs


def device(row: Mapping[str, Any], *, county: str, lang: str) -> dict[str, Any]:
    """A meter, typed by its IEEE 11073 device specialisation."""
    code, display = DEVICE_TYPES[row["kind"]]
    out: dict[str, Any] = {
        "resourceType": "Device",
        "id": device_id(row["id"]),
        "identifier": [{"system": systems(county)["meter"], "value": row["uid"]}],
        "status": "inactive" if row["revoked"] else "active",
        "type": {
            "coding": [{"system": MDC, "code": code, "display": display}],
            "text": t(f"fhir.device.{row['kind']}", lang),
        },
    }
    if row["imei"]:
        out["identifier"].append({"system": "urn:gsma:imei", "value": row["imei"]})
    if row["serial"]:
        out["serialNumber"] = row["serial"]
    return out


def encounter(row: Mapping[str, Any], *, county: str, lang: str) -> dict[str, Any]:
    """A follow-up visit, with the doctor's class of it as the reason."""
    return {
        "resourceType": "Encounter",
        "id": f"fu-{row['id']}",
        "identifier": [{"system": systems(county)["follow-up"], "value": str(row["id"])}],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": t("fhir.encounter.follow_up", lang)}],
        "subject": ref("Patient", patient_id(row["patient_id"])),
        "period": {"start": row["done_on"].isoformat(), "end": row["done_on"].isoformat()},
        "reasonCode": [{"text": t(f"fhir.follow_up.{row['class']}", lang)}],
    }


def risk_assessment(row: Mapping[str, Any], *, lang: str) -> dict[str, Any]:
    """The patient's current colour with its reasons, and China-PAR's 10-year ASCVD risk where computed."""
    colour = row["colour"]
    predictions: list[dict[str, Any]] = [
        {
            "outcome": {"text": t("fhir.risk.colour_outcome", lang)},
            "qualitativeRisk": {
                "coding": [{"system": RISK, "code": RISK_OF_COLOUR[colour]}],
                "text": t(f"colour.{colour}", lang),
            },
        }
    ]
    if row["ascvd_10y_percent"] is not None:
        predictions.append(
            {
                "outcome": {"text": t("fhir.risk.ascvd_outcome", lang)},
                "probabilityDecimal": round(float(row["ascvd_10y_percent"]) / 100, 4),
                "qualitativeRisk": {"coding": [{"system": RISK, "code": RISK_OF_CATEGORY[row["ascvd_category"]]}]},
            }
        )
    out: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": f"ra-{row['patient_id']}",
        "status": "final",
        "subject": ref("Patient", patient_id(row["patient_id"])),
        "occurrenceDateTime": local_time(row["assessed_at"]),
        "method": {"text": t("fhir.risk.method", lang, edition=row["rules_edition"])},
        "prediction": predictions,
    }
    if row["reasons"]:  # FHIR JSON has no empty arrays
        out["note"] = [{"text": "；".join(t(f"reason.{r}", lang) for r in row["reasons"])}]
    return out
