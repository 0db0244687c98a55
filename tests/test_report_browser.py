"""The HTML report in a real headless browser (Debian's chromium): every figure loads and is not blank."""
import base64
import io
import shutil

import numpy as np
import pytest
from PIL import Image

from conftest import snakemake

pytestmark = pytest.mark.workflow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FIGURES = ["accuracy_vs_time", "learning_curves", "time_per_method", "depth_sweep", "xor_convergence"]


@pytest.fixture(scope="module")
def browser_page(smoke_run):
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    workdir = smoke_run.workdir
    done = snakemake(workdir, "--configfile", "config/smoke.yaml", "--report", "report.html")
    assert done.returncode == 0, done.stderr[-3000:]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"file://{workdir / 'report.html'}")
        yield page, workdir
        browser.close()


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_in_the_report(browser_page, name, tmp_path):
    """The image shown is this figure, found by the file name its data URI carries, with the bytes of
    results/figures/<name>.png: not whatever large image happens to be on the page."""
    page, workdir = browser_page
    page.get_by_text("Figures", exact=True).first.click()
    page.locator("tr", has_text=f"{name}.png").locator("a[iconname=eye]").click()
    marker = f";filename={name}.png;"
    page.wait_for_function(
        "(marker) => Array.from(document.images).some(i => i.src.includes(marker) && i.complete"
        " && i.naturalWidth > 0)", arg=marker, timeout=15000)
    shown = page.evaluate(
        "(marker) => Array.from(document.images).filter(i => i.src.includes(marker)).map(i => {"
        " const r = i.getBoundingClientRect();"
        " return {src: i.src, size: [i.naturalWidth, i.naturalHeight], box: [r.x, r.y, r.width, r.height]}; })",
        marker)
    assert len(shown) == 1, f"{len(shown)} images named {name}.png on the page"
    figure = shown[0]
    on_disk = (workdir / f"results/figures/{name}.png").read_bytes()
    assert base64.b64decode(figure["src"].split(";base64,", 1)[1]) == on_disk
    assert figure["size"] == list(Image.open(io.BytesIO(on_disk)).size)
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot))
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    x, y, w, h = (int(v) for v in figure["box"])
    assert w > 100 and h > 50, "figure is not displayed"
    region = pixels[max(y, 0):y + h, max(x, 0):x + w]
    assert region.size and region.std() > 10, "figure area is blank"


def test_report_home_shows_the_description(browser_page):
    page, _ = browser_page
    page.goto(page.url.split("#")[0])
    assert "edbench compares learning rules" in page.inner_text("body")
