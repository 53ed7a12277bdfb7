"""The certificate's words in each language a destination file asks for (`[travel] languages`)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "doc_title": "Fitness-to-travel clearance certificate",
        "title": "Fitness-to-travel clearance",
        "name": "Name",
        "dob": "Date of birth",
        "case": "Case",
        "destination": "Destination",
        "flight": "Departure",
        "until": "Valid until",
        "statement": (
            "The traveller named above has completed the health assessment required for "
            "{destination} and is cleared to travel on the departure above. This certificate "
            "carries no health information."
        ),
        "revoked": "REVOKED: this certificate no longer stands",
        "verify": (
            "Verify at {url} or with `pmha verify {code}`; the QR code holds the signed statement."
        ),
    },
    "fr": {
        "doc_title": "Certificat d'aptitude au voyage",
        "title": "Autorisation de voyager (aptitude au voyage)",
        "name": "Nom",
        "dob": "Date de naissance",
        "case": "Dossier",
        "destination": "Destination",
        "flight": "Départ",
        "until": "Valable jusqu'au",
        "statement": (
            "La personne nommée ci-dessus a passé l'examen de santé exigé pour {destination} "
            "et est autorisée à voyager au départ indiqué. Ce certificat ne contient aucune "
            "information de santé."
        ),
        "revoked": "RÉVOQUÉ : ce certificat n'est plus valable",
        "verify": (
            "Vérification sur {url} ou par `pmha verify {code}` ; "
            "le code QR contient la déclaration signée."
        ),
    },
}

_DESTINATIONS = {
    "en": {
        "US": "the United States",
        "CA": "Canada",
        "AU": "Australia",
        "NZ": "New Zealand",
        "GB": "the United Kingdom",
    },
    "fr": {
        "US": "les États-Unis",
        "CA": "le Canada",
        "AU": "l'Australie",
        "NZ": "la Nouvelle-Zélande",
        "GB": "le Royaume-Uni",
    },
}


_BARE = {
    "en": {"US": "United States", "CA": "Canada", "AU": "Australia", "NZ": "New Zealand",
           "GB": "United Kingdom"},
    "fr": {"US": "États-Unis", "CA": "Canada", "AU": "Australie", "NZ": "Nouvelle-Zélande",
           "GB": "Royaume-Uni"},
}  # fmt: skip


def destination_name(code: str, lang: str, *, bare: bool = False) -> str:
    """The destination in a sentence ("pour le Canada"), or as a field value (bare)."""
    return (_BARE if bare else _DESTINATIONS).get(lang, {}).get(code, code)
