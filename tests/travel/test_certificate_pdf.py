"""The certificate PDF: rendered to PNG with pdftoppm (looked at during development) and read
back with pdftotext: English, plus French for Canada; the code; no health details."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from pmha.core.errors import Conflict
from pmha.travel import certificates
from pmha.travel.models import Certificate
from tests.travel.helpers import booked, clear, departure, family

pytestmark = pytest.mark.usefixtures("in_app")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "certificates"


def _render(pdf: bytes, name: str, work: Path) -> tuple[Path, str]:
    """Render and read in the test's own directory (a concurrent run shares test-artifacts/),
    then keep a copy of the PDF and the PNG there to look at."""
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm is missing: run scripts/install-system-deps.sh (poppler-utils)")
    path = work / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-singlefile", str(path), str(work / name)], check=True
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for suffix in (".pdf", ".png"):
        shutil.copyfile(work / f"{name}{suffix}", ARTIFACTS / f"{name}{suffix}")
    return work / f"{name}.png", text


@pytest.mark.parametrize(("destination", "french"), [("CA", True), ("US", False)])
def test_the_certificate_prints_in_the_destinations_languages(
    session, world, rules, destination, french, tmp_path
):
    dep = departure(session, world, destination=destination, days=2)
    case = booked(
        session, world, dep, family(session, world, destination=destination, programme="immigrant")
    )
    a = case.applicants[0]
    clear(session, world, rules, a.id)
    # printing never issues: the certificate is issued (signed) first [issue 14]
    cert = certificates.issue_certificate(session, world.actor("operations"), a.id)
    pdf = certificates.render_certificate(session, world.actor("operations"), a.id)
    assert pdf.startswith(b"%PDF")
    png, text = _render(pdf, f"certificate-{destination}", tmp_path)
    assert cert.code in text and "HADDAD, Omar" in text
    assert "Fitness-to-travel clearance" in text
    assert ("Autorisation de voyager" in text) is french
    assert ("pour le Canada" in text) if french else ("for the United States" in text)
    for word in ("TB", "tuberculosis", "class", "negative", "x-ray"):
        assert word.lower() not in text.lower()
    with Image.open(png) as image:
        assert image.size[0] > 500 and image.size[1] > 700  # an A4 page
        assert image.convert("L").getextrema()[0] < 50  # something is printed on it


def test_a_case_prints_one_page_per_traveller(session, world, rules, tmp_path):
    dep = departure(session, world, days=2)
    case = booked(session, world, dep, family(session, world, children=1))
    for a in case.applicants:
        clear(session, world, rules, a.id)
    pdf = certificates.render_case_certificates(session, world.actor("operations"), case.id)
    path = tmp_path / "case.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           2" in info


def test_printing_never_issues_a_certificate(session, world, rules):
    """Issuing is a signature (password): the PDF of a traveller without one is refused."""
    dep = departure(session, world, destination="US", days=2)
    a = booked(session, world, dep, family(session, world)).applicants[0]
    clear(session, world, rules, a.id)
    with pytest.raises(Conflict) as exc:
        certificates.render_certificate(session, world.actor("operations"), a.id)
    assert exc.value.code == "travel.certificate_not_issued"
    assert session.scalar(select(func.count()).select_from(Certificate)) == 0


@pytest.mark.parametrize(
    ("language", "words"),
    [("tr", "Yolculuğa uygunluk onay"), ("ar", "السفر")],
)
def test_the_certificate_adds_the_applicants_language_turkish_or_arabic(
    session, world, rules, tmp_path, language, words
):
    """Issue 18: the certificate an applicant carries is also in their language (the applicant's
    preferred language, Turkish or Arabic; Arabic set right to left in a font that carries it).
    Checked as an image (looked at in test-artifacts/certificates/) and read back as text."""
    dep = departure(session, world, destination="US", days=2)
    case = booked(session, world, dep, family(session, world, destination="US"))
    a = case.applicants[0]
    a.preferred_language = language
    clear(session, world, rules, a.id)
    cert = certificates.issue_certificate(session, world.actor("panel_physician"), a.id)
    pdf = certificates.render_certificate(session, world.actor("panel_physician"), a.id)
    png, text = _render(pdf, f"certificate-US-{language}", tmp_path)
    assert "Fitness-to-travel clearance" in text and cert.code in text
    assert words in text
    with Image.open(png) as image:
        assert image.convert("L").getextrema()[0] < 50
