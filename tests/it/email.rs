//! E-mail alerts delivered through a real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS with a
//! private CA, implicit TLS, plain, AUTH, and the errors an outbox has to tell apart.
//!
//! Needs a Python with aiosmtpd (`pip install aiosmtpd` or `apt-get install python3-aiosmtpd`);
//! without one the tests say so and pass, unless `LOOKALIKE_REQUIRE_AIOSMTPD=1`.

use crate::support::smtp;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use lookalike::sinks::email::deliver;
use lookalike::sinks::{Alert, DeliveryError, EmailRoute, Secret, SmtpSecurity};
use smtp::{Mode, Options, Pki, SmtpServer};

const USER: &str = "alerts@example.org";
const PASSWORD: &str = "correct horse battery staple";
const TRIAGE: &str = "--status confirmed|false_positive|ignored|taken_down";

fn route(security: SmtpSecurity, port: u16) -> EmailRoute {
    EmailRoute {
        security,
        host: "127.0.0.1".into(),
        port,
        username: None,
        password: None,
        from: "lookalike <alerts@example.org>".into(),
        to: vec![
            "soc@example.org".into(),
            "Brand Team <brand@example.net>".into(),
        ],
        digest_minutes: 0,
        ca_file: None,
        defang: true,
        timeout: Duration::from_secs(10),
        locale: Default::default(),
    }
}

fn with_auth(mut route: EmailRoute, password: &str) -> EmailRoute {
    route.username = Some(USER.into());
    route.password = Some(Secret(password.into()));
    route
}

fn write_ca(dir: &Path, pki: &Pki) -> std::path::PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, &pki.ca_pem).unwrap();
    path
}

/// An alert as the outbox hands it over; built from JSON so that fields added to the store's
/// types later (with serde defaults) do not break this test.
fn alert(brand: &str, domain: &str, registrable: &str, score: u8) -> Alert {
    let json = serde_json::json!({
        "key": format!("{registrable}|{brand}|1"),
        "route": "soc-mail",
        "reason": "new",
        "record": {
            "schema": 1,
            "domain": domain,
            "unicode": domain,
            "registrable": registrable,
            "brand": brand,
            "term": brand.to_lowercase(),
            "techniques": ["homoglyph", "combosquat"],
            "score": score,
            "reasons": [
                format!("'{}' looks like '{}' with '1' for 'l'", registrable, brand.to_lowercase()),
                "next to the word 'login'",
            ],
            "first_seen": "2026-11-28T06:41:07Z",
            "last_seen": "2026-11-28T07:02:11Z",
            "count": 2,
            "sources": [
                {
                    "source": "ct",
                    "name": domain,
                    "seen": "2026-11-28T06:41:07Z",
                    "log": "Google 'Argon2026h2' log",
                    "index": 412_345_678u64,
                    "cert_sha256": "5e".repeat(32),
                    "issuer": "Let's Encrypt"
                },
                {
                    "source": "ct",
                    "name": domain,
                    "seen": "2026-11-28T07:02:11Z",
                    "log": "Cloudflare 'Nimbus2026' Log",
                    "index": 99u64,
                    "issuer": "Sectigo Limited"
                }
            ]
        }
    });
    serde_json::from_value(json).expect("alert JSON")
}

/// A port bound but not listened on: connections are refused, and no one else gets it while
/// the socket is held.
fn closed_port() -> tokio::net::TcpSocket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    socket
}

