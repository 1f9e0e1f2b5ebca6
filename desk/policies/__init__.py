"""Payer policies: file format (schema), loading (loader), case facts (case, builder), evaluation, shortfalls,
eligibility."""

from desk.policies.builder import build_case_facts
from desk.policies.case import CaseFacts, case_json_schema, case_problems, read_case
from desk.policies.drugs import DrugInfo, DrugLookup, ReferenceDrugs, TableDrugs, default_drugs
from desk.policies.evaluator import ApprovalTerms, CriterionResult, Evaluation, evaluate
from desk.policies.loader import GENERIC_POLICY_ID, PolicyCatalog, Problem, load_catalog, parse_policy
from desk.policies.schema import INDICATIONS, PHASES, Policy
from desk.policies.shortfalls import Shortfall, Shortfalls, shortfalls

__all__ = [
    "GENERIC_POLICY_ID",
    "INDICATIONS",
    "PHASES",
    "ApprovalTerms",
    "CaseFacts",
    "CriterionResult",
    "DrugInfo",
    "DrugLookup",
    "Evaluation",
    "Policy",
    "PolicyCatalog",
    "Problem",
    "ReferenceDrugs",
    "Shortfall",
    "Shortfalls",
    "TableDrugs",
    "build_case_facts",
    "case_json_schema",
    "case_problems",
    "default_drugs",
    "evaluate",
    "load_catalog",
    "parse_policy",
    "read_case",
    "shortfalls",
]
