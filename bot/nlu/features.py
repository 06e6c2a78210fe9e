"""The features of a text for the built-in classifier: words, word pairs and the letter
sequences of each word (which is what makes "jln", "jalan" and "jlan" alike). The same function
serves training (scikit-learn's vectorizer calls it) and prediction, so they can never differ.

Common chat and SMS abbreviations are written out first ("sy" is "saya", "gk" and "ga" are
"tidak"), so that a spelling seen in no example still means what its usual spelling means.
"""
from __future__ import annotations

from dialogs.normalize import loose, normalize

__all__ = ["ABBREVIATIONS", "features"]

_MIN_GRAM, _MAX_GRAM = 3, 4  # 2-grams: 40% more features, slower training, no better

# Informal spelling -> the word (or words) the examples most often use for it.
ABBREVIATIONS = {
    **dict.fromkeys(("sy", "aku", "ak", "gw", "gue", "gua"), "saya"),
    **dict.fromkeys(("gk", "ga", "gak", "nggak", "ngga", "nggk", "enggak", "engga", "tdk", "tak", "kagak", "ndak"),
                    "tidak"),
    **dict.fromkeys(("udh", "udah", "sdh", "dah", "sudh"), "sudah"),
    **dict.fromkeys(("gmn", "gmana", "bagaimana", "gimn"), "gimana"),
    **dict.fromkeys(("mw", "mo", "mao"), "mau"),
    "yg": "yang", "bgt": "banget", "jln": "jalan", "jl": "jalan", "dmn": "dimana", "kmrn": "kemarin",
    "kemaren": "kemarin", "blm": "belum", "krn": "karena", "karna": "karena", "tlg": "tolong", "mhn": "mohon",
    "dgn": "dengan", "utk": "untuk", "dr": "dari", "dpn": "depan", "bs": "bisa", "lg": "lagi", "jg": "juga",
    "skrg": "sekarang", "tp": "tapi", "sm": "sama", "org": "orang", "msh": "masih", "trs": "terus",
    "aja": "saja", "bener": "benar", "tsb": "tersebut", "kpd": "kepada", "sampe": "sampai", "jd": "jadi",
    "klo": "kalau", "kalo": "kalau", "gajadi": "tidak jadi", "gausah": "tidak usah", "ortu": "orang tua",
    "pls": "please", "plz": "please",
}


def features(text: str) -> list[str]:
    """``text`` normalised (case, accents, punctuation, abbreviations) into its features,
    repeats kept."""
    words: list[str] = []
    for word in loose(normalize(text)).split():
        expansion = ABBREVIATIONS.get(word)
        if expansion is None:
            words.append(word)
        else:
            words.extend(expansion.split())
    found = [f"w:{word}" for word in words]
    found += [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    for word in words:
        padded = f" {word} "
        for size in range(_MIN_GRAM, _MAX_GRAM + 1):
            found += [f"c:{padded[i:i + size]}" for i in range(len(padded) - size + 1)]
    return found