#[tokio::test]
async fn starttls_with_private_ca_and_auth() {
    let pki = Pki::new();
    let Some(server) = SmtpServer::start(Options {
        mode: Mode::StartTls,
        pki: Some(&pki),
        user: Some((USER, PASSWORD)),
        reject: vec![],
    }) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut route = with_auth(route(SmtpSecurity::StartTls, server.port), PASSWORD);
    route.ca_file = Some(write_ca(tmp.path(), &pki));
    let a = alert("PayPal", "login.paypa1-secure.com", "paypa1-secure.com", 80);

    deliver(&route, std::slice::from_ref(&a))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));

    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert!(m.tls(), "the session was upgraded with STARTTLS");
    assert_eq!(m.login().as_deref(), Some(USER));
    assert_eq!(m.mail_from(), "alerts@example.org");
    assert_eq!(m.rcpt_tos(), ["soc@example.org", "brand@example.net"]);
    assert_eq!(m.header("To").len(), 1);
    assert!(m.header("To")[0].contains("brand@example.net"));
    assert_eq!(m.meta["content_type"], "multipart/alternative");
    assert_eq!(
        m.meta["parts"],
        serde_json::json!(["text/plain", "text/html"])
    );
    assert_eq!(m.header("X-Lookalike-Delivery"), [a.key.as_str()]);
    assert_eq!(m.header("Auto-Submitted"), ["auto-generated"]);

    assert_eq!(
        m.subject,
        "[lookalike] PayPal: homoglyph, combosquat — login[.]paypa1-secure[.]com (score 80)"
    );

    let text = &m.text;
    for needle in [
        "login[.]paypa1-secure[.]com",
        "Registrable  paypa1-secure[.]com",
        "Score        80 / 100",
        "Techniques   homoglyph, combosquat",
        "First seen   2026-11-28T06:41:07Z",
        "'paypa1-secure[.]com' looks like 'paypal' with '1' for 'l'",
        "next to the word 'login'",
        "log Google 'Argon2026h2' log, index 412345678",
        "log Cloudflare 'Nimbus2026' Log, index 99",
        "issuer   Let's Encrypt",
        "issuer   Sectigo Limited",
        "https://crt.sh/?sha256=5E5E",
    ] {
        assert!(text.contains(needle), "text part lacks {needle:?}:\n{text}");
    }
    let triage = format!("lookalike triage paypa1-secure.com --brand 'PayPal' {TRIAGE}");
    assert!(text.contains(&triage), "{text}");
    // The raw domain appears only in the command meant to be pasted into a shell.
    for part in [text, &m.html] {
        for line in part.lines().filter(|l| !l.contains("lookalike triage")) {
            assert!(!line.contains("paypa1-secure.com"), "not defanged: {line}");
        }
    }

    let html = &m.html;
    assert!(
        html.contains("<code>login[.]paypa1-secure[.]com</code>"),
        "{html}"
    );
    assert!(html.contains("<li>&#39;paypa1-secure[.]com&#39; looks like &#39;paypal&#39;"));
    assert!(html.contains("issuer Let&#39;s Encrypt"));
    assert!(html.contains(&triage.replace('\'', "&#39;")));
    assert_eq!(
        html.matches("<a ").count(),
        1,
        "only the crt.sh link: {html}"
    );
}

#[tokio::test]
async fn hostile_certificate_values_reach_the_mail_escaped() {
    let pki = Pki::new();
    let Some(server) = SmtpServer::start(Options {
        mode: Mode::StartTls,
        pki: Some(&pki),
        user: Some((USER, PASSWORD)),
        reject: vec![],
    }) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut route = with_auth(route(SmtpSecurity::StartTls, server.port), PASSWORD);
    route.ca_file = Some(write_ca(tmp.path(), &pki));

    let hostile = "<script>alert(1)</script> *bold* <!channel>\r\nBcc: evil@example.com";
    let mut a = alert("PayPal", "paypa1.com", "paypa1.com", 90);
    // The brand comes from the watchlist, but nothing may turn it into a header either.
    a.record.finding.brand = "PayPal\r\nBcc: evil@example.com".into();
    a.record.finding.reasons.push(format!("CN {hostile}"));
    a.record.sources[0].name = format!("paypa1.com{hostile}");
    a.record.sources[0].issuer = Some(format!("Evil CA {hostile}\u{202e}"));

    deliver(&route, &[a])
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];

    // No header was injected and nobody else got the mail.
    assert_eq!(m.rcpt_tos(), ["soc@example.org", "brand@example.net"]);
    assert!(m.header("Bcc").is_empty(), "{:?}", m.header_names());
    let head = m.raw.split("\r\n\r\n").next().unwrap();
    assert!(
        !head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{head}"
    );
    assert!(!m.subject.contains(['\r', '\n']));
    assert_eq!(
        m.subject,
        "[lookalike] PayPal Bcc: evil@example.com: homoglyph, combosquat — paypa1[.]com (score 90)"
    );

    // Plain text: the markup is shown as text, line breaks as `\r\n`, on the value's own line.
    for line in m.text.lines() {
        assert!(!line.trim_start().starts_with("Bcc:"), "{line}");
    }
    assert!(
        m.text.contains(
            "issuer   Evil CA <script>alert(1)</script> *bold* <!channel>\\r\\nBcc: evil@example[.]com\\u{202e}"
        ),
        "{}",
        m.text
    );
    assert!(!m.text.contains('\u{202e}'));

    // HTML: every value escaped.
    let html = &m.html;
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<!channel>"), "{html}");
    assert!(html.contains(
        "name <code>paypa1[.]com&lt;script&gt;alert(1)&lt;/script&gt; *bold* &lt;!channel&gt;\\r\\nBcc: evil@example[.]com</code>"
    ), "{html}");
    assert!(html.contains(
        "issuer Evil CA &lt;script&gt;alert(1)&lt;/script&gt; *bold* &lt;!channel&gt;\\r\\nBcc: evil@example[.]com\\u{202e}"
    ), "{html}");
    assert!(
        html.contains("<li>CN &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    for line in html.lines() {
        assert!(!line.trim_start().starts_with("Bcc:"), "{line}");
    }
}

