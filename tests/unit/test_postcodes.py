"""Postal-code centroids, pure parts: normalisation, both file formats, row errors, averaging, the twin's codes."""

from __future__ import annotations

import math

import pytest

from keel.geo.model import PostalCode, PostalCodeReader, lookup_keys, normalise
from keel.platform.errors import FieldError
from keel.platform.geo import COUNTRIES
from keel.sim.geography import COUNTRIES as CITIES
from keel.sim.postcodes import twin_postal_codes
from keel.sim.world import Scale, generate


def geonames(country: str, code: str, place: str, lat: str, lon: str) -> str:
    """One line of a GeoNames postal-code dump (12 tab-separated fields, no header)."""
    return "\t".join([country, code, place, "Admin1", "A1", "Admin2", "A2", "Admin3", "A3", lat, lon, "4"]) + "\n"


def read(*lines: str | bytes, only: str | None = None) -> PostalCodeReader:
    reader = PostalCodeReader(COUNTRIES, only)
    reader.feed_lines(lines)
    return reader


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("10115", "10115"),
        (" sw1a 1aa ", "SW1A1AA"),
        ("SW1A\t1AA", "SW1A1AA"),
        ("00-950", "00950"),
        ("m5v 2t6", "M5V2T6"),
    ],
)
def test_normalise_upper_cases_and_drops_spaces_and_hyphens(written: str, key: str) -> None:
    assert normalise(written) == key


def test_lookup_keys_fall_back_to_the_outward_part_where_codes_have_one() -> None:
    assert lookup_keys("GB", "SW1A 1AA") == ["SW1A1AA", "SW1A"]
    assert lookup_keys("gb", "M1 4BT") == ["M14BT", "M1"]
    assert lookup_keys("CA", "M5V 2T6") == ["M5V2T6", "M5V"]
    assert lookup_keys("NL", "1012 AB") == ["1012AB", "1012"]
    assert lookup_keys("IE", "D02 X285") == ["D02X285", "D02"]
    assert lookup_keys("GB", "SW1A") == ["SW1A"]  # already an outward part
    assert lookup_keys("DE", "10115") == ["10115"]
    assert lookup_keys("DE", " - ") == []


def test_geonames_lines_are_read_as_centroids() -> None:
    # given two lines of a GeoNames dump / when read / then one centroid per code, in the key form
    reader = read(
        geonames("DE", "10115", "Berlin", "52.5323", "13.3846"), geonames("gb", "SW1A 1AA", "London", "51.5", "-0.14")
    )
    assert reader.finish() == []
    assert list(reader.codes()) == [
        PostalCode("DE", "10115", "10115", "Berlin", 52.5323, 13.3846, 1),
        PostalCode("GB", "SW1A1AA", "SW1A 1AA", "London", 51.5, -0.14, 1),
    ]
    assert (reader.rows, len(reader), reader.averaged, reader.found_countries()) == (2, 2, 0, ["DE", "GB"])


def test_csv_with_a_header_is_read_with_quoted_fields_and_extra_columns() -> None:
    reader = read(
        "Country,Postal_Code,Place,Latitude,Longitude,note\r\n",
        'NL,1012 AB,"Amsterdam, Centrum",52.3731,4.8926,x\r\n',
        "\n",
        b"FR,75001,,48.8592,2.3417,\n",
    )
    assert reader.finish() == []
    assert list(reader.codes()) == [
        PostalCode("FR", "75001", "75001", None, 48.8592, 2.3417, 1),
        PostalCode("NL", "1012AB", "1012 AB", "Amsterdam, Centrum", 52.3731, 4.8926, 1),
    ]


def test_a_csv_without_place_column_is_accepted() -> None:
    reader = read("country,postal_code,latitude,longitude\n", "AT,1010,48.2092,16.3728\n")
    assert [(c.postal_code, c.place) for c in reader.codes()] == [("1010", None)]


def test_rows_sharing_a_code_are_averaged_and_the_first_place_is_kept() -> None:
    # given GeoNames' three rows of one code (one per place it serves) / when read / then their mean
    reader = read(
        geonames("FR", "01400", "Abergement-Clémenciat", "46.15", "4.9167"),
        geonames("FR", "01400", "Châtillon-sur-Chalaronne", "46.1167", "4.95"),
        geonames("FR", "01-400", "Dompierre-sur-Chalaronne", "46.1333", "4.9"),
        geonames("FR", "01500", "Ambérieu-en-Bugey", "45.9667", "5.35"),
    )
    codes = {c.postal_code: c for c in reader.codes()}
    averaged = codes["01400"]
    assert (averaged.place, averaged.source_rows) == ("Abergement-Clémenciat", 3)
    assert averaged.latitude == pytest.approx((46.15 + 46.1167 + 46.1333) / 3, abs=1e-6)
    assert averaged.longitude == pytest.approx((4.9167 + 4.95 + 4.9) / 3, abs=1e-6)
    assert codes["01500"].source_rows == 1
    assert (reader.rows, len(reader), reader.averaged) == (4, 2, 1)


