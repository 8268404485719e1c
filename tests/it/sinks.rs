//! The webhook, Slack, Teams and command sinks against real receivers: an axum server on
//! 127.0.0.1 and programs written to a temporary folder.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use lookalike::finding::{Finding, SCHEMA_VERSION, Technique};
use lookalike::sinks::{
    Alert, AlertReason, ChatRoute, CommandRoute, DeliveryError, Secret, SinkContext, WebhookRoute,
    command, slack, teams, webhook,
};
use lookalike::store::{Record, Sighting};

const SECRET: &str = "test-secret-0123";
const HOSTILE_ISSUER: &str = "<!channel> *bold* <http://evil.example|click>";

// ---------------------------------------------------------------------------------------------
// Alerts.

fn record() -> Record {
    Record {
        finding: Finding {
            schema: SCHEMA_VERSION,
            domain: "login.paypa1.com".into(),
            unicode: "login.paypa1.com".into(),
            registrable: "paypa1.com".into(),
            brand: "PayPal".into(),
            term: "paypal".into(),
            techniques: vec![Technique::Homoglyph, Technique::Combosquat],
            score: 80,
            reasons: vec![
                "'paypa1' looks like 'paypal'".into(),
                "the keyword 'login' appears in the name".into(),
            ],
        },
        first_seen: "2026-11-28T06:41:07Z".into(),
        last_seen: "2026-11-28T07:00:00Z".into(),
        count: 2,
        // From JSON, so optional fields added to `Sighting` later take their defaults.
        sources: vec![
            serde_json::from_value::<Sighting>(serde_json::json!({
                "source": "ct",
                "name": "login.paypa1.com",
                "seen": "2026-11-28T06:41:07Z",
                "log": "Google 'Argon2026h2'",
                "index": 12345,
                "cert_sha256": "ab".repeat(32),
                "issuer": "Let's Encrypt",
            }))
            .unwrap(),
        ],
        enrichment: None,
    }
}

/// What a certificate can put in front of a chat: mentions, links, formatting, line breaks.
fn hostile_record() -> Record {
    let mut r = record();
    let s = &mut r.sources[0];
    s.issuer = Some(HOSTILE_ISSUER.into());
    s.log = Some("line\nbreak".into());
    r.finding
        .reasons
        .push("`tick` <@U123> _it_ ~s~ [x](http://evil.example) # h".into());
    r
}

fn alert(key: &str, record: Record) -> Alert {
    Alert {
        key: key.into(),
        route: "test".into(),
        reason: AlertReason::New,
        record,
        change: None,
        triage: None,
    }
}

fn ctx() -> SinkContext {
    let _ = rustls::crypto::ring::default_provider().install_default();
    SinkContext::with_builder(|| reqwest::Client::builder().no_proxy()).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---------------------------------------------------------------------------------------------
// The receiver.

#[derive(Debug, Clone)]
struct Hit {
    headers: HashMap<String, String>,
    body: Vec<u8>,
    /// `webhook::verify` said yes (None: no secret configured).
    verified: Option<bool>,
    /// An HMAC computed here, independently, matched the signature header.
    recomputed: Option<bool>,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Clone)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
    answer: Arc<Mutex<String>>,
    secret: Option<Vec<u8>>,
}

impl Receiver {
    fn new(secret: Option<&str>) -> Receiver {
        Receiver {
            hits: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            delay_ms: Arc::default(),
            answer: Arc::new(Mutex::new("ok".into())),
            secret: secret.map(|s| s.as_bytes().to_vec()),
        }
    }

    fn answering(self, status: u16, answer: &str) -> Receiver {
        self.status.store(status, Ordering::SeqCst);
        *self.answer.lock().unwrap() = answer.into();
        self
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Serves on 127.0.0.1 (a free port) and returns the hook's URL.
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/hook")
    }
}

