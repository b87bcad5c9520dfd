"""The pages with the most script, under the Content-Security-Policy: the API docs (Swagger UI) and the
admin draw themselves and the browser reports no refused script, style or request (a CSP violation is a
console error, which every step checks)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories


def test_the_api_docs_draw_swagger_ui_under_the_csp(open_page, transactional_db):
    tab = open_page()
    response = tab.page.goto(tab.url("/api/docs/"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    tab.page.wait_for_selector(".swagger-ui .info .title")
    tab.page.wait_for_selector(".opblock-tag")
    assert "Clusterpact portal API" in tab.page.inner_text(".swagger-ui .info .title")
    tab.shot("60-api-docs-under-csp")


def test_the_admin_works_under_the_csp(open_page, transactional_db):
    officer = factories.officer(username="csp-officer")
    tab = open_page()
    tab.login(officer.username)
    response = tab.page.goto(tab.url("/admin/"))
    assert "'unsafe-inline'" not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    tab.shot("61-admin-index-under-csp")
    tab.goto("/admin/clusterpacts/cluster/add/")
    tab.page.locator("#id_name").press_sequentially("Flux 50")  # keyup events, as a person types
    # The admin's own script (prepopulated fields) runs: the slug follows the name.
    # (Playwright's expect, not wait_for_function: a string predicate is an eval the CSP refuses.)
    expect(tab.page.locator("#id_slug")).to_have_value("flux-50")
    tab.shot("62-admin-add-cluster-under-csp")
