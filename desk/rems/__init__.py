"""REMS: site certification, patient enrollment, course plan, session log, Patient Monitoring Form."""