async fn receive(
    State(rx): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    let (verified, recomputed) = match &rx.secret {
        None => (None, None),
        Some(secret) => {
            let ts = headers
                .get("x-lookalike-timestamp")
                .cloned()
                .unwrap_or_default();
            let sig = headers
                .get("x-lookalike-signature")
                .cloned()
                .unwrap_or_default();
            let verified =
                webhook::verify(secret, &ts, &sig, &body, now(), webhook::DEFAULT_TOLERANCE);
            let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
            mac.update(ts.as_bytes());
            mac.update(b".");
            mac.update(&body);
            let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            (Some(verified), Some(expected == sig))
        }
    };
    rx.hits.lock().unwrap().push(Hit {
        headers,
        body: body.to_vec(),
        verified,
        recomputed,
    });
    let delay = rx.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = StatusCode::from_u16(rx.status.load(Ordering::SeqCst)).unwrap();
    (status, rx.answer.lock().unwrap().clone())
}

fn webhook_route(url: &str, secret: Option<&str>) -> WebhookRoute {
    WebhookRoute {
        url: url.into(),
        secret: secret.map(|s| Secret(s.into())),
        timeout: Duration::from_secs(5),
        format: Default::default(),
        signing: Default::default(),
        ca_file: None,
    }
}

fn chat_route(url: &str) -> ChatRoute {
    ChatRoute {
        url: Secret(url.into()),
        timeout: Duration::from_secs(5),
        locale: Default::default(),
    }
}

// ---------------------------------------------------------------------------------------------
// Generic webhook.

#[tokio::test]
async fn generic_webhook_is_signed_and_carries_the_record() {
    let rx = Receiver::new(Some(SECRET));
    let url = rx.start().await;
    let route = webhook_route(&url, Some(SECRET));
    let a = alert("d-0001", record());
    let before = now();
    webhook::deliver_generic(&route, std::slice::from_ref(&a), &ctx())
        .await
        .unwrap();

    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(hit.verified, Some(true), "webhook::verify accepts it");
    assert_eq!(hit.recomputed, Some(true), "an independent HMAC matches");

    assert_eq!(hit.header("Content-Type"), Some("application/json"));
    assert_eq!(
        hit.header("User-Agent"),
        Some(concat!("lookalike/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(hit.header("X-Lookalike-Delivery"), Some("d-0001"));
    let ts: u64 = hit
        .header("X-Lookalike-Timestamp")
        .unwrap()
        .parse()
        .unwrap();
    assert!(ts >= before && ts <= now());
    let sig = hit.header("X-Lookalike-Signature").unwrap();
    assert_eq!(sig, webhook::sign(SECRET.as_bytes(), ts, &hit.body));
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);

    // The same bytes with another secret, or altered, do not verify.
    assert!(!webhook::verify(
        b"wrong",
        &ts.to_string(),
        sig,
        &hit.body,
        now(),
        webhook::DEFAULT_TOLERANCE
    ));
    let mut altered = hit.body.clone();
    altered.push(b' ');
    assert!(!webhook::verify(
        SECRET.as_bytes(),
        &ts.to_string(),
        sig,
        &altered,
        now(),
        webhook::DEFAULT_TOLERANCE
    ));

    let body = hit.json();
    assert_eq!(body["schema"], 1);
    assert_eq!(body["delivery"], "d-0001");
    assert_eq!(body["reason"], "new");
    let f = &body["finding"];
    assert_eq!(f["schema"], 1);
    assert_eq!(f["domain"], "login.paypa1.com");
    assert_eq!(f["registrable"], "paypa1.com");
    assert_eq!(f["brand"], "PayPal");
    assert_eq!(
        f["techniques"],
        serde_json::json!(["homoglyph", "combosquat"])
    );
    assert_eq!(f["score"], 80);
    assert_eq!(f["reasons"][0], "'paypa1' looks like 'paypal'");
    assert_eq!(f["first_seen"], "2026-11-28T06:41:07Z");
    assert_eq!(f["last_seen"], "2026-11-28T07:00:00Z");
    assert_eq!(f["count"], 2);
    assert_eq!(f["sources"][0]["log"], "Google 'Argon2026h2'");
    assert_eq!(f["sources"][0]["index"], 12345);
    assert_eq!(f["sources"][0]["issuer"], "Let's Encrypt");
    // The finding is the stored record, unchanged.
    let back: Record = serde_json::from_value(f.clone()).unwrap();
    assert_eq!(back, a.record);
    assert_eq!(hit.body, webhook::payload(&a));
}

#[tokio::test]
async fn retries_keep_the_delivery_key_and_each_alert_is_one_post() {
    let rx = Receiver::new(Some(SECRET));
    let url = rx.start().await;
    let route = webhook_route(&url, Some(SECRET));
    let mut escalated = alert("d-2", record());
    escalated.reason = AlertReason::Escalated;
    let alerts = [alert("d-1", record()), escalated];
    webhook::deliver_generic(&route, &alerts, &ctx())
        .await
        .unwrap();
    webhook::deliver_generic(&route, &alerts[..1], &ctx())
        .await
        .unwrap();
    let hits = rx.hits();
    let keys: Vec<&str> = hits
        .iter()
        .map(|h| h.header("X-Lookalike-Delivery").unwrap())
        .collect();
    assert_eq!(keys, ["d-1", "d-2", "d-1"]);
    assert_eq!(hits[1].json()["reason"], "escalated");
    assert!(hits.iter().all(|h| h.verified == Some(true)));
}

#[tokio::test]
async fn no_secret_no_signature() {
    let rx = Receiver::new(None);
    let url = rx.start().await;
    webhook::deliver_generic(
        &webhook_route(&url, None),
        &[alert("d-3", record())],
        &ctx(),
    )
    .await
    .unwrap();
    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].header("X-Lookalike-Signature").is_none());
    assert!(hits[0].header("X-Lookalike-Timestamp").is_some());
    assert_eq!(hits[0].header("X-Lookalike-Delivery"), Some("d-3"));
}

