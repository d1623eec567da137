"""Reference cities per country (name, region, latitude, longitude), largest first: where an address
without coordinates or a known postal code is placed, and where the retail twin puts its sites."""

from __future__ import annotations

# Per ISO country: its cities, the largest first (the fallback position of the whole country).
CITIES: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    "DE": (
        ("Berlin", "Berlin", 52.52, 13.405),
        ("Hamburg", "Hamburg", 53.551, 9.994),
        ("Munich", "Bavaria", 48.137, 11.575),
        ("Cologne", "North Rhine-Westphalia", 50.938, 6.96),
        ("Frankfurt", "Hesse", 50.11, 8.682),
    ),
    "FR": (
        ("Paris", "Ile-de-France", 48.857, 2.352),
        ("Lyon", "Auvergne-Rhone-Alpes", 45.764, 4.836),
        ("Marseille", "Provence-Alpes-Cote d'Azur", 43.296, 5.37),
        ("Lille", "Hauts-de-France", 50.629, 3.057),
    ),
    "GB": (
        ("London", "England", 51.507, -0.128),
        ("Manchester", "England", 53.481, -2.243),
        ("Birmingham", "England", 52.486, -1.89),
        ("Glasgow", "Scotland", 55.864, -4.252),
    ),
    "IT": (
        ("Milan", "Lombardy", 45.464, 9.19),
        ("Rome", "Lazio", 41.903, 12.496),
        ("Naples", "Campania", 40.852, 14.268),
        ("Turin", "Piedmont", 45.07, 7.687),
    ),
    "ES": (
        ("Madrid", "Madrid", 40.417, -3.704),
        ("Barcelona", "Catalonia", 41.385, 2.173),
        ("Valencia", "Valencia", 39.47, -0.376),
        ("Seville", "Andalusia", 37.389, -5.984),
    ),
    "NL": (
        ("Amsterdam", "North Holland", 52.368, 4.904),
        ("Rotterdam", "South Holland", 51.924, 4.478),
        ("Utrecht", "Utrecht", 52.091, 5.122),
    ),
    "BE": (
        ("Brussels", "Brussels", 50.85, 4.352),
        ("Antwerp", "Flanders", 51.219, 4.402),
        ("Ghent", "Flanders", 51.054, 3.717),
    ),
    "AT": (
        ("Vienna", "Vienna", 48.208, 16.374),
        ("Graz", "Styria", 47.071, 15.439),
        ("Linz", "Upper Austria", 48.306, 14.286),
    ),
    "CH": (
        ("Zurich", "Zurich", 47.377, 8.542),
        ("Geneva", "Geneva", 46.204, 6.143),
        ("Basel", "Basel-Stadt", 47.56, 7.589),
    ),
    "PL": (
        ("Warsaw", "Masovia", 52.23, 21.012),
        ("Krakow", "Lesser Poland", 50.065, 19.945),
        ("Wroclaw", "Lower Silesia", 51.108, 17.038),
        ("Gdansk", "Pomerania", 54.352, 18.646),
    ),
    "SE": (
        ("Stockholm", "Stockholm", 59.329, 18.069),
        ("Gothenburg", "Vastra Gotaland", 57.709, 11.975),
        ("Malmo", "Skane", 55.605, 13.004),
    ),
    "DK": (
        ("Copenhagen", "Capital Region", 55.676, 12.568),
        ("Aarhus", "Central Jutland", 56.163, 10.204),
    ),
    "NO": (
        ("Oslo", "Oslo", 59.914, 10.752),
        ("Bergen", "Vestland", 60.391, 5.322),
    ),
    "FI": (
        ("Helsinki", "Uusimaa", 60.17, 24.938),
        ("Tampere", "Pirkanmaa", 61.498, 23.761),
    ),
    "IE": (
        ("Dublin", "Leinster", 53.35, -6.26),
        ("Cork", "Munster", 51.897, -8.47),
    ),
    "PT": (
        ("Lisbon", "Lisbon", 38.722, -9.139),
        ("Porto", "Norte", 41.158, -8.629),
    ),
    "CZ": (
        ("Prague", "Prague", 50.075, 14.437),
        ("Brno", "South Moravia", 49.195, 16.607),
    ),
    "US": (
        ("New York", "New York", 40.713, -74.006),
        ("Los Angeles", "California", 34.052, -118.244),
        ("Chicago", "Illinois", 41.878, -87.63),
        ("Dallas", "Texas", 32.777, -96.797),
        ("Atlanta", "Georgia", 33.749, -84.388),
    ),
    "CA": (
        ("Toronto", "Ontario", 43.653, -79.383),
        ("Vancouver", "British Columbia", 49.283, -123.121),
        ("Montreal", "Quebec", 45.502, -73.567),
    ),
    "AU": (
        ("Sydney", "New South Wales", -33.869, 151.209),
        ("Melbourne", "Victoria", -37.814, 144.963),
        ("Brisbane", "Queensland", -27.47, 153.026),
    ),
    "JP": (
        ("Tokyo", "Kanto", 35.676, 139.65),
        ("Osaka", "Kansai", 34.694, 135.502),
        ("Nagoya", "Chubu", 35.181, 136.906),
    ),
}


def city_centroid(country: str, city: str | None) -> tuple[float, float, str] | None:
    """Coordinates of the named city when the reference table knows it (how: ``"city"``), else of the
    country's largest city (``"country"``: good enough to rank nodes by distance), else None."""
    cities = CITIES.get(country)
    if cities is None:
        return None
    for name, _region, lat, lon in cities:
        if city and name.lower() == city.strip().lower():
            return lat, lon, "city"
    return cities[0][2], cities[0][3], "country"
