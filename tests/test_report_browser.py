"""The HTML report in a real browser: headless Chromium opens a generated report.html, every
image loads, the console stays clean, nothing is fetched from outside the report's folder, and a
screenshot is saved. Skipped, with the reason, where Chromium, its driver or selenium is absent
(.ci/run installs them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture()
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if not (CHROMIUM and DRIVER):
        pytest.skip("Chromium and chromedriver are not installed (apt-get install chromium "
                    "chromium-driver)")  # fmt: skip
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def _report(folder: Path) -> Path:
    from crossview.datasets.instance_sets import make_context_sets
    from crossview.evaluation.label_linked import write_html_report
    from crossview.evaluation.set_clustering import markdown_table, plot_sets

    t = make_context_sets(3, random_state=0)
    plot_sets(t, t.categories, t.clusters, folder / "figures" / "truth.png", title="truth")
    row = {"method": "truth", "seed": 0, "ari": 1.0, "nmi": 1.0, "accuracy": 1.0,
           "count_error": 0.0, "pair_f1": 1.0, "category_accuracy": 1.0, "fit_s": np.nan,
           "sets_per_s": 10.0}  # fmt: skip
    description = "three <b>context</b> sets & a tag that stays text"
    return write_html_report(folder, "set-clustering browser check", description,
                             markdown_table([row]), {"seeds": [0]})  # fmt: skip


def test_report_renders_in_headless_chromium(browser, tmp_path):
    path = _report(tmp_path)
    browser.get(path.as_uri())
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth])"
    )
    assert images and all(done and width > 0 for _, done, width in images), images
    assert browser.find_elements("css selector", "table td")
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors
    urls = []
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    outside = [u for u in urls if not u.startswith(tmp_path.as_uri())]
    assert not outside, outside
    # header text is escaped: the markup shows as characters, not as a bold element
    body = browser.find_element("tag name", "body").text
    assert "three <b>context</b> sets & a tag" in body
    assert body.startswith("crossview benchmark: set-clustering browser check")
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 1000
