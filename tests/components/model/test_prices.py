"""The price tables: schema, sources, and freshness (a table older than 180 days fails)."""

from __future__ import annotations

from datetime import date

import pytest

from components.model.errors import InputError
from tenancy.cost import MAX_AGE_DAYS, PRICES_DIR, load_prices, parse_price_file, stale_prices


def test_every_price_file_matches_the_schema_and_cites_an_https_page():
    table = load_prices()
    assert table.prices, "the tables price at least the keys"
    for price in table.prices:
        assert price.source.startswith("https://")
        assert price.usd > 0
        assert price.read <= date.today()


def test_price_table_is_fresh():
    stale = stale_prices(load_prices(), date.today())
    assert not stale, (
        f"prices read over {MAX_AGE_DAYS} days ago: {[(p.cloud, p.sku, str(p.read)) for p in stale]}; "
        "re-read the cited pages and update components/model/prices/"
    )


def test_staleness_is_detected_after_180_days():
    table = load_prices()
    oldest = min(p.read for p in table.prices)
    assert not stale_prices(table, date.fromordinal(oldest.toordinal() + MAX_AGE_DAYS))
    assert stale_prices(table, date.fromordinal(oldest.toordinal() + MAX_AGE_DAYS + 1))


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        (
            "{sku: x-y, region: global, unit: u, usd: 0, source: 'https://a', read: 2026-11-29, quote: 'long enough quote'}",
            "entries.0.usd",
        ),
        (
            "{sku: x-y, region: global, unit: u, usd: 1, source: 'http://a', read: 2026-11-29, quote: 'long enough quote'}",
            "entries.0.source",
        ),
        (
            "{sku: x-y, region: global, unit: u, usd: 1, source: 'https://a', quote: 'long enough quote'}",
            "entries.0.read",
        ),
    ],
)
def test_bad_price_entry_is_refused_with_its_path(entry: str, path: str):
    text = f"cloud: aws\ncurrency: USD\nhours_per_month: 730\nentries:\n  - {entry}\n"
    with pytest.raises(InputError) as raised:
        parse_price_file(text, "aws.yaml")
    assert [i.path for i in raised.value.issues] == [path.replace(".0.", "[0].")]


def test_duplicate_sku_and_region_is_refused():
    entry = "{sku: kk, region: global, unit: u, usd: 1, source: 'https://a', read: 2026-11-29, quote: 'long enough quote'}"
    text = f"cloud: aws\ncurrency: USD\nhours_per_month: 730\nentries:\n  - {entry}\n  - {entry}\n"
    with pytest.raises(InputError, match="duplicate price for kk in global"):
        parse_price_file(text, "aws.yaml")


def test_price_files_exist_for_every_cloud():
    assert sorted(p.stem for p in PRICES_DIR.glob("*.yaml")) == ["aws", "azure", "gcp"]
