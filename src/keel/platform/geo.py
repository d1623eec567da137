"""ISO reference data used to validate countries and currencies."""

from __future__ import annotations

import pycountry

COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)
