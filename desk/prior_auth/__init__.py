"""Prior authorization: cases, the payer checklist, and the documents a clinic sends under a prescriber's signature.

Every outgoing document is built in two steps, facts first, then words:

1. Compose (compose.py): read the record once and collect the case's facts as typed values (facts.py), each
   with where in the record it comes from: patient, coverage and payer file, prescriber, the setting's REMS
   certification on the start date and the patient's enrollment, diagnoses and the episode start, trials with
   the episode each belongs to, scores, current antidepressants, the request with its label schedule check
   (request_schedule.py) and billing decision (billing.py), every criterion relied on with its status,
   attestation or exception, the conclusion of the evaluation (met, met by attestation, met by exception,
   still open) and the denial.
2. Render (wording.py, then desk/pdf/letters.py, the form field maps and desk/fhir): turn only those facts into
   sentences. A sentence is conditional on its fact; what the facts do not support is not written, or is written
   as what it is ("the prescriber attests ...", "an exception is requested because ...", "not recorded").
   Numbers are clinical (200 mg, 92 %); no internal word (ids, usernames, rule ids, screen wording) appears.
   The prescriber signs and attests; a staff account never does.

A new document type adds a renderer over CaseFacts (and, if it needs one, a new fact collected in compose.py);
it never reads the database itself. tests/desk/test_claims_audit.py reads every document back and checks its
sentences against the record.
"""