#[tokio::test]
async fn digest_of_three_is_one_mail_over_plain_smtp() {
    let Some(server) = SmtpServer::start(Options {
        mode: Mode::Plain,
        pki: None,
        user: None,
        reject: vec![],
    }) else {
        return;
    };
    let mut route = route(SmtpSecurity::Plain, server.port);
    route.digest_minutes = 15;
    let alerts = [
        alert("PayPal", "paypa1.com", "paypa1.com", 70),
        alert("Example Bank", "examp1e-bank.net", "examp1e-bank.net", 95),
        alert(
            "PayPal",
            "secure.paypal-verify.xyz",
            "paypal-verify.xyz",
            80,
        ),
    ];

    deliver(&route, &alerts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));

    let msgs = server.messages();
    assert_eq!(msgs.len(), 1, "one digest, not one mail per finding");
    let m = &msgs[0];
    assert!(!m.tls());
    assert_eq!(m.rcpt_tos(), ["soc@example.org", "brand@example.net"]);
    assert_eq!(
        m.subject,
        "[lookalike] 3 new lookalike domains (Example Bank, PayPal)"
    );
    assert!(m.header("X-Lookalike-Delivery")[0].starts_with("digest-"));
    for (domain, registrable, brand, score) in [
        ("paypa1[.]com", "paypa1.com", "PayPal", 70),
        ("examp1e-bank[.]net", "examp1e-bank.net", "Example Bank", 95),
        (
            "secure[.]paypal-verify[.]xyz",
            "paypal-verify.xyz",
            "PayPal",
            80,
        ),
    ] {
        let summary = format!("{brand}: {domain} (score {score}; homoglyph, combosquat)");
        assert!(m.text.contains(&summary), "{summary}\n{}", m.text);
        let triage = format!("lookalike triage {registrable} --brand '{brand}' {TRIAGE}");
        assert!(m.text.contains(&triage), "{triage}\n{}", m.text);
        assert!(m.html.contains(&format!("<b>{domain}</b>")), "{}", m.html);
    }
    // Highest score first.
    let pos = |s: &str| m.text.find(s).unwrap();
    assert!(pos("examp1e-bank[.]net (score 95") < pos("paypal-verify[.]xyz (score 80"));
    assert!(pos("paypal-verify[.]xyz (score 80") < pos("paypa1[.]com (score 70"));
}

#[tokio::test]
async fn implicit_tls_with_auth() {
    let pki = Pki::new();
    let Some(server) = SmtpServer::start(Options {
        mode: Mode::Tls,
        pki: Some(&pki),
        user: Some((USER, PASSWORD)),
        reject: vec![],
    }) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut route = with_auth(route(SmtpSecurity::Tls, server.port), PASSWORD);
    route.ca_file = Some(write_ca(tmp.path(), &pki));
    deliver(&route, &[alert("PayPal", "paypa1.com", "paypa1.com", 80)])
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].tls());
    assert_eq!(msgs[0].login().as_deref(), Some(USER));
}