async fn generic_answered(status: u16, answer: &str) -> DeliveryError {
    let rx = Receiver::new(Some(SECRET)).answering(status, answer);
    let url = rx.start().await;
    let err = webhook::deliver_generic(
        &webhook_route(&url, Some(SECRET)),
        &[alert("d-4", record())],
        &ctx(),
    )
    .await
    .unwrap_err();
    assert_eq!(rx.hits().len(), 1);
    err
}

#[tokio::test]
async fn server_errors_are_transient() {
    let DeliveryError::Transient(m) = generic_answered(500, "database on fire").await else {
        panic!("500 must be transient")
    };
    assert!(m.contains("500") && m.contains("database on fire"), "{m}");
    assert!(matches!(
        generic_answered(503, "").await,
        DeliveryError::Transient(_)
    ));
    assert!(matches!(
        generic_answered(408, "").await,
        DeliveryError::Transient(_)
    ));
}

#[tokio::test]
async fn too_many_requests_is_transient() {
    let DeliveryError::Transient(m) = generic_answered(429, "slow down").await else {
        panic!("429 must be transient")
    };
    assert!(m.contains("429"), "{m}");
}

#[tokio::test]
async fn client_errors_are_permanent_with_a_clean_excerpt() {
    let long = format!("bad\npayload\u{1b}[31m <b>{}</b>", "x".repeat(1000));
    let DeliveryError::Permanent(m) = generic_answered(400, &long).await else {
        panic!("400 must be permanent")
    };
    assert!(m.contains("400") && m.contains("bad payload"), "{m}");
    assert!(!m.contains('\n') && !m.contains('\u{1b}'), "{m:?}");
    assert!(m.chars().count() < 300, "{} chars", m.chars().count());
    assert!(matches!(
        generic_answered(404, "").await,
        DeliveryError::Permanent(_)
    ));
    assert!(matches!(
        generic_answered(410, "").await,
        DeliveryError::Permanent(_)
    ));
}

#[tokio::test]
async fn a_slow_receiver_times_out_transiently() {
    let rx = Receiver::new(None);
    rx.delay_ms.store(3000, Ordering::SeqCst);
    let url = rx.start().await;
    let mut route = webhook_route(&url, None);
    route.timeout = Duration::from_millis(200);
    let started = Instant::now();
    let err = webhook::deliver_generic(&route, &[alert("d-5", record())], &ctx())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let DeliveryError::Transient(m) = err else {
        panic!("a timeout must be transient: {err:?}")
    };
    assert!(m.contains("200ms"), "{m}");
}