def test_averaging_across_the_180th_meridian_stays_near_it() -> None:
    reader = read(geonames("FJ", "0001", "East", "-17.0", "179.9"), geonames("FJ", "0001", "West", "-17.2", "-179.9"))
    (code,) = reader.codes()
    assert code.latitude == pytest.approx(-17.1)
    assert abs(code.longitude) == pytest.approx(180.0)


def test_every_bad_row_is_reported_with_its_line_and_field() -> None:
    reader = read(
        geonames("DE", "10115", "Berlin", "52.5", "13.4"),
        geonames("XX", "1", "Nowhere", "1", "1"),
        geonames("DE", "  ", "Blank", "", "13.4"),
        geonames("DE", "10117", "Far", "95", "-181"),
        geonames("DE", "10119", "Text", "north", "inf"),
        "DE\t10120\tshort line\n",
        b"DE\t10121\t\xff\n",
        geonames("DE", "1" * 21, "Long", "1", "1"),
    )
    assert reader.finish() == [
        FieldError(2, "country", "unknown ISO 3166 country code 'XX'"),
        FieldError(3, "postal_code", "required"),
        FieldError(3, "latitude", "required"),
        FieldError(4, "latitude", "95 is outside [-90, 90]"),
        FieldError(4, "longitude", "-181 is outside [-180, 180]"),
        FieldError(5, "latitude", "not a number: 'north'"),
        FieldError(5, "longitude", "inf is outside [-180, 180]"),
        FieldError(6, "", "expected 12 tab-separated fields, found 3"),
        FieldError(7, "", "not UTF-8 text"),
        FieldError(8, "postal_code", f"longer than 20 characters: {'1' * 21!r}"),
    ]
    assert reader.error_count == 10


def test_a_csv_without_the_required_header_is_refused_once() -> None:
    reader = read("DE,10115,Berlin,52.5,13.4\n", "DE,10117,Berlin,52.5,13.4\n")
    assert reader.finish() == [
        FieldError(
            1,
            "header",
            "neither a GeoNames line (tab-separated) nor a CSV header; missing columns: country, postal_code,"
            " latitude, longitude",
        )
    ]
    reader = read("country,postal_code,latitude,longitude\n", "DE,10115,52.5\n")
    assert reader.finish() == [FieldError(2, "", "expected 4 comma-separated fields, found 3")]


def test_one_country_is_kept_and_an_empty_selection_is_an_error() -> None:
    lines = [geonames("DE", "10115", "Berlin", "52.5", "13.4"), geonames("XX", "1", "bad but skipped", "", "")]
    reader = read(*lines, only="de")
    assert (reader.finish(), len(reader), reader.skipped) == ([], 1, 1)
    assert read(*lines[:1], only="FR").finish() == [FieldError(None, "file", "no postal codes of FR found")]
    assert read("\n").finish() == [FieldError(None, "file", "no postal codes found")]


def test_mappings_are_validated_like_file_rows() -> None:
    reader = PostalCodeReader(COUNTRIES)
    reader.add(1, {"country": "de", "postal_code": 10115, "place": "Berlin", "latitude": 52.5, "longitude": 13.4})
    reader.add(2, {"country": "DE", "postal_code": "10117", "latitude": True, "longitude": None})
    assert reader.finish() == [
        FieldError(2, "latitude", "must be a number"),
        FieldError(2, "longitude", "required"),
    ]
    assert [c.postal_code for c in reader.codes()] == ["10115"]


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat2 - lat1) * 111.0
    dx = (lon2 - lon1) * 111.0 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


def test_twin_postal_codes_are_deterministic_valid_and_near_their_city() -> None:
    codes = twin_postal_codes(42)
    assert codes == twin_postal_codes(42)
    assert codes != twin_postal_codes(43)
    assert generate(42, Scale(skus=10, locations=90, channels=10)).postal_codes == codes
    reader = PostalCodeReader(COUNTRIES)
    for number, row in enumerate(codes, start=1):
        reader.add(number, row)
    assert reader.finish() == []
    assert len(reader) == len(codes) and reader.averaged == 0  # unique within each country
    for country, (_, cities) in CITIES.items():
        for city, _region, lat, lon in cities:
            mine = [c for c in codes if (c["country"], c["place"]) == (country, city)]
            assert 3 <= len(mine) <= 5, (country, city)
            assert all(km(lat, lon, c["latitude"], c["longitude"]) < 10 for c in mine), (country, city)
    formats = {c["country"]: c["postal_code"] for c in codes}
    assert len(formats["DE"]) == 5 and formats["DE"].isdigit()
    assert formats["PL"][2] == "-" and formats["NL"][4] == " " and len(formats["GB"]) == 7
