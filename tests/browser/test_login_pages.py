"""The snippet signs in, on both runtimes: data-login-url (a fresh token before every mint) and
data-login-token (a fixed token until it expires, then one sentence asking the learner to sign in
again, and no endless re-mint); the learner is the server's answer's, keying the stored record and
the reports; a data-learner other than the login's is refused on the element; the demo page's
Reconnect and a signed-out login say so once.

The host page is examples/host-site.html on the app origin (its login URL must be same-origin);
each test sets the course element's login attributes (and the runtime) before bridge.js reads them."""

import base64
import json
import time

import pytest
from test_reports import wait_for_record

from conftest import BOOT_TIMEOUT_MS, Servers, harness_frame, open_app, screenshot, serve_env
from serving import start_serve

SHORT_TTL_S = 6
MINT = "/api/embed-url"
LOGIN = "/demo/login"


def open_host_site(page, servers, runtime, attributes, query="burst=0"):
    """examples/host-site.html with the course element's `attributes` set (None removes one) and
    automount.py on `runtime`, both changed as the parser inserts them (before any script runs)."""
    page.add_init_script(
        """(() => {
        if (window.top !== window) return;
        const attributes = %s, runtime = %s;
        new MutationObserver(() => {
            const course = document.getElementById("course");
            if (course && !course.hasAttribute("data-test-set")) {
                course.setAttribute("data-test-set", "");
                for (const [name, value] of Object.entries(attributes)) {
                    if (value === null) course.removeAttribute(name); else course.setAttribute(name, value);
                }
            }
            const script = document.querySelector('script[src$="automount.py"]');
            if (script && runtime === "py" && script.type !== "py") {
                script.type = "py";
                script.setAttribute("config", "/coursewire/pyscript.toml");
            }
        }).observe(document, {childList: true, subtree: true});
    })()"""
        % (json.dumps(attributes), json.dumps(runtime))
    )
    page.goto("%s/examples/host-site.html?%s" % (servers.app, query))


def wait_adopted(page):
    page.wait_for_selector("#course[data-coursewire-initialized='true']", state="attached", timeout=BOOT_TIMEOUT_MS)


def requests_log(page):
    """[(kind, request)] of every login GET and mint POST the page sends, in order."""
    seen = []

    def record(request):
        path = request.url.split("//", 1)[1].split("/", 1)[1].split("?")[0]
        if "/" + path == LOGIN:
            seen.append(("login", request))
        elif "/" + path == MINT:
            seen.append(("mint", request))

    page.on("request", record)
    return seen


def jwt_text(claims, signature="c2lnbmF0dXJl"):
    part = lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()  # noqa: E731
    return part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims) + "." + signature


def claims_of(request):
    token = request.headers["authorization"].split(" ", 1)[1]
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def local_keys(page):
    return page.evaluate("Object.keys(localStorage)")


def test_a_login_url_page_is_minted_for_the_signed_in_learner_and_keeps_its_record(page, servers, runtime):
    learner = "login-url-%s" % runtime
    seen = requests_log(page)
    open_host_site(page, servers, runtime, {"data-login-url": "%s?learner=%s" % (LOGIN, learner)})
    wait_adopted(page)
    frame = harness_frame(page)
    frame.evaluate("""() => { harness.post({type: 'course', event: 'progress', data: {progress: 30}});
        harness.post({type: 'screen', event: 'answer', data: {id: 'q1', question: 'Q1', answer: 'A1', correct: true}}); }""")
    page.wait_for_selector("#bar[data-progress='30']")
    assert [kind for kind, _ in seen] == ["login", "mint"]
    mint = seen[1][1]
    assert json.loads(mint.post_data) == {"course": "101", "action": "view"}  # no learner: the login says
    assert claims_of(mint)["sub"] == learner
    # The answer's learner keys the stored record and the reports.
    page.wait_for_function(
        "(k) => Object.keys(localStorage).includes(k)", arg="coursewire:v1:player:course:101:learner:" + learner
    )
    record = wait_for_record(servers, learner, lambda r: r["progress"] == 30 and len(r["answers"]) == 1)
    assert record["answers"][0]["answer"] == "A1"


