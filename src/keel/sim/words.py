"""The words of the twin's catalogue in the languages of its markets: each leaf category's product noun and a
one-line description, so every product has a title and a description in each locale its channels show.

Nine languages: the markets whose language is not among them (Denmark, Finland, Norway, Portugal, the Czech
Republic) are served in English, as many retailers serve their smaller markets.
"""

from __future__ import annotations

LOCALES = ("en", "de", "fr", "es", "it", "nl", "sv", "pl", "ja")
# The locale a channel selling in one country shows; a channel selling in several countries shows English.
COUNTRY_LOCALE = {
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "FR": "fr",
    "BE": "nl",
    "NL": "nl",
    "ES": "es",
    "IT": "it",
    "SE": "sv",
    "PL": "pl",
    "JP": "ja",
}
DEFAULT_LOCALE = "en"

# leaf category -> the product noun in LOCALES order
NOUNS: dict[str, tuple[str, ...]] = {
    "T-shirts": ("T-shirt", "T-Shirt", "T-shirt", "Camiseta", "T-shirt", "T-shirt", "T-shirt", "Koszulka", "Tシャツ"),
    "Shirts": ("Shirt", "Hemd", "Chemise", "Camisa", "Camicia", "Overhemd", "Skjorta", "Koszula", "シャツ"),
    "Knitwear": ("Jumper", "Pullover", "Pull", "Jersey", "Maglione", "Trui", "Tröja", "Sweter", "セーター"),
    "Jeans": ("Jeans", "Jeans", "Jean", "Vaqueros", "Jeans", "Spijkerbroek", "Jeans", "Dżinsy", "ジーンズ"),
    "Trousers": ("Trousers", "Hose", "Pantalon", "Pantalón", "Pantaloni", "Broek", "Byxor", "Spodnie", "パンツ"),
    "Shorts": ("Shorts", "Shorts", "Short", "Bermudas", "Pantaloncini", "Korte broek", "Shorts", "Szorty", "ショーツ"),
    "Jackets": ("Jacket", "Jacke", "Veste", "Chaqueta", "Giacca", "Jas", "Jacka", "Kurtka", "ジャケット"),
    "Coats": ("Coat", "Mantel", "Manteau", "Abrigo", "Cappotto", "Mantel", "Kappa", "Płaszcz", "コート"),
    "Running": (
        "Running shoe",
        "Laufschuh",
        "Chaussure de running",
        "Zapatilla de running",
        "Scarpa da running",
        "Hardloopschoen",
        "Löparsko",
        "But do biegania",
        "ランニングシューズ",
    ),
    "Lifestyle": (
        "Sneaker",
        "Sneaker",
        "Basket",
        "Zapatilla",
        "Sneaker",
        "Sneaker",
        "Sneaker",
        "Sneakersy",
        "スニーカー",
    ),
    "Ankle boots": (
        "Ankle boot",
        "Stiefelette",
        "Bottine",
        "Botín",
        "Stivaletto",
        "Enkellaars",
        "Kängor",
        "Botki",
        "ショートブーツ",
    ),
    "Hiking boots": (
        "Hiking boot",
        "Wanderschuh",
        "Chaussure de randonnée",
        "Bota de montaña",
        "Scarpone da trekking",
        "Wandelschoen",
        "Vandringskänga",
        "But trekkingowy",
        "トレッキングブーツ",
    ),
    "Cookware": (
        "Frying pan",
        "Pfanne",
        "Poêle",
        "Sartén",
        "Padella",
        "Koekenpan",
        "Stekpanna",
        "Patelnia",
        "フライパン",
    ),
    "Knives": (
        "Kitchen knife",
        "Küchenmesser",
        "Couteau de cuisine",
        "Cuchillo de cocina",
        "Coltello da cucina",
        "Keukenmes",
        "Kökskniv",
        "Nóż kuchenny",
        "包丁",
    ),
    "Bedding": (
        "Duvet cover",
        "Bettbezug",
        "Housse de couette",
        "Funda nórdica",
        "Copripiumino",
        "Dekbedovertrek",
        "Påslakan",
        "Poszwa",
        "布団カバー",
    ),
    "Towels": ("Towel", "Handtuch", "Serviette", "Toalla", "Asciugamano", "Handdoek", "Handduk", "Ręcznik", "タオル"),
    "Creams": (
        "Face cream",
        "Gesichtscreme",
        "Crème visage",
        "Crema facial",
        "Crema viso",
        "Gezichtscrème",
        "Ansiktskräm",
        "Krem do twarzy",
        "フェイスクリーム",
    ),
    "Serums": ("Serum", "Serum", "Sérum", "Sérum", "Siero", "Serum", "Serum", "Serum", "美容液"),
    "Eau de parfum": ("Eau de parfum",) * 8 + ("オードパルファム",),
    "Headphones": (
        "Headphones",
        "Kopfhörer",
        "Casque",
        "Auriculares",
        "Cuffie",
        "Koptelefoon",
        "Hörlurar",
        "Słuchawki",
        "ヘッドホン",
    ),
    "Speakers": (
        "Speaker",
        "Lautsprecher",
        "Enceinte",
        "Altavoz",
        "Altoparlante",
        "Luidspreker",
        "Högtalare",
        "Głośnik",
        "スピーカー",
    ),
    "Chargers": (
        "Charger",
        "Ladegerät",
        "Chargeur",
        "Cargador",
        "Caricatore",
        "Oplader",
        "Laddare",
        "Ładowarka",
        "充電器",
    ),
    "Cables": ("Cable", "Kabel", "Câble", "Cable", "Cavo", "Kabel", "Kabel", "Kabel", "ケーブル"),
}

# A one-line description per locale: the noun, the brand and the model number.
DESCRIPTION = {
    "en": "{noun} by {brand}, model {n}. Made to last, easy to care for.",
    "de": "{noun} von {brand}, Modell {n}. Langlebig und pflegeleicht.",
    "fr": "{noun} {brand}, modèle {n}. Conçu pour durer, facile d'entretien.",
    "es": "{noun} de {brand}, modelo {n}. Duradero y fácil de cuidar.",
    "it": "{noun} {brand}, modello {n}. Resistente e facile da curare.",
    "nl": "{noun} van {brand}, model {n}. Duurzaam en makkelijk te onderhouden.",
    "sv": "{noun} från {brand}, modell {n}. Hållbar och lättskött.",
    "pl": "{noun} marki {brand}, model {n}. Trwały i łatwy w pielęgnacji.",
    "ja": "{brand}の{noun}、モデル{n}。長く使えて、お手入れも簡単です。",
}

# Where each brand's maker sits (EU product law asks for the manufacturer's name and postal address).
ADDRESSES = {
    "Northwind": "Northwind GmbH, Hafenstraße 12, 20457 Hamburg, Germany",
    "Alder & Co": "Alder & Co Ltd, 14 Mill Lane, Leeds LS1 4AB, United Kingdom",
    "Kestrel": "Kestrel SAS, 8 rue des Arts, 69002 Lyon, France",
    "Morrow": "Morrow B.V., Keizersgracht 120, 1015 CW Amsterdam, Netherlands",
    "Halden": "Halden AB, Storgatan 4, 411 38 Göteborg, Sweden",
    "Vireo": "Vireo S.r.l., Via Roma 21, 20121 Milano, Italy",
    "Juniper Lane": "Juniper Lane Inc., 200 Market Street, Portland, OR 97201, United States",
    "Osprey Works": "Osprey Works Sp. z o.o., ul. Długa 7, 00-238 Warszawa, Poland",
}
