"""`cdm patients contact`: a patient's phone, medication times and consent to reminders."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

import typer

from alerts.channels.base import DeliveryError
from alerts.channels.sms import normalise_mobile
from alerts.followups.repo import find_patient
from alerts.reminders.repo import save_contact
from cdm.commands import run_in_store
from cdm.i18n import Refusal
from cdm.privacy import mask_card


def patient_contact(
    ctx: typer.Context,
    patient: Annotated[str, typer.Option(help="health-card number")],
    phone: Annotated[str | None, typer.Option(help="mobile number for reminders")] = None,
    medication_times: Annotated[str, typer.Option(help="local times, e.g. 08:00,20:00")] = "",
    opt_out: Annotated[bool, typer.Option(help="the patient wants no reminders")] = False,
) -> None:
    """Record a patient's phone, medication times and consent to reminders."""

    def work(conn: Any) -> dict[str, Any]:
        patient_id = find_patient(conn, card=patient)
        if patient_id is None:
            raise Refusal("patient.refused.no_card")
        try:
            times = [time.fromisoformat(x.strip()) for x in medication_times.split(",") if x.strip()]
        except ValueError:
            raise Refusal("reminders.refused.times") from None
        try:
            number = normalise_mobile(phone) if phone else None
        except DeliveryError as exc:
            raise Refusal("reminders.refused.phone", reason=exc) from None
        save_contact(
            conn, patient_id=patient_id, phone=number, medication_times=times, opted_out=opt_out, now=datetime.now(UTC)
        )
        return {
            "patient": mask_card(patient),
            "phone": "saved" if number else None,
            "medication_times": [x.isoformat("minutes") for x in times],
            "reminders": not opt_out,
        }

    run_in_store(ctx, work)