#[tokio::test]
async fn unreachable_is_transient_and_a_bad_url_permanent() {
    // Bound but not listening: connections are refused, and no one else gets the port.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/hook?token=hunter2");
    let err = webhook::deliver_generic(&webhook_route(&url, None), &[alert("d", record())], &ctx())
        .await
        .unwrap_err();
    let DeliveryError::Transient(m) = err else {
        panic!("connection refused must be transient: {err:?}")
    };
    assert!(!m.contains("hunter2"), "the URL stays out of messages: {m}");

    for bad in ["not a url", "ftp://127.0.0.1/x"] {
        let err =
            webhook::deliver_generic(&webhook_route(bad, None), &[alert("d", record())], &ctx())
                .await
                .unwrap_err();
        assert!(matches!(err, DeliveryError::Permanent(_)), "{bad}: {err:?}");
    }

    // A chat URL is a secret: not in the message either.
    let chat = chat_route(&format!(
        "http://127.0.0.1:{port}/services/T0/B0/XXXXSECRET"
    ));
    let err = slack::deliver_slack(&chat, &[alert("d", record())], &ctx())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("XXXXSECRET"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Slack.

/// Checks the message against Block Kit's documented limits; returns every text in it with
/// the type of the block it is in.
fn slack_texts(msg: &Value) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    let fallback = msg["text"].as_str().expect("a fallback text");
    assert!(!fallback.is_empty());
    texts.push(("text".to_owned(), fallback.to_owned()));
    let blocks = msg["blocks"].as_array().expect("blocks");
    assert!(
        !blocks.is_empty() && blocks.len() <= 50,
        "{} blocks",
        blocks.len()
    );
    let text_of = |t: &Value, max: usize, types: &[&str]| -> String {
        let ty = t["type"].as_str().unwrap();
        assert!(types.contains(&ty), "text type {ty}");
        let s = t["text"].as_str().unwrap().to_owned();
        let n = s.chars().count();
        assert!(n >= 1 && n <= max, "{n} characters (max {max}): {s}");
        s
    };
    for b in blocks {
        let ty = b["type"].as_str().unwrap().to_owned();
        match ty.as_str() {
            "header" => texts.push((ty.clone(), text_of(&b["text"], 150, &["plain_text"]))),
            "section" => {
                if let Some(fields) = b.get("fields") {
                    let fields = fields.as_array().unwrap();
                    assert!(
                        !fields.is_empty() && fields.len() <= 10,
                        "{} fields",
                        fields.len()
                    );
                    for f in fields {
                        texts.push((ty.clone(), text_of(f, 2000, &["mrkdwn", "plain_text"])));
                    }
                } else {
                    texts.push((
                        ty.clone(),
                        text_of(&b["text"], 3000, &["mrkdwn", "plain_text"]),
                    ));
                }
            }
            "context" => {
                let elements = b["elements"].as_array().unwrap();
                assert!(!elements.is_empty() && elements.len() <= 10);
                for e in elements {
                    texts.push((ty.clone(), text_of(e, 3000, &["mrkdwn", "plain_text"])));
                }
            }
            other => panic!("unexpected block type {other}"),
        }
    }
    texts
}

#[tokio::test]
async fn slack_message_is_block_kit_and_escapes_everything() {
    let rx = Receiver::new(None);
    let url = rx.start().await;
    slack::deliver_slack(&chat_route(&url), &[alert("d-6", hostile_record())], &ctx())
        .await
        .unwrap();
    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].header("Content-Type"), Some("application/json"));
    let raw = String::from_utf8(hits[0].body.clone()).unwrap();
    let msg = hits[0].json();
    assert_eq!(msg, slack::slack_payload(&alert("d-6", hostile_record())));
    let texts = slack_texts(&msg);

    // Nothing from the certificate can mention, link or format.
    for bad in ["<!channel>", "<http", "<@U123>", "evil.example", "http://"] {
        assert!(!raw.contains(bad), "{bad} in {raw}");
    }
    assert!(raw.contains("&lt;!channel&gt;"));
    let issuer = texts
        .iter()
        .find(|(_, t)| t.starts_with("*Issuer*"))
        .expect("an issuer field");
    assert_eq!(
        issuer.1,
        "*Issuer*\n`&lt;!channel&gt; *bold* &lt;hxxp[:]//evil[.]example|click&gt;`"
    );
    let log = texts
        .iter()
        .find(|(_, t)| t.starts_with("*Log*"))
        .expect("a log field");
    assert_eq!(log.1, "*Log*\n`line break` #12345");
    assert!(texts.iter().all(|(_, t)| !t.contains("line\nbreak")));
    let why = texts
        .iter()
        .find(|(_, t)| t.starts_with("*Why*"))
        .expect("the reasons");
    assert!(
        why.1
            .contains("• `'tick' &lt;@U123&gt; _it_ ~s~ [x](hxxp[:]//evil[.]example) # h`"),
        "{}",
        why.1
    );

    // Names are defanged wherever people read them, the triage command included (it takes them
    // in that form).
    let header = &texts.iter().find(|(ty, _)| ty == "header").unwrap().1;
    assert_eq!(header, "Lookalike of PayPal: login[.]paypa1[.]com");
    assert!(
        texts
            .iter()
            .any(|(_, t)| t == "*Domain*\n`login[.]paypa1[.]com`")
    );
    assert!(
        texts
            .iter()
            .any(|(_, t)| t == "*Registrable*\n`paypa1[.]com`")
    );
    assert!(
        texts[0].1.contains("login[.]paypa1[.]com"),
        "{}",
        texts[0].1
    );
    assert!(!raw.contains("paypa1.com"), "{raw}");
    let context = &texts.iter().find(|(ty, _)| ty == "context").unwrap().1;
    assert!(
        context.contains("`lookalike triage 'paypa1[.]com' --brand 'PayPal' --status confirmed`"),
        "{context}"
    );
    // Every mrkdwn text asks Slack not to add links or mentions of its own.
    for b in msg["blocks"].as_array().unwrap() {
        for t in b["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(b["elements"].as_array().into_iter().flatten())
            .chain(std::iter::once(&b["text"]))
        {
            if t["type"] == "mrkdwn" {
                assert_eq!(t["verbatim"], true, "{t}");
            }
        }
    }
    assert_eq!(msg["unfurl_links"], false);
}

