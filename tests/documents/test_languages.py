# ruff: noqa: RUF001  (Turkish words: the dotless i is a letter of its own, not a typo)
"""Documents in Turkish and Arabic (issue 18): the catalogues, the vaccination record and the DOT
referral letter rendered in each language and looked at as images (pdftoppm) and as text
(pdftotext), the consent forms, and the language chosen per document, per applicant and per user.

Sources: issue 18 "Turkish and Arabic ... right-to-left for Arabic with fonts that carry the
script in PDFs; a language switch per user and per document"; the consent forms follow CDC's
Technical Instructions for Panel Physicians (HIV pre-test counselling; chest X-ray in pregnancy
with abdominal shielding or deferral).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.accounts.models import User
from pmha.cases.models import Applicant
from pmha.core import i18n
from pmha.core.audit import AuditEvent
from pmha.core.pdf import Document
from pmha.documents import consent
from pmha.exams import service as exams
from pmha.exams.commands import SectionDraft
from pmha.exams.labs import ConsentKind
from pmha.exams.models import SectionKind
from pmha.rules import RuleBook
from pmha.travel.texts import TEXTS, destination_name
from pmha.vaccines.record_pdf import render_record
from tests.conftest import csrf_token
from tests.factories import World
from tests.tb_dot.helpers import tb_episode_body, tb_patient
from tests.vaccines.test_nurse import TODAY, _planned

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "languages"
ARABIC = re.compile(r"[\u0600-\u06ff]")


@pytest.fixture()
def rules(app: Flask) -> RuleBook:
    found: RuleBook = app.extensions["pmha.rules"]
    return found


BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _text(pdf: Path) -> str:
    """The PDF's text as pdftotext reads it, without the direction marks it adds to Arabic."""
    found = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return BIDI_CONTROLS.sub("", found)


def _image(pdf: Path) -> Image.Image:
    """Page 1 at 100 dpi, kept under test-artifacts/languages/ for a person to look at."""
    stem = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(stem)], check=True)  # fmt: skip
    return Image.open(stem.with_suffix(".png")).convert("L")


def _ink(image: Image.Image, top: float, bottom: float) -> tuple[int, int]:
    """The left and right ends of the dark pixels in a horizontal band (fractions of height)."""
    h = image.height
    band = image.crop((0, int(h * top), image.width, int(h * bottom)))
    box = band.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert box is not None, "nothing drawn in the band"
    return box[0], box[2]


def _save(name: str, body: bytes) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(body)
    return path


