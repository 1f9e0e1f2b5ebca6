"""FHIR interoperability: Da Vinci PAS request bundles, payer criteria as Questionnaires, ClaimResponse import.

The resources are FHIR R4 JSON (the version the Da Vinci PAS and DTR guides are built on), validated
structurally with the R4B models of `fhir.resources` (R4B changed none of the elements used here).
"""
