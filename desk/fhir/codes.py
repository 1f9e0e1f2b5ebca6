"""Code systems, profile URLs and identifier systems used in the FHIR resources the desk writes and reads.

Sources: HL7 Da Vinci PAS IG STU 2.1 (hl7.org/fhir/us/davinci-pas; profiles in input/fsh of
github.com/HL7/davinci-pas), US Core 7.0, FHIR R4 terminology. X12 code meanings follow the PAS examples.
"""

from __future__ import annotations

# ---------------------------------------------------------------- code systems
NPI = "http://hl7.org/fhir/sid/us-npi"
EIN = "http://terminology.hl7.org/NamingSystem/USEIN"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NDC = "http://hl7.org/fhir/sid/ndc"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT = "http://www.ama-assn.org/go/cpt"
UCUM = "http://unitsofmeasure.org"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
PLACE_OF_SERVICE = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
X12_ENTITY = "https://codesystem.x12.org/005010/98"  # NM101 entity identifier
X12_REQUEST_TYPE = "https://codesystem.x12.org/005010/1525"  # UM01
X12_CERTIFICATION_TYPE = "https://codesystem.x12.org/005010/1322"  # UM02
X12_SERVICE_TYPE = "https://codesystem.x12.org/005010/1365"  # UM03
X12_DIAGNOSIS_TYPE = "https://codesystem.x12.org/005010/1270"  # HI01-1
X12_RELATIONSHIP = "https://codesystem.x12.org/005010/1069"  # INS02
X12_QUANTITY = "https://codesystem.x12.org/005010/673"  # HSD01
X12_REPORT_TYPE = "https://codesystem.x12.org/005010/755"  # PWK01
X12_TRANSMISSION = "https://codesystem.x12.org/005010/756"  # PWK02
X12_REVIEW_ACTION = "https://codesystem.x12.org/005010/306"  # HCR01
X12_DECISION_REASON = "https://codesystem.x12.org/005010/4131"  # HCR03

# The desk's own identifier and code systems. A clinic that publishes its resources under a web address of
# its own can replace this prefix; payers match requests on member ID, NPI and the Claim identifier.
DESK = "urn:spravato-desk"
MRN_SYSTEM = f"{DESK}:mrn"
MEMBER_ID_SYSTEM = f"{DESK}:member-id"
PAYER_ID_SYSTEM = f"{DESK}:payer"
CRITERIA_SYSTEM = f"{DESK}:payer-criteria"
CRITERION_STATUS_SYSTEM = f"{DESK}:criterion-status"
CRITERIA_GROUP_EXTENSION = f"{DESK}:criteria-group"
QUESTIONNAIRE_BASE = f"{DESK}:questionnaire"

# ---------------------------------------------------------------- profiles
PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition"
PAS_REQUEST_BUNDLE = f"{PAS}/profile-pas-request-bundle"
PAS_CLAIM = f"{PAS}/profile-claim"
PAS_BENEFICIARY = f"{PAS}/profile-beneficiary"
PAS_COVERAGE = f"{PAS}/profile-coverage"
PAS_INSURER = f"{PAS}/profile-insurer"
PAS_REQUESTOR = f"{PAS}/profile-requestor"
PAS_PRACTITIONER = f"{PAS}/profile-practitioner"
PAS_PRACTITIONER_ROLE = f"{PAS}/profile-practitionerrole"
PAS_MEDICATION_REQUEST = f"{PAS}/profile-medicationrequest"
PAS_DOCUMENT_REFERENCE = f"{PAS}/profile-documentreference"
PAS_CLAIM_RESPONSE = f"{PAS}/profile-claimresponse"
US_CORE_CONDITION = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns"
US_CORE_QUESTIONNAIRE_RESPONSE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-questionnaireresponse"
SDC_CONSTRAINT = "http://hl7.org/fhir/StructureDefinition/questionnaire-constraint"

# ---------------------------------------------------------------- PAS extensions
EXT_CARE_TEAM_SCOPE = f"{PAS}/extension-careTeamClaimScope"
EXT_REQUEST_TYPE = f"{PAS}/extension-serviceItemRequestType"
EXT_CERTIFICATION_TYPE = f"{PAS}/extension-certificationType"
EXT_REQUESTED_SERVICE = f"{PAS}/extension-requestedService"
EXT_DOCUMENT_INFORMATION = f"{PAS}/extension-documentInformation"
EXT_REVIEW_ACTION = f"{PAS}/extension-reviewAction"
EXT_REVIEW_ACTION_CODE = f"{PAS}/extension-reviewActionCode"
EXT_ITEM_PREAUTH_PERIOD = f"{PAS}/extension-itemPreAuthPeriod"
EXT_ITEM_PREAUTH_ISSUE_DATE = f"{PAS}/extension-itemPreAuthIssueDate"
EXT_ITEM_AUTHORIZED_DETAIL = f"{PAS}/extension-itemAuthorizedDetail"
EXT_DIAGNOSIS_RECORDED_DATE = f"{PAS}/extension-diagnosisRecordedDate"

# ---------------------------------------------------------------- X12 codes the desk uses
# HCR01 review actions (PAS examples: A1 "Certified in total", A3 "Not Certified", A4 "Pending").
REVIEW_APPROVED = {"A1": "certified in total", "A2": "certified, partial", "A6": "modified"}
REVIEW_DENIED = {"A3": "not certified"}
REVIEW_PENDED = {"A4": "pended"}
# UM02: initial request or renewal (a continuation of treatment).
CERTIFICATION_BY_PHASE = {"initial": "I", "continuation": "R"}
# HSD01 quantity qualifiers PAS allows for an X12 278 (days, units, hours, months, visits).
QUANTITY_VISITS = "VS"
QUANTITY_UNITS = "FL"
# NUCC taxonomy: Psychiatry (2084P0800X); Nurse Practitioner, Psychiatric/Mental Health (363LP0808X).
TAXONOMY_BY_SPECIALTY = {
    "psychiatrist": ("2084P0800X", "Psychiatry & Neurology, Psychiatry"),
    "psychiatric_np": ("363LP0808X", "Nurse Practitioner, Psych/Mental Health"),
}
GENDER_BY_SEX = {"F": "female", "M": "male", "X": "other", "U": "unknown"}
