"""Manufacturer savings program (SPRAVATO withMe): eligibility, yearly terms, enrollment, claims, billing."""