@pytest.fixture(scope="module")
def short_servers():
    proc, app, harness = start_serve(args=["--harness-token-ttl", str(SHORT_TTL_S)], env=serve_env())
    yield Servers(app, harness)
    proc.stop()


def test_every_mint_asks_the_login_url_for_a_fresh_token_first(page, short_servers, runtime, guard):
    guard.origins |= short_servers.origins()
    seen = requests_log(page)
    open_host_site(page, short_servers, runtime, {"data-login-url": "%s?learner=renew-%s" % (LOGIN, runtime)})
    wait_adopted(page)
    first = page.evaluate("document.querySelector('#course iframe').src")
    # The token runs out: the page mints again on its own, after asking its login again.
    page.wait_for_function(
        "(t) => document.querySelector('#course iframe').src !== t", arg=first, timeout=(SHORT_TTL_S + 30) * 1000
    )
    kinds = [kind for kind, _ in seen]
    assert kinds[:4] == ["login", "mint", "login", "mint"], kinds
    assert all(claims_of(request)["sub"] == "renew-%s" % runtime for kind, request in seen if kind == "mint")


def test_a_fixed_login_token_mints_until_it_expires_then_asks_to_sign_in_again_once(page, servers, runtime):
    learner = "fixed-%s" % runtime
    token = servers.login(learner)
    seen = requests_log(page)
    open_host_site(page, servers, runtime, {"data-login-url": None, "data-login-token": token})
    wait_adopted(page)
    frame = harness_frame(page)
    frame.evaluate("harness.post({type: 'course', event: 'progress', data: {progress: 20}})")
    page.wait_for_selector("#bar[data-progress='20']")
    assert [kind for kind, _ in seen] == ["mint"] and claims_of(seen[0][1])["sub"] == learner
    # Two hours later (the page's clock), the session expires: the token has too (1 h).
    page.evaluate("(() => { const real = Date.now; Date.now = () => real() + 2 * 3600 * 1000; })()")
    frame.evaluate("harness.post({type: 'session', event: 'expired'})")
    page.wait_for_selector("#course .coursewire-mint-error", timeout=BOOT_TIMEOUT_MS)
    sentence = page.inner_text("#course .coursewire-mint-error")
    assert sentence == "Your sign-in has expired: sign in again to continue the course."
    assert page.get_attribute("#course", "data-coursewire-mint-error") == sentence
    assert [kind for kind, _ in seen] == ["mint"]  # nothing sent with a dead token
    # The record is kept, under the login's learner.
    assert "coursewire:v1:player:course:101:learner:" + learner in local_keys(page)


def test_an_already_expired_login_token_sends_nothing_and_says_so(page, servers, runtime):
    seen = requests_log(page)
    expired = jwt_text({"sub": "late", "aud": "coursewire", "exp": int(time.time()) - 60})
    open_host_site(page, servers, runtime, {"data-login-url": None, "data-login-token": expired})
    page.wait_for_selector("#course .coursewire-mint-error", timeout=BOOT_TIMEOUT_MS)
    wait_adopted(page)
    assert page.inner_text("#course .coursewire-mint-error") == (
        "Your sign-in has expired: sign in again to continue the course."
    )
    assert seen == [] and page.locator("#course iframe").count() == 0
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        screenshot(page, "login-expired-%s-%d" % (runtime, width))
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_login_token_the_server_refuses_asks_to_sign_in_again(page, servers, runtime, guard):
    guard.expect_console_error(r"the server responded with a status of 401")
    seen = requests_log(page)
    forged = jwt_text({"sub": "mallory", "aud": "coursewire", "exp": int(time.time()) + 600})
    open_host_site(page, servers, runtime, {"data-login-url": None, "data-login-token": forged})
    page.wait_for_selector("#course .coursewire-mint-error", timeout=BOOT_TIMEOUT_MS)
    wait_adopted(page)
    sentence = page.inner_text("#course .coursewire-mint-error")
    assert sentence.startswith("Sign in again to continue the course (the login token's signature")
    assert sentence.endswith(").") and "\n" not in sentence and forged not in sentence
    assert [kind for kind, _ in seen] == ["mint"] and page.locator("#course iframe").count() == 0
    assert "mallory" not in str(servers.records())