# --- the catalogues ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["tr", "ar"])
def test_every_word_of_the_template_is_translated_with_its_placeholders(lang: str) -> None:
    with (i18n.CATALOGUES / "messages.pot").open("rb") as f:
        template = read_po(f)
    with (i18n.CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    for message in template:
        if not message.id:
            continue
        found = catalogue.get(message.id)
        assert found is not None and found.string, f"{lang}: {message.id!r} is not translated"
        for placeholder in re.findall(r"%\(\w+\)s", str(message.id)):
            assert placeholder in found.string, (lang, message.id)
        if lang == "ar":
            assert ARABIC.search(str(found.string)), f"ar: {message.id!r} has no Arabic"


def test_words_come_from_the_compiled_catalogues() -> None:
    assert i18n.words("tr")("Vaccination record") == "Aşı kaydı"
    assert i18n.words("ar")("Vaccination record") == "سجل التطعيم"
    assert i18n.words("en")("Vaccination record") == "Vaccination record"
    assert i18n.words("tr")("a sentence no catalogue has") == "a sentence no catalogue has"
    assert i18n.choose(None, "TR", "en") == "tr" and i18n.choose("fr", "ar-SY") == "ar"


def test_the_certificate_words_exist_in_turkish_and_arabic() -> None:
    """pmha/travel/texts.py: the clearance certificate's words, every key in every language."""
    for lang in ("tr", "ar"):
        assert set(TEXTS[lang]) == set(TEXTS["en"]), lang
        for key, words in TEXTS["en"].items():
            for placeholder in re.findall(r"\{\w+\}", words):
                assert placeholder in TEXTS[lang][key], (lang, key)
    assert "sağlık bilgisi" in TEXTS["tr"]["statement"] and ARABIC.search(TEXTS["ar"]["statement"])


# --- the documents, looked at --------------------------------------------------------------------


def test_the_vaccination_record_in_turkish_and_arabic(
    session: Session, world: World, rules: RuleBook, tmp_path: Path
) -> None:
    nurse = world.actor("nurse")
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    english = _text(_save("record-en.pdf", render_record(session, nurse, applicant.id,
                                                       rules=rules, as_of=TODAY)))  # fmt: skip
    assert "Vaccination record" in english and "Date of birth" in english

    turkish_pdf = _save("record-tr.pdf", render_record(session, nurse, applicant.id, rules=rules,
                                                       as_of=TODAY, lang="tr"))  # fmt: skip
    turkish = _text(turkish_pdf)
    for words in ("Aşı kaydı", "Doğum tarihi", "Varış ülkesi", "Amerika Birleşik Devletleri",
                  "Aşı geçmişi", "Sayfa 1 / 1", applicant.family_name.upper()):  # fmt: skip
        assert words in turkish, words
    image = _image(turkish_pdf)
    left, right = _ink(image, 0.05, 0.08)  # the title: left aligned
    assert left < image.width * 0.15 and right < image.width * 0.6

    arabic_pdf = _save("record-ar.pdf", render_record(session, nurse, applicant.id, rules=rules,
                                                      as_of=TODAY, lang="ar"))  # fmt: skip
    arabic = _text(arabic_pdf)
    for words in ("سجل التطعيم", "تاريخ الميلاد", "بلد الوجهة", "الولايات المتحدة",
                  "التطعيمات السابقة", applicant.family_name.upper()):  # fmt: skip
        assert words in arabic, words
    assert "1995-03-01" in arabic  # a date stays one left-to-right run in Arabic text
    image = _image(arabic_pdf)
    left, right = _ink(image, 0.05, 0.08)  # the title: right aligned
    assert right > image.width * 0.85 and left > image.width * 0.4
    # the font carries the script: Amiri embedded, not boxes for missing glyphs
    fonts = subprocess.run(["pdffonts", str(arabic_pdf)], capture_output=True, text=True,
                           check=True).stdout  # fmt: skip
    assert "Amiri" in fonts


def test_the_dot_referral_letter_in_the_applicants_language(
    client: FlaskClient, app: Flask, session: Session, world: World, signed_in: Any
) -> None:
    applicant = tb_patient(session, app, world)
    session.commit()
    body = {**tb_episode_body(), "dot_site": "referral", "referral_centre": "Istanbul DOT 3"}
    made = client.post(f"/api/v1/applicants/{applicant.id}/tb-episodes", json=body,
                       headers=world.auth("panel_physician"))  # fmt: skip
    assert made.status_code == 201
    url = f"/dot/episodes/{made.get_json()['episode']['id']}/referral-letter.pdf"
    nurse = signed_in("nurse")

    turkish = _text(_save("dot-letter-tr.pdf", nurse.get(url + "?lang=tr").data))
    assert "Doğrudan gözetimli tedavi (DGT) için sevk" in turkish and "İlaç duyarlılığı" in turkish
    assert "Başlangıç (yoğun) fazı" in turkish and "Istanbul DOT 3" in turkish

    # No ?lang: the applicant's recorded language.
    session.get(Applicant, applicant.id).preferred_language = "ar"  # type: ignore[union-attr]
    session.commit()
    letter = nurse.get(url)
    assert letter.status_code == 200
    arabic_pdf = _save("dot-letter-ar.pdf", letter.data)
    arabic = _text(arabic_pdf)
    assert "إحالة للعلاج تحت الملاحظة المباشرة" in arabic and "المرحلة المكثفة" in arabic
    image = _image(arabic_pdf)
    left, right = _ink(image, 0.05, 0.08)
    assert right > image.width * 0.85 and left > image.width * 0.3

    refused = nurse.get(url + "?lang=xx")
    assert refused.status_code == 422
    assert "Türkçe (tr)" in refused.get_data(as_text=True)


@pytest.mark.parametrize("kind", list(ConsentKind))
@pytest.mark.parametrize("lang", ["tr", "ar"])
def test_consent_forms_in_each_language(
    session: Session, world: World, rules: RuleBook, kind: ConsentKind, lang: str
) -> None:
    nurse = world.actor("nurse")
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01",
                         sex="female")  # fmt: skip
    pdf = _save(f"consent-{kind.value}-{lang}.pdf", consent.consent_form(applicant, kind, lang))
    text = _text(pdf)
    title = i18n.words(lang)(consent.FORMS[kind].title)
    assert title != consent.FORMS[kind].title
    # pdftotext may split an Arabic word where the glyphs' spacing fools it: the first words
    assert " ".join(title.split()[:3]) in " ".join(text.split())
    assert applicant.family_name.upper() in text