#[tokio::test]
async fn wrong_password_is_refused_and_nothing_is_sent() {
    let pki = Pki::new();
    let Some(server) = SmtpServer::start(Options {
        mode: Mode::StartTls,
        pki: Some(&pki),
        user: Some((USER, PASSWORD)),
        reject: vec![],
    }) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut route = with_auth(route(SmtpSecurity::StartTls, server.port), "wrong");
    route.ca_file = Some(write_ca(tmp.path(), &pki));
    let err = deliver(&route, &[alert("PayPal", "paypa1.com", "paypa1.com", 80)])
        .await
        .unwrap_err();
    // aiosmtpd answers `535 5.7.8 Authentication credentials invalid`: a 5xx, permanent.
    assert!(
        matches!(&err, DeliveryError::Permanent(m) if m.contains("535")),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("wrong"), "the password leaked");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn untrusted_certificate_is_permanent() {
    let pki = Pki::new();
    let Some(server) = SmtpServer::start(Options {
        mode: Mode::StartTls,
        pki: Some(&pki),
        user: Some((USER, PASSWORD)),
        reject: vec![],
    }) else {
        return;
    };
    // No ca_file: the system roots do not know the test CA.
    let route = with_auth(route(SmtpSecurity::StartTls, server.port), PASSWORD);
    let err = deliver(&route, &[alert("PayPal", "paypa1.com", "paypa1.com", 80)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Permanent(m) if m.contains("certificate")),
        "{err:?}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn rejected_recipient_is_permanent() {
    let Some(server) = SmtpServer::start(Options {
        mode: Mode::Plain,
        pki: None,
        user: None,
        reject: vec!["brand@example.net"],
    }) else {
        return;
    };
    let route = route(SmtpSecurity::Plain, server.port);
    let err = deliver(&route, &[alert("PayPal", "paypa1.com", "paypa1.com", 80)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Permanent(m) if m.contains("550")),
        "{err:?}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn server_down_is_transient() {
    let closed = closed_port();
    let route = route(SmtpSecurity::StartTls, closed.local_addr().unwrap().port());
    let err = deliver(&route, &[alert("PayPal", "paypa1.com", "paypa1.com", 80)])
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn silent_server_times_out_as_transient() {
    // Accepts the connection and never sends a greeting.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
    let mut route = route(SmtpSecurity::Plain, port);
    route.timeout = Duration::from_millis(500);
    let started = Instant::now();
    let err = deliver(&route, &[alert("PayPal", "paypa1.com", "paypa1.com", 80)])
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(hold.join());
}

/// Issue 17: a route set to `language = "ja"`, with `[alerts] timezone = "Asia/Tokyo"`, sends
/// its alert in Japanese with the times in JST, through the SMTP server.
#[tokio::test]
async fn a_japanese_route_mails_in_japanese_with_jst_times() {
    let Some(server) = SmtpServer::start(Options {
        mode: Mode::Plain,
        pki: None,
        user: None,
        reject: vec![],
    }) else {
        return;
    };
    let config = format!(
        r#"
[alerts]
timezone = "Asia/Tokyo"

[[route]]
name = "soc-mail"
type = "email"
smtp = "smtp://127.0.0.1:{}"
from = "lookalike <alerts@example.org>"
to = ["soc@example.jp"]
language = "ja"
"#,
        server.port
    );
    let config = lookalike::config::Config::parse("c.toml", &config, Path::new(""))
        .and_then(lookalike::config::Parsed::read_secrets)
        .unwrap();
    let lookalike::sinks::RouteKind::Email(route) = &config.routes[0].kind else {
        panic!("an e-mail route");
    };
    let a = alert(
        "Rakuten",
        "login.rakuten-kakunin.com",
        "rakuten-kakunin.com",
        80,
    );

    deliver(route, std::slice::from_ref(&a))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));

    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(
        m.subject,
        "[lookalike] Rakuten の類似ドメイン: 似た文字 (homoglyph), 語の組み合わせ (combosquat) — login[.]rakuten-kakunin[.]com（スコア 80）"
    );
    let text = &m.text;
    for needle in [
        "Rakuten: 類似ドメイン login[.]rakuten-kakunin[.]com",
        "登録ドメイン rakuten-kakunin[.]com",
        "スコア       80 / 100",
        "通知理由     新規検出",
        // 06:41:07 UTC is 15:41:07 in Tokyo.
        "初回観測     2026年11月28日 15:41:07 JST",
        "最終観測     2026年11月28日 16:02:11 JST（観測 2 回）",
        "検出の理由",
        "観測元（新しい順）",
        "- 2026年11月28日 16:02:11 JST  ct: log Cloudflare 'Nimbus2026' Log, index 99",
        "発行者   Let's Encrypt",
        "トリアージ",
        "lookalike triage rakuten-kakunin.com --brand 'Rakuten'",
        "lookalike が送信（ルート 'soc-mail'",
    ] {
        assert!(text.contains(needle), "text part lacks {needle:?}:\n{text}");
    }
    assert!(!text.contains("06:41:07"), "no UTC time is shown: {text}");
    let html = &m.html;
    assert!(html.contains("<th style=\"text-align:left;vertical-align:top;padding:2px 16px 2px 0\">初回観測</th><td style=\"padding:2px 0\">2026年11月28日 15:41:07 JST</td>"), "{html}");
    assert!(html.contains(">検出の理由</h3>"), "{html}");
    // Declared as UTF-8, so mail clients show the kanji.
    assert!(
        m.raw.to_ascii_lowercase().contains("charset=utf-8"),
        "{}",
        m.raw
    );
}