#[tokio::test]
async fn slack_limits_hold_for_huge_values() {
    let mut r = hostile_record();
    r.finding.brand = "B<".repeat(200);
    r.finding.domain = format!("{}.example", "a".repeat(5000));
    r.finding.reasons = (0..40)
        .map(|i| format!("reason {i} {}", "<&>".repeat(200)))
        .collect();
    r.sources[0].issuer = Some("&".repeat(10_000));
    let msg = slack::slack_payload(&alert("d-7", r));
    let texts = slack_texts(&msg);
    assert!(texts.iter().any(|(_, t)| t.contains("more")));
}

#[tokio::test]
async fn slack_rejections_are_permanent() {
    let rx = Receiver::new(None).answering(400, "invalid_blocks");
    let url = rx.start().await;
    let err = slack::deliver_slack(&chat_route(&url), &[alert("d-8", record())], &ctx())
        .await
        .unwrap_err();
    let DeliveryError::Permanent(m) = err else {
        panic!("{err:?}")
    };
    assert!(m.contains("400") && m.contains("invalid_blocks"), "{m}");
}

// ---------------------------------------------------------------------------------------------
// Teams.

#[tokio::test]
async fn teams_message_is_an_adaptive_card_and_escapes_everything() {
    let rx = Receiver::new(None).answering(202, "");
    let url = rx.start().await;
    teams::deliver_teams(&chat_route(&url), &[alert("d-9", hostile_record())], &ctx())
        .await
        .unwrap();
    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    let raw = String::from_utf8(hits[0].body.clone()).unwrap();
    let msg = hits[0].json();

    assert_eq!(msg["type"], "message");
    let attachments = msg["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    let a = &attachments[0];
    assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
    assert!(a["contentUrl"].is_null());
    let card = &a["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    assert_eq!(
        card["$schema"],
        "http://adaptivecards.io/schemas/adaptive-card.json"
    );
    let body = card["body"].as_array().unwrap();
    assert!(!body.is_empty());
    let mut texts = Vec::new();
    let mut facts = HashMap::new();
    for element in body {
        match element["type"].as_str().unwrap() {
            "TextBlock" => texts.push(element["text"].as_str().unwrap().to_owned()),
            "FactSet" => {
                for f in element["facts"].as_array().unwrap() {
                    let title = f["title"].as_str().unwrap().to_owned();
                    let value = f["value"].as_str().unwrap().to_owned();
                    texts.push(value.clone());
                    facts.insert(title, value);
                }
            }
            other => panic!("unexpected element {other}"),
        }
    }
    assert!(texts.iter().all(|t| !t.contains('\n') && !t.contains('\r')));
    for bad in ["<!channel>", "*bold*", "evil.example", "paypa1.com", "[x]("] {
        assert!(!raw.contains(bad), "{bad} in {raw}");
    }
    // Every markdown character from the certificate is backslash-escaped.
    for t in texts
        .iter()
        .filter(|t| t.contains("channel") || t.contains("tick"))
    {
        let chars: Vec<char> = t.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if "<>*_`~()".contains(*c) {
                assert!(i > 0 && chars[i - 1] == '\\', "unescaped {c} in {t}");
            }
        }
    }
    assert!(texts.iter().all(|t| !t.contains("http://")), "{texts:#?}");
    assert_eq!(
        facts["Issuer"],
        r"\<!channel\> \*bold\* \<hxxp[:]//evil[.]example|click\>"
    );
    assert_eq!(facts["Log"], "line break #12345");
    assert_eq!(facts["Domain"], "login[.]paypa1[.]com");
    assert_eq!(facts["Registrable"], "paypa1[.]com");
    assert_eq!(facts["Brand"], "PayPal");
    assert_eq!(facts["Score"], "80 (new)");
    assert_eq!(facts["Techniques"], "homoglyph, combosquat");
    assert!(
        texts.iter().any(
            |t| t == r"• \`tick\` \<@U123\> \_it\_ \~s\~ \[x\]\(hxxp[:]//evil[.]example\) \# h"
        ),
        "{texts:#?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Triage: lookalike triage 'paypa1[.]com' --brand 'PayPal'")),
        "{texts:#?}"
    );
    assert_eq!(msg, teams::teams_payload(&alert("d-9", hostile_record())));
}

