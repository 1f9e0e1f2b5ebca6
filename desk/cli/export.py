"""`python -m desk export fhir-pas|questionnaire` and `python -m desk import claim-response`: FHIR exchange."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from desk.audit import record_event
from desk.cli import CommandFailed, command_group, migrated_work, print_json
from desk.cli.payers import policy_or_fail
from desk.database import SYSTEM_ACTOR
from desk.errors import NotFound, ValidationFailed
from desk.fhir.claim_response import ClaimResponseRejected, apply_claim_response
from desk.fhir.pas import build_pas_bundle
from desk.fhir.questionnaire import NoCriteria, policy_questionnaire
from desk.policies.schema import INDICATIONS, PHASES
from desk.prior_auth.payer_rules import policy_catalog
from desk.settings import load_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    exports = command_group(commands, "export", help="export records as FHIR JSON")
    pas = exports.add_parser("fhir-pas", help="a prior-authorization case as a Da Vinci PAS request Bundle")
    pas.add_argument("--case", required=True, type=int, help="case number")
    pas.add_argument("--out", type=Path, default=None, help="write the Bundle here instead of stdout")
    pas.set_defaults(handler=_export_pas)

    questionnaire = exports.add_parser("questionnaire", help="a payer's criteria as a FHIR Questionnaire")
    questionnaire.add_argument("--payer", required=True, help="policy id, e.g. cigna")
    questionnaire.add_argument("--indication", choices=INDICATIONS, default="trd")
    questionnaire.add_argument("--phase", choices=PHASES, default="initial")
    questionnaire.add_argument("--benefit", choices=("medical", "pharmacy"),
                               help="the coverage's benefit, for payers with separate medical and pharmacy criteria")
    questionnaire.set_defaults(handler=_export_questionnaire)

    imports = command_group(commands, "import", help="import records from files")
    response = imports.add_parser("claim-response", help="apply a PAS ClaimResponse (JSON) to a case")
    response.add_argument("--case", required=True, type=int, help="case number")
    response.add_argument("file", type=Path, help="ClaimResponse or PAS response Bundle, JSON")
    response.set_defaults(handler=_import_claim_response)


def _export_pas(args: argparse.Namespace) -> int:
    with migrated_work(load_settings().database_url, actor=SYSTEM_ACTOR) as session:
        try:
            bundle = build_pas_bundle(session, case_id=args.case)
        except NotFound as exc:
            raise CommandFailed(f"--case: {exc}") from None
        except ValidationFailed as exc:
            raise CommandFailed(f"case #{args.case} cannot be exported: {exc}") from None
        record_event(session, action="export", entity="pa_case", entity_id=args.case,
                     detail="FHIR PAS request bundle" + (" (file)" if args.out else ""))
    text = json.dumps(bundle, indent=2)
    if args.out is None:
        print(text)
        return 0
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CommandFailed(f"--out: cannot write {args.out} ({exc.strerror})") from None
    print_json({"out": str(args.out), "case": args.case, "resources": len(bundle["entry"])})
    return 0


def _export_questionnaire(args: argparse.Namespace) -> int:
    settings = load_settings()
    catalog = policy_catalog(settings.payers_dir)
    policy = policy_or_fail(catalog, args.payer)
    try:
        questionnaire = policy_questionnaire(policy, indication=args.indication, phase=args.phase,
                                             benefit=args.benefit)
    except NoCriteria as exc:
        raise CommandFailed(f"{exc}: no Questionnaire to export") from None
    with migrated_work(settings.database_url, actor=SYSTEM_ACTOR) as session:
        record_event(session, action="export", entity="payer_policy", entity_id=policy.id,
                     detail=f"FHIR Questionnaire {args.indication}/{args.phase}"
                     + (f"/{args.benefit}" if args.benefit else ""))
    print_json(questionnaire)
    return 0


def _import_claim_response(args: argparse.Namespace) -> int:
    try:
        payload = args.file.read_bytes()
    except OSError as exc:
        raise CommandFailed(f"cannot read {args.file} ({exc.strerror})") from None
    with migrated_work(load_settings().database_url, actor=SYSTEM_ACTOR) as session:
        try:
            result = apply_claim_response(session, case_id=args.case, payload=payload, actor=SYSTEM_ACTOR)
        except NotFound as exc:
            raise CommandFailed(f"--case: {exc}") from None
        except (ClaimResponseRejected, ValidationFailed) as exc:
            raise CommandFailed(f"{args.file.name}: {exc}") from None
    print_json(result.summary())
    return 0