def test_the_appointment_letter_for_a_specialist_referral(
    session: Session, world: World, rules: RuleBook, signed_in: Any
) -> None:
    nurse = world.actor("nurse")
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    session.commit()
    url = f"/cases/{applicant.case_id}/applicants/{applicant.id}/appointment-letter.pdf"
    client = signed_in("nurse")
    none = client.get(url)
    assert none.status_code == 409 and "No specialist appointment is booked" in none.text

    day = TODAY + dt.timedelta(days=10)
    exams.save_draft(
        session,
        world.actor("panel_physician"),
        applicant.id,
        SectionDraft(
            kind=SectionKind.SPECIALIST_REFERRAL,
            content={
                "specialty": "Cardiology",
                "reason": "Heart murmur on exam",
                "status": "appointment_made",
                "appointment_date": day.isoformat(),
            },
            version=None,
        ),
    )
    session.commit()
    page = client.get(f"/cases/{applicant.case_id}/applicants/{applicant.id}/documents?lang=tr")
    assert "appointment-letter.pdf?lang=tr" in page.text and "Uzman hekim randevusu" in page.text

    turkish = _text(_save("appointment-tr.pdf", client.get(url + "?lang=tr").data))
    assert "Uzman hekim randevusu" in turkish and "Randevu tarihi" in turkish
    assert day.isoformat() in turkish and "Cardiology" in turkish
    assert "Heart murmur" not in turkish  # the reason stays with the referral
    arabic_pdf = _save("appointment-ar.pdf", client.get(url + "?lang=ar").data)
    arabic = _text(arabic_pdf)
    assert "موعد مع طبيب أخصائي" in arabic and day.isoformat() in arabic
    left, right = _ink(_image(arabic_pdf), 0.05, 0.08)
    assert right > 0.85 * 827 and left > 0.4 * 827  # 210 mm at 100 dpi: 827 px


def test_the_certificate_words_print_in_english_then_arabic_right_to_left() -> None:
    """The clearance certificate's words (pmha/travel/texts.py) in one document, English then
    Arabic, as pmha.travel.certificates lays out its languages (one section each), with
    Document.language switching the direction: what the certificate needs to print in Arabic."""
    doc = Document(TEXTS["en"]["doc_title"], "Istanbul test centre", lang="en")
    for lang in ("en", "ar"):
        t = TEXTS[lang]
        with doc.language(lang):
            doc.heading(t["title"])
            doc.fields([(t["name"], "HADDAD, Omar"), (t["dob"], "1985-03-14"),
                        (t["passport"], "N1234567 (SY)"),
                        (t["destination"], destination_name("CA", lang, bare=True)),
                        (t["until"], "2027-01-31")], label_width=52)  # fmt: skip
            doc.paragraph(t["statement"].format(destination=destination_name("CA", lang)))
    pdf = _save("certificate-words-en-ar.pdf", doc.render())
    text = " ".join(_text(pdf).split())
    assert "Fitness-to-travel clearance" in text and "إجازة السفر" in text
    assert "رقم جواز السفر" in text and "كندا" in text and "N1234567" in text
    image = _image(pdf)
    english, arabic = _ink(image, 0.105, 0.125), _ink(image, 0.27, 0.29)  # the two headings
    assert english[0] < image.width * 0.1  # the English heading starts on the left
    assert arabic[1] > image.width * 0.85 and arabic[0] > image.width * 0.3  # Arabic: right


