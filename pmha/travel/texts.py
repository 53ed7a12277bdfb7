"""The certificate's words in each language a destination file asks for (`[travel] languages`)."""

# ruff: noqa: RUF001  (Turkish: the dotless i is a letter of its own)

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
        "passport": "Passport No.",
        "document": "Travel document No.",
        "signatory": "Signed by",
        "registration": "Registration No.",
        "issued": "Issued",
        "revoked": "REVOKED: this certificate no longer stands",
        "verify": (
            "Verify at {url} with the code {code}, or scan the QR code: it holds the signed "
            "statement (COSE, HC1), checked offline with the published keys."
        ),
        "verify_printed": (
            "To verify, open the address below and enter the code printed above, or scan the QR "
            "code: it holds the signed statement (COSE, HC1), checked offline with the published "
            "keys."
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
        "passport": "N° de passeport",
        "document": "N° du document de voyage",
        "signatory": "Signé par",
        "registration": "N° d'inscription",
        "issued": "Délivré",
        "revoked": "RÉVOQUÉ : ce certificat n'est plus valable",
        "verify": (
            "Vérification sur {url} avec le code {code}, ou par le code QR : il contient la "
            "déclaration signée (COSE, HC1), vérifiable hors ligne avec les clés publiées."
        ),
        "verify_printed": (
            "Pour vérifier, ouvrez l'adresse ci-dessous et saisissez le code imprimé ci-dessus, ou "
            "scannez le code QR : il contient la déclaration signée (COSE, HC1), vérifiable hors "
            "ligne avec les clés publiées."
        ),
    },
    # Turkish and Arabic (issue 18): for a traveller who reads neither English nor the
    # destination's language; the same terms as the vaccination record (pmha/translations).
    "tr": {
        "doc_title": "Yolculuğa uygunluk belgesi",
        "title": "Yolculuğa uygunluk onayı",
        "name": "Ad soyad",
        "dob": "Doğum tarihi",
        "case": "Dosya no.",
        "destination": "Varış ülkesi",
        "flight": "Kalkış",
        "until": "Son geçerlilik tarihi",
        "statement": (
            "Yukarıda adı geçen yolcu, {destination} için gereken sağlık değerlendirmesini "
            "tamamlamıştır ve yukarıda belirtilen kalkışta yolculuk yapmasına engel yoktur. Bu "
            "belge hiçbir sağlık bilgisi içermez."
        ),
        "passport": "Pasaport no.",
        "document": "Seyahat belgesi no.",
        "signatory": "İmzalayan",
        "registration": "Diploma tescil no.",  # a Turkish physician's registration
        "issued": "Düzenlenme",
        "revoked": "İPTAL EDİLDİ: bu belge artık geçerli değildir",
        "verify": (
            "Doğrulamak için {url} adresinde {code} kodunu girin ya da QR kodunu okutun: QR kodu "
            "imzalı beyanı (COSE, HC1) içerir ve yayımlanan anahtarlarla çevrimdışı doğrulanır."
        ),
        "verify_printed": (
            "Doğrulamak için aşağıdaki adresi açıp yukarıda basılı kodu girin ya da QR kodunu "
            "okutun: imzalı beyanı (COSE, HC1) taşır ve yayımlanan anahtarlarla çevrimdışı "
            "doğrulanır."
        ),
    },
    "ar": {
        "doc_title": "شهادة اللياقة للسفر",
        "title": "إجازة السفر (اللياقة للسفر)",
        "name": "الاسم",
        "dob": "تاريخ الميلاد",
        "case": "رقم الملف",
        "destination": "بلد الوجهة",
        "flight": "المغادرة",
        "until": "صالحة حتى",
        "statement": (
            "أتمّ المسافر المذكور أعلاه التقييم الصحي المطلوب للسفر إلى {destination}، ولا "
            "مانع من سفره في رحلة المغادرة المذكورة أعلاه. لا تتضمن هذه الشهادة أي معلومات صحية."
        ),
        "passport": "رقم جواز السفر",
        "document": "رقم وثيقة السفر",
        "signatory": "وقّعها",
        "registration": "رقم القيد المهني",
        "issued": "تاريخ الإصدار",
        "revoked": "مُلغاة: لم تعد هذه الشهادة سارية",
        "verify": (
            "للتحقق افتح {url} وأدخل الرمز {code}، أو امسح رمز QR: فهو يحمل البيان الموقّع "
            "(COSE، HC1) الذي يُتحقق منه دون اتصال بالإنترنت بالمفاتيح المنشورة."
        ),
        # On the printed page the address and the code stay left to right on a line of their
        # own: mixed into a right-to-left sentence, "http://" comes out reversed.
        "verify_printed": (
            "للتحقق افتح الرابط التالي وأدخل الرمز المطبوع أعلاه، أو امسح رمز QR: فهو يحمل "
            "البيان الموقّع (COSE، HC1) الذي يُتحقق منه دون اتصال بالإنترنت بالمفاتيح المنشورة."
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
    "tr": {
        "US": "Amerika Birleşik Devletleri",
        "CA": "Kanada",
        "AU": "Avustralya",
        "NZ": "Yeni Zelanda",
        "GB": "Birleşik Krallık",
    },
    "ar": {
        "US": "الولايات المتحدة",
        "CA": "كندا",
        "AU": "أستراليا",
        "NZ": "نيوزيلندا",
        "GB": "المملكة المتحدة",
    },
}


_BARE = {
    "en": {"US": "United States", "CA": "Canada", "AU": "Australia", "NZ": "New Zealand",
           "GB": "United Kingdom"},
    "fr": {"US": "États-Unis", "CA": "Canada", "AU": "Australie", "NZ": "Nouvelle-Zélande",
           "GB": "Royaume-Uni"},
    "tr": {"US": "Amerika Birleşik Devletleri", "CA": "Kanada", "AU": "Avustralya",
           "NZ": "Yeni Zelanda", "GB": "Birleşik Krallık"},
    "ar": {"US": "الولايات المتحدة", "CA": "كندا", "AU": "أستراليا", "NZ": "نيوزيلندا",
           "GB": "المملكة المتحدة"},
}  # fmt: skip


def destination_name(code: str, lang: str, *, bare: bool = False) -> str:
    """The destination in a sentence ("pour le Canada"), or as a field value (bare)."""
    return (_BARE if bare else _DESTINATIONS).get(lang, {}).get(code, code)
