"""A patient's prior authorizations at a glance: each case's status and, once approved, its window and devices.

Read-only; the counts are those of desk.prior_auth.devices (REMS session log plus sessions entered on cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from desk.models.prior_auth import STATUS_LABELS
from desk.prior_auth.cases import cases_for_patient
from desk.prior_auth.devices import DeviceAccount, patient_accounts
from desk.prior_auth.worklist import IN_FORCE


@dataclass(frozen=True)
class CaseAuthorization:
    """One case of the patient; the authorization fields are None until the payer approves."""

    case_id: int
    payer_id: str
    indication: str
    phase: str
    status: str
    auth_number: str | None
    start_on: date | None
    end_on: date | None
    authorized_devices: int | None
    used_devices: int | None
    remaining_devices: int | None
    authorized_sessions: int | None
    remaining_sessions: int | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def authorized(self) -> bool:
        return self.start_on is not None

    def in_force_on(self, day: date) -> bool:
        """Approved (or overturned on appeal) and `day` falls inside the authorization window."""
        return (self.status in IN_FORCE and self.start_on is not None and self.end_on is not None
                and self.start_on <= day <= self.end_on)


def patient_authorizations(session: Session, *, patient_id: int) -> list[CaseAuthorization]:
    """Every case of the patient, newest first, with the latest authorization of each approved case."""
    latest: dict[int, DeviceAccount] = {}
    for account in patient_accounts(session, patient_id=patient_id):
        current = latest.get(account.authorization.case_id)
        if current is None or (account.authorization.id or 0) > (current.authorization.id or 0):
            latest[account.authorization.case_id] = account
    rows = []
    for case in cases_for_patient(session, patient_id=patient_id):
        assert case.id is not None
        found = latest.get(case.id)
        auth = found.authorization if found else None
        rows.append(CaseAuthorization(
            case_id=case.id, payer_id=case.payer_id, indication=case.indication, phase=case.phase,
            status=case.status,
            auth_number=auth.auth_number if auth else None,
            start_on=auth.start_on if auth else None,
            end_on=auth.end_on if auth else None,
            authorized_devices=found.authorized_devices if found else None,
            used_devices=found.used_devices if found else None,
            remaining_devices=found.remaining_devices if found else None,
            authorized_sessions=found.authorized_sessions if found else None,
            remaining_sessions=found.remaining_sessions if found else None,
        ))
    return rows