def test_an_arabic_document_keeps_numbers_and_latin_text_left_to_right() -> None:
    arabic = Document("Vaccination record", "Centre", lang="ar",
                      generated_at=dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC))  # fmt: skip
    turkish = Document("Vaccination record", "Centre", lang="tr")
    assert arabic.runs("تاريخ 1990-05-01") == "تاريخ \u20661990-05-01\u2069"
    assert arabic.runs("2HRZE/4HR: Standard") == "\u20662HRZE/4HR: Standard\u2069"
    assert turkish.runs("1990-05-01") == "1990-05-01"
    assert arabic.render().startswith(b"%PDF") and turkish.render().startswith(b"%PDF")


# --- choosing the language -----------------------------------------------------------------------


def test_the_documents_page_speaks_the_applicants_language(
    session: Session, world: World, rules: RuleBook, signed_in: Any
) -> None:
    nurse = world.actor("nurse")
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    session.commit()
    page = f"/cases/{applicant.case_id}/applicants/{applicant.id}/documents"
    client = signed_in("nurse")

    html = client.get(page + "?lang=ar").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in html and "وثائقك" in html
    assert (
        "vaccinations/record.pdf?lang=ar" in html and "consent-forms/hiv_test.pdf?lang=ar" in html
    )

    refused = client.get(page + "?lang=klingon")
    assert refused.status_code == 422
    assert "Choose one of: English (en), Türkçe (tr), العربية (ar)." in refused.get_data(
        as_text=True
    )

    saved = client.post(page.replace("/documents", "/language"),
                        data={"csrf_token": csrf_token(html), "language": "tr"})  # fmt: skip
    assert saved.status_code == 302
    session.expire_all()
    assert session.get(Applicant, applicant.id).preferred_language == "tr"  # type: ignore[union-attr]
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_id == str(applicant.id), AuditEvent.action == "update")
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert event is not None and "preferred_language" in str(event.changes)
    html = client.get(page).get_data(as_text=True)
    assert 'lang="tr" dir="ltr"' in html and "Belgeleriniz" in html

    bad = client.post(page.replace("/documents", "/language"),
                      data={"csrf_token": csrf_token(html), "language": "xx"})  # fmt: skip
    assert bad.status_code == 422 and "Choose one of" in bad.get_data(as_text=True)
    session.expire_all()
    assert session.get(Applicant, applicant.id).preferred_language == "tr"  # type: ignore[union-attr]

    form = client.get(page.replace("/documents", "/consent-forms/chest_xray_in_pregnancy.pdf"))
    assert form.status_code == 200 and form.data.startswith(b"%PDF")
    assert client.get(page.replace("/documents", "/consent-forms/other.pdf")).status_code == 404


def test_a_user_chooses_the_language_of_their_documents(
    session: Session, world: World, signed_in: Any
) -> None:
    client = signed_in("nurse")
    html = client.get("/account/language").get_data(as_text=True)
    assert 'value="en" checked' in html
    answer = client.post("/account/language", data={"csrf_token": csrf_token(html),
                                                     "language": "ar"})  # fmt: skip
    assert answer.status_code == 302
    session.expire_all()
    user = session.scalar(select(User).where(User.id == world.actor("nurse").user_id))
    assert user is not None and user.language == "ar"
    bad = client.post("/account/language", data={"csrf_token": csrf_token(html),
                                                  "language": "de"})  # fmt: skip
    assert bad.status_code == 422 and "Choose one of" in bad.get_data(as_text=True)
