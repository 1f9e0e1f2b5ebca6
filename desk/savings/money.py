"""Whole-cent money: parsing what a person typed and showing it back."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def to_cents(value: Decimal | float | int | str) -> int:
    """Dollars (as typed or from a number widget) to whole cents; raises ValueError when not a number."""
    try:
        amount = Decimal(str(value).replace("$", "").replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValueError("not an amount of money") from exc
    if not amount.is_finite():
        raise ValueError("not an amount of money")
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def format_cents(cents: int | None) -> str:
    """'$1,234.56' (negative as '-$1.00'); None as an em dash."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"
