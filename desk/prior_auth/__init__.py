"""Prior authorization: cases, checklist, lifecycle, decision clocks, device accounting, packet, worklist."""
