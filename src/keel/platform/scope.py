"""What data an identity may see and change: a set of channels and a set of countries (None: all).

A value of the shared kernel because every context with channel- or country-bound data filters by it; the
access context derives it from the identity (``Identity.scope``) and the API layer passes it explicitly to
the services (docs/access.md, "Restrictions"). Out-of-scope reads answer 404 (as if the record did not
exist), out-of-scope writes ``OutOfScope`` (403 naming the channel or country).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from keel.platform.errors import Forbidden


class OutOfScope(Forbidden):
    """A write to a channel or country outside the caller's restrictions."""

    slug = "out-of-scope"


@dataclass(frozen=True)
class Scope:
    channels: frozenset[str] | None = None
    countries: frozenset[str] | None = None

    ALL: ClassVar[Scope]

    @classmethod
    def of(cls, channels: Iterable[str] | None, countries: Iterable[str] | None) -> Scope:
        return cls(
            None if channels is None else frozenset(channels),
            None if countries is None else frozenset(c.upper() for c in countries),
        )

    @property
    def restricted(self) -> bool:
        return self.channels is not None or self.countries is not None

    def sees_channel(self, code: str | None) -> bool:
        return self.channels is None or code in self.channels

    def sees_country(self, code: str | None) -> bool:
        return self.countries is None or (code is not None and code.upper() in self.countries)

    def check_channel(self, code: str) -> None:
        if not self.sees_channel(code):
            raise OutOfScope(f"the channel {code!r} is outside your restrictions", channel=code)

    def check_every_country(self, what: str) -> None:
        """For a write that applies in every country (``what`` names it): refused under a country restriction."""
        if self.countries is not None:
            raise OutOfScope(f"{what} applies in every country; your restrictions allow only some countries")

    def check_country(self, code: str | None, what: str = "the country") -> None:
        """``what`` names whose country it is, e.g. "the ship-to country", "the country of location 'x'"."""
        if not self.sees_country(code):
            raise OutOfScope(f"{what} is {code!r}, outside your restrictions", country=code)


Scope.ALL = Scope()