#[tokio::test]
async fn teams_server_errors_are_transient() {
    let rx = Receiver::new(None).answering(502, "Bad Gateway");
    let url = rx.start().await;
    let err = teams::deliver_teams(&chat_route(&url), &[alert("d-10", record())], &ctx())
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Command.

/// Programs are written as `#!/bin/sh` scripts: Unix only.
#[cfg(unix)]
mod programs {
    use super::*;

    /// Command tests write programs and run them; one at a time, so no other test's fork holds a
    /// script open for writing while it is executed ("text file busy").
    static PROGRAMS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// Writes an executable script. A child process writes it, not this one: the tests of every
    /// module share this process and start programs all the time, and a fork that inherited a
    /// descriptor open for writing on the script would make executing it fail ("text file
    /// busy") until that fork calls exec.
    fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
        use std::io::Write;
        let path = dir.join(name);
        let mut writer = std::process::Command::new("sh")
            .args(["-c", "cat > \"$0\" && chmod 755 \"$0\""])
            .arg(&path)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = writer.stdin.take().unwrap();
        stdin
            .write_all(format!("#!/bin/sh\n{body}\n").as_bytes())
            .unwrap();
        drop(stdin);
        assert!(writer.wait().unwrap().success(), "cannot write {path:?}");
        path.to_str().unwrap().to_owned()
    }

    fn command_route(argv: &[&str], timeout: Duration) -> CommandRoute {
        CommandRoute {
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            timeout,
        }
    }

    #[tokio::test]
    async fn command_gets_the_record_on_stdin_and_the_alert_in_its_environment() {
        let _one = PROGRAMS.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let hook = script(
            dir.path(),
            "hook.sh",
            "cat > \"$1/stdin.json\"\nenv | grep '^LOOKALIKE_' | sort > \"$1/env.txt\"",
        );
        let out = dir.path().to_str().unwrap();
        let route = command_route(&[&hook, out], Duration::from_secs(10));
        let mut a = alert("d-11", record());
        a.reason = AlertReason::Escalated;
        command::deliver(&route, std::slice::from_ref(&a))
            .await
            .unwrap();

        let stdin = std::fs::read(dir.path().join("stdin.json")).unwrap();
        assert_eq!(stdin, webhook::payload(&a));
        let body: Value = serde_json::from_slice(&stdin).unwrap();
        assert_eq!(body["schema"], 1);
        assert_eq!(body["delivery"], "d-11");
        assert_eq!(body["reason"], "escalated");
        assert_eq!(body["finding"]["domain"], "login.paypa1.com");
        assert_eq!(body["finding"]["count"], 2);

        let env = std::fs::read_to_string(dir.path().join("env.txt")).unwrap();
        let env: HashMap<&str, &str> = env.lines().filter_map(|l| l.split_once('=')).collect();
        let expected = [
            ("LOOKALIKE_DOMAIN", "login.paypa1.com"),
            ("LOOKALIKE_REGISTRABLE", "paypa1.com"),
            ("LOOKALIKE_UNICODE", "login.paypa1.com"),
            ("LOOKALIKE_BRAND", "PayPal"),
            ("LOOKALIKE_SCORE", "80"),
            ("LOOKALIKE_TECHNIQUES", "homoglyph,combosquat"),
            ("LOOKALIKE_DELIVERY", "d-11"),
            ("LOOKALIKE_REASON", "escalated"),
            ("LOOKALIKE_FIRST_SEEN", "2026-11-28T06:41:07Z"),
        ];
        for (k, v) in expected {
            assert_eq!(env.get(k).copied(), Some(v), "{k}");
        }
        assert_eq!(env.len(), expected.len(), "{env:?}");
    }

    #[tokio::test]
    async fn a_failing_command_is_transient_with_its_status_and_stderr() {
        let _one = PROGRAMS.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let hook = script(
            dir.path(),
            "fail.sh",
            "cat > /dev/null\necho 'ticket system: quota exceeded' >&2\nexit 3",
        );
        let err = command::deliver(
            &command_route(&[&hook], Duration::from_secs(10)),
            &[alert("d-12", record())],
        )
        .await
        .unwrap_err();
        let DeliveryError::Transient(m) = err else {
            panic!("{err:?}")
        };
        assert!(m.contains("exit status: 3"), "{m}");
        assert!(m.contains("ticket system: quota exceeded"), "{m}");
    }

    #[tokio::test]
    async fn a_command_flooding_stderr_does_not_hang() {
        let _one = PROGRAMS.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let hook = script(
            dir.path(),
            "flood.sh",
            "head -c 300000 /dev/zero | tr '\\0' x >&2\necho END-MARK >&2\nexit 1",
        );
        let err = command::deliver(
            &command_route(&[&hook], Duration::from_secs(20)),
            &[alert("d-13", record())],
        )
        .await
        .unwrap_err();
        let DeliveryError::Transient(m) = err else {
            panic!("{err:?}")
        };
        assert!(m.ends_with("END-MARK"), "{m}");
        assert!(m.chars().count() < 300, "{} chars", m.chars().count());
    }

    #[tokio::test]
    async fn a_slow_command_is_killed_at_the_timeout() {
        let _one = PROGRAMS.lock().await;
        let started = Instant::now();
        let err = command::deliver(
            &command_route(&["sleep", "10"], Duration::from_millis(200)),
            &[alert("d-14", record())],
        )
        .await
        .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let DeliveryError::Transient(m) = err else {
            panic!("{err:?}")
        };
        assert!(m.contains("killed after 200ms"), "{m}");
    }

    #[tokio::test]
    async fn programs_that_ignore_stdin_or_leave_a_background_child_succeed() {
        let _one = PROGRAMS.lock().await;
        command::deliver(
            &command_route(&["true"], Duration::from_secs(10)),
            &[alert("d-15", record())],
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let hook = script(dir.path(), "bg.sh", "sleep 5 &\nexit 0");
        let started = Instant::now();
        command::deliver(
            &command_route(&[&hook], Duration::from_secs(10)),
            &[alert("d-16", record())],
        )
        .await
        .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_missing_or_unrunnable_program_is_permanent() {
        let _one = PROGRAMS.lock().await;
        let a = [alert("d-17", record())];
        let t = Duration::from_secs(10);
        for argv in [
            &["/nonexistent/lookalike-hook"][..],
            &["lookalike-no-such-program-4242"][..],
        ] {
            let err = command::deliver(&command_route(argv, t), &a)
                .await
                .unwrap_err();
            let DeliveryError::Permanent(m) = err else {
                panic!("{argv:?}: {err:?}")
            };
            assert!(m.contains("not found"), "{m}");
        }
        let err = command::deliver(&command_route(&[], t), &a)
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Permanent(_)), "{err:?}");

        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("not-executable.sh");
        std::fs::write(&plain, "#!/bin/sh\nexit 0\n").unwrap();
        let err = command::deliver(&command_route(&[plain.to_str().unwrap()], t), &a)
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Permanent(_)), "{err:?}");
    }
}

