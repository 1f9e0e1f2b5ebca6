"""Clinical history brought in from an EHR (FHIR export or spreadsheet): parsed facts, review against the
record, and the one accepted write."""
