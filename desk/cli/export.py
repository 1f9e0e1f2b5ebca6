"""`python -m desk export fhir-pas|questionnaire` and `python -m desk import claim-response`: FHIR exchange."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from desk.audit import record_event
from desk.cli import CommandFailed, command_group, print_json
from desk.database import SYSTEM_ACTOR, make_engine, migrate, unit_of_work
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
    questionnaire.set_defaults(handler=_export_questionnaire)

    imports = command_group(commands, "import", help="import records from files")
    response = imports.add_parser("claim-response", help="apply a PAS ClaimResponse (JSON) to a case")
    response.add_argument("--case", required=True, type=int, help="case number")
    response.add_argument("file", type=Path, help="ClaimResponse or PAS response Bundle, JSON")
    response.set_defaults(handler=_import_claim_response)


def _export_pas(args: argparse.Namespace) -> int:
    settings = load_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine, actor=SYSTEM_ACTOR) as session:
            try:
                bundle = build_pas_bundle(session, case_id=args.case)
            except NotFound as exc:
                raise CommandFailed(f"--case: {exc}") from None
            except ValidationFailed as exc:
                raise CommandFailed(f"case #{args.case} cannot be exported: {exc}") from None
            record_event(session, action="export", entity="pa_case", entity_id=args.case,
                         detail="FHIR PAS request bundle" + (" (file)" if args.out else ""))
    finally:
        engine.dispose()
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
    policy = catalog.get(args.payer)
    if policy is None:
        broken = [str(p) for p in catalog.problems if Path(p.file).stem == args.payer]
        if broken:
            raise CommandFailed(f"--payer: the policy file for {args.payer!r} is invalid: {broken[0]}")
        known = ", ".join(sorted(catalog.policies))
        raise CommandFailed(f"--payer: no policy on file for {args.payer!r}; known: {known}")
    try:
        questionnaire = policy_questionnaire(policy, indication=args.indication, phase=args.phase)
    except NoCriteria as exc:
        raise CommandFailed(f"{exc}: no Questionnaire to export") from None
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine, actor=SYSTEM_ACTOR) as session:
            record_event(session, action="export", entity="payer_policy", entity_id=policy.id,
                         detail=f"FHIR Questionnaire {args.indication}/{args.phase}")
    finally:
        engine.dispose()
    print_json(questionnaire)
    return 0


def _import_claim_response(args: argparse.Namespace) -> int:
    try:
        payload = args.file.read_bytes()
    except OSError as exc:
        raise CommandFailed(f"cannot read {args.file} ({exc.strerror})") from None
    settings = load_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine, actor=SYSTEM_ACTOR) as session:
            try:
                result = apply_claim_response(session, case_id=args.case, payload=payload, actor=SYSTEM_ACTOR)
            except NotFound as exc:
                raise CommandFailed(f"--case: {exc}") from None
            except (ClaimResponseRejected, ValidationFailed) as exc:
                raise CommandFailed(f"{args.file.name}: {exc}") from None
    finally:
        engine.dispose()
    print_json(result.summary())
    return 0