/// Issue 17: a route set to `language = "ja"` writes its Slack and Teams messages in Japanese,
/// with times in `[alerts] timezone`; the values from the certificate stay escaped.
#[test]
fn slack_and_teams_speak_japanese_with_jst_times() {
    use lookalike::sinks::locale::{Language, Locale, timezone};
    let ja = Locale {
        language: Language::Ja,
        timezone: timezone("Asia/Tokyo").unwrap(),
        timezone_name: "Asia/Tokyo".into(),
    };
    let a = alert("d-ja", hostile_record());
    let slack = slack::slack_payload_in(&a, &ja);
    assert_eq!(
        slack["blocks"][0]["text"]["text"],
        "PayPal の類似ドメイン: login[.]paypa1[.]com"
    );
    let fields = slack["blocks"][1]["fields"].to_string();
    for needle in [
        "*ブランド*",
        "*スコア*\\n80 (新規)",
        "*手口*\\n`似た文字 (homoglyph), 語の組み合わせ (combosquat)`",
        "*初回観測*\\n`2026年11月28日 15:41:07 JST`",
        "2 回、最終 2026年11月28日 16:00:00 JST",
    ] {
        assert!(fields.contains(needle), "{needle}: {fields}");
    }
    assert!(
        slack["text"]
            .as_str()
            .unwrap()
            .starts_with("PayPal の類似ドメイン: login[.]paypa1[.]com、スコア 80")
    );
    assert!(!slack.to_string().contains("<@U123>"), "still escaped");

    let teams = teams::teams_payload_in(&a, &ja);
    let body = &teams["attachments"][0]["content"]["body"];
    assert_eq!(body[0]["text"], "PayPal の類似ドメイン");
    let facts = body[2]["facts"].to_string();
    assert!(
        facts.contains("\"title\":\"初回観測\",\"value\":\"2026年11月28日 15:41:07 JST\""),
        "{facts}"
    );
    assert!(facts.contains("\"title\":\"配信 ID\""), "{facts}");
    assert!(teams.to_string().contains("検出の理由"));

    // The English default is unchanged: UTC times as stored.
    let en = slack::slack_payload(&a).to_string();
    assert!(
        en.contains("2026-11-28T06:41:07Z") && en.contains("*First seen*"),
        "{en}"
    );
}