def test_a_data_learner_other_than_the_login_is_refused_on_the_element(page, servers, runtime, guard):
    guard.expect_console_error(r"the server responded with a status of 403")
    open_host_site(
        page,
        servers,
        runtime,
        {"data-login-url": "%s?learner=ada" % LOGIN, "data-learner": "someone-else-%s" % runtime},
    )
    page.wait_for_selector("#course .coursewire-mint-error", timeout=BOOT_TIMEOUT_MS)
    wait_adopted(page)
    assert page.inner_text("#course .coursewire-mint-error") == (
        "This page asks for another learner than the one signed in."
    )
    assert page.locator("#course iframe").count() == 0


def test_a_signed_out_login_stops_the_demo_pages_renewal_with_one_sentence(page, servers, runtime, guard):
    guard.expect_console_error(r"the server responded with a status of 401")
    seen = requests_log(page)
    open_app(page, servers, runtime=runtime, query="learner=signed-out-%s&burst=0" % runtime)
    page.wait_for_selector("#session-status[data-session='ready']")
    # The learner signs out of the site: its login now answers 401.
    page.route(
        "**/demo/login*",
        lambda route: route.fulfill(status=401, content_type="application/json", body='{"error": "Sign in first."}'),
    )
    harness_frame(page).evaluate("harness.post({type: 'session', event: 'expired'})")
    sentence = "You are not signed in on this site: sign in again to continue the course."
    page.wait_for_selector("#session-status:text-is('Could not reconnect: %s')" % sentence)
    assert page.is_visible("#reconnect")  # gave up at once: the learner decides, no retry scheduled
    assert [kind for kind, _ in seen] == ["login", "mint", "login"]


PYTHON_API = """
from pyscript import document, window
from coursewire.browser.embed import Embed

course = Embed(document.getElementById("course"), mint={"url": "/api/embed-url", "course": "101",
               "login_token": window.TEST_LOGIN_TOKEN}, report="/api/events", dom_events=True)
course.on("course:progress", lambda event: document.body.setAttribute("data-progress", str(event.data["progress"])))
document.body.setAttribute("data-api-ready", "true")
"""


def test_the_python_api_mints_with_a_login_token_and_keys_the_record_by_the_answer(page, servers, runtime):
    learner = "python-api-%s" % runtime
    page.add_init_script("window.TEST_LOGIN_TOKEN = %s;" % json.dumps(servers.login(learner)))
    # The snippet element is left to the page's own Python: bridge.js and automount.py skip it.
    page.add_init_script(
        """(() => {
        if (window.top !== window) return;
        new MutationObserver((records, observer) => {
            const script = document.querySelector('script[src$="automount.py"]');
            if (!script) return;
            observer.disconnect();
            document.getElementById("course").setAttribute("data-coursewire-defer", "");
            const own = document.createElement("script");
            own.type = %s;  // the runtime automount.py is switched to (open_host_site)
            own.textContent = %s;
            script.after(own);
        }).observe(document, {childList: true, subtree: true});
    })()"""
        % (json.dumps(runtime), json.dumps(PYTHON_API))
    )
    seen = requests_log(page)
    open_host_site(page, servers, runtime, {})
    page.wait_for_selector("body[data-api-ready='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    frame = harness_frame(page)
    frame.evaluate("harness.post({type: 'course', event: 'progress', data: {progress: 45}})")
    page.wait_for_selector("body[data-progress='45']")
    assert [kind for kind, _ in seen] == ["mint"] and claims_of(seen[0][1])["sub"] == learner
    assert json.loads(seen[0][1].post_data) == {"course": "101", "action": "view"}
    page.wait_for_function(
        "(k) => Object.keys(localStorage).includes(k)", arg="coursewire:v1:player:course:101:learner:" + learner
    )
    wait_for_record(servers, learner, lambda r: r["progress"] == 45)
