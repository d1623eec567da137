"""HTTP API of the reference geography: postal-code centroids."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from keel.deps import KeelDep

router = APIRouter(tags=["geo"])


class PostalCodePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    country: str = Field(examples=["DE"])
    postal_code: str = Field(description="the normalised key: upper case, no spaces or hyphens", examples=["10115"])
    display: str = Field(description="as first written in the imported source", examples=["10115"])
    place: str | None = Field(examples=["Berlin"])
    latitude: float
    longitude: float
    source_rows: int = Field(description="rows of the source averaged into this centroid")
    exact: bool = Field(description="false when only the code's outward part is known (GB, CA, IE, NL)")


@router.get(
    "/geo/postal-codes/{country}/{code}",
    response_model=PostalCodePublic,
    operation_id="get_postal_code",
    summary="Locate a postal code",
    responses={404: {"description": "no centroid is known for the code or its outward part"}},
)
def get_postal_code(country: str, code: str, keel: KeelDep) -> PostalCodePublic:
    """The centroid an order shipping to this postal code is routed from, with the place name and whether it is exact or
    only the code's outward part is known.

    Refuses a code whose centroid is not known, nor that of its outward part (404). Idempotent: a read, it changes
    nothing.
    """
    return PostalCodePublic.model_validate(keel.postcodes.get(country, code))
