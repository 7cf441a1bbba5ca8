"""Distances between municipality centroids and population bands."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = 111.32

# Fine at the small end, where most Czech municipalities are (DESIGN.md).
POPULATION_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("lt200", 0, 200),
    ("200-499", 200, 500),
    ("500-999", 500, 1000),
    ("1k-2k", 1000, 2000),
    ("2k-5k", 2000, 5000),
    ("5k-10k", 5000, 10000),
    ("10k-20k", 10000, 20000),
    ("20k-50k", 20000, 50000),
    ("50k-100k", 50000, 100000),
    ("ge100k", 100000, None),
)
BAND_IDS = tuple(b[0] for b in POPULATION_BANDS)


def band_index(population: int) -> int:
    for index, (_, low, high) in enumerate(POPULATION_BANDS):
        if population >= low and (high is None or population < high):
            return index
    return 0


def band_range(first: int, last: int) -> tuple[int, int | None]:
    """Population [low, high) covered by bands ``first``..``last``."""
    first = max(first, 0)
    last = min(last, len(POPULATION_BANDS) - 1)
    return POPULATION_BANDS[first][1], POPULATION_BANDS[last][2]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing the circle; a prefilter only."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlon = radius_km / (KM_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
