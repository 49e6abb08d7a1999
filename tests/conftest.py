"""Shared test options: ``--trace-regulation`` prints which tests enforce which article.

``make trace`` collects the whole suite without running it and prints, for
every article of Pergub DKI 145/2017 that a test claims with
``@pytest.mark.regulation("Art. N")``, the tests that enforce it.
"""
from __future__ import annotations

import re
from collections import defaultdict

import pytest

ARTICLE = re.compile(r"^Art\. (\d+)(\(\d+\))?$")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--trace-regulation", action="store_true",
                     help="print the table article → tests instead of running the tests")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("regulation"):
            if len(mark.args) != 1 or not ARTICLE.match(str(mark.args[0])):
                raise pytest.UsageError(f"{item.nodeid}: regulation marks look like 'Art. 20' or 'Art. 17(3)'")
    if not config.getoption("trace_regulation"):
        return
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for item in items:
        test = item.nodeid.split("[")[0]
        for article in {str(mark.args[0]) for mark in item.iter_markers("regulation")}:
            table[article][test] = table[article].get(test, 0) + 1
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    reporter.write_line("")
    reporter.write_line("Pergub DKI 145/2017: article → the tests that enforce it")
    for article in sorted(table, key=_article_order):
        reporter.write_line("")
        reporter.write_line(f"{article}  ({len(table[article])} tests)")
        for test, cases in table[article].items():
            reporter.write_line(f"    {test}" + (f"  ({cases} cases)" if cases > 1 else ""))
    items.clear()


def _article_order(article: str) -> tuple[int, str]:
    match = ARTICLE.match(article)
    return int(match.group(1)), match.group(2) or ""
