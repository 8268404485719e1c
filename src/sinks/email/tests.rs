use std::time::Duration;

use super::*;
use crate::finding::{Finding, Technique};
use crate::sinks::{DeliveryError, SmtpSecurity};
use crate::store::Record;

fn route() -> EmailRoute {
    EmailRoute {
        security: SmtpSecurity::Plain,
        host: "127.0.0.1".into(),
        port: 25,
        username: None,
        password: None,
        from: "lookalike <alerts@example.org>".into(),
        to: vec!["soc@example.org".into()],
        digest_minutes: 0,
        ca_file: None,
        defang: true,
        timeout: Duration::from_secs(5),
        locale: Default::default(),
    }
}

fn alert(brand: &str, domain: &str, score: u8) -> Alert {
    let registrable = domain
        .rsplitn(3, '.')
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join(".");
    let sighting: Sighting = serde_json::from_value(serde_json::json!({
        "source": "ct",
        "name": domain,
        "seen": "2026-11-28T06:41:07Z",
        "log": "Google 'Argon2026h1' log",
        "index": 12345,
        "cert_sha256": "ab".repeat(32),
        "issuer": "Let's Encrypt",
    }))
    .unwrap();
    Alert {
        key: format!("key-{domain}"),
        route: "soc".into(),
        reason: AlertReason::New,
        record: Record {
            finding: Finding {
                schema: 1,
                domain: domain.into(),
                unicode: domain.into(),
                registrable,
                brand: brand.into(),
                term: brand.to_lowercase(),
                techniques: vec![Technique::Homoglyph, Technique::Combosquat],
                score,
                reasons: vec![format!("'{}' looks like the brand", domain)],
            },
            first_seen: "2026-11-28T06:41:07Z".into(),
            last_seen: "2026-11-28T06:41:07Z".into(),
            count: 1,
            sources: vec![sighting],
            enrichment: None,
        },
        change: None,
        triage: None,
    }
}

#[test]
fn subject_says_brand_technique_and_defanged_domain() {
    let r = render(&route(), &[alert("PayPal", "login.paypa1.com", 80)]);
    assert_eq!(
        r.subject,
        "[lookalike] PayPal: homoglyph, combosquat — login[.]paypa1[.]com (score 80)"
    );
}

#[test]
fn defang_everywhere_but_the_triage_command() {
    let r = render(&route(), &[alert("PayPal", "login.paypa1.com", 80)]);
    for part in [&r.subject, &r.text, &r.html] {
        assert!(part.contains("login[.]paypa1[.]com"), "{part}");
        let without_triage: String = part
            .lines()
            .filter(|l| !l.contains("lookalike triage"))
            .collect();
        assert!(!without_triage.contains("paypa1.com"), "{part}");
    }
    assert!(r.text.contains(
        "lookalike triage paypa1.com --brand 'PayPal' \
         --status confirmed|false_positive|ignored|taken_down"
    ));
    assert!(!r.html.contains("<a href=\"http://"));
    assert!(!r.html.contains("paypa1.com\""));
    assert_eq!(r.html.matches("<a ").count(), 1, "only the crt.sh link");
    assert!(r.html.contains("<a href=\"https://crt.sh/?sha256=ABAB"));
}

#[test]
fn without_defang_domains_are_plain() {
    let mut route = route();
    route.defang = false;
    let r = render(&route, &[alert("PayPal", "login.paypa1.com", 80)]);
    assert!(r.subject.contains("— login.paypa1.com (score 80)"));
    assert!(r.text.contains("  Domain       login.paypa1.com\n"));
}

#[test]
fn an_escalation_by_enrichment_says_what_changed_and_what_the_domain_is() {
    let mut a = alert("PayPal", "paypa1.com", 80);
    a.reason = AlertReason::Escalated;
    a.change = Some("escalated by enrichment: now live: https://paypa1.com/ answers 200".into());
    a.record.enrichment = Some(Box::new(crate::store::Enrichment {
        state: Some(crate::store::DomainState::Live),
        web: Some(crate::store::WebInfo {
            status: Some(200),
            title: Some("<b>Sign in</b>\nBcc: x@example.com".into()),
            ..Default::default()
        }),
        ..Default::default()
    }));
    let r = render(&route(), &[a]);
    assert!(
        r.text.contains(
            "  Alert        escalated by enrichment: now live: hxxps[:]//paypa1[.]com/ answers 200\n"
        ),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(
            "  Enrichment   state live; page title '<b>Sign in</b> Bcc: x@example[.]com'\n"
        ),
        "{}",
        r.text
    );
    assert!(r.html.contains("&lt;b&gt;Sign in&lt;/b&gt;") && !r.html.contains("<b>Sign"));
}

#[test]
fn hostile_values_are_escaped_and_never_break_lines() {
    let mut a = alert("Pay\r\nBcc: evil@example.com", "paypa1.com", 90);
    a.reason = AlertReason::Escalated;
    let s = &mut a.record.sources[0];
    s.name = "x.paypa1.com<script>alert(1)</script>".into();
    s.issuer = Some("*bold* <!channel> \"q\" & 'a'\r\nBcc: evil@example.com\u{202e}".into());
    s.cert_sha256 = Some("\"><a href=\"http://evil.example\">".into());
    a.record.finding.reasons = vec!["<img src=x onerror=alert(1)>\nX-Injected: 1".into()];
    let r = render(&route(), &[a]);

    assert!(!r.subject.contains(['\r', '\n']));
    assert_eq!(
        r.subject,
        "[lookalike] Pay Bcc: evil@example.com: homoglyph, combosquat — paypa1[.]com (score 90, escalated)"
    );
    for part in [&r.text, &r.html] {
        assert!(!part.contains('\r'));
        assert!(!part.contains('\u{202e}'));
        for line in part.lines() {
            assert!(!line.starts_with("Bcc:"), "{line}");
            assert!(!line.starts_with("X-Injected"), "{line}");
        }
    }
    assert!(
        r.text.contains(
            "issuer   *bold* <!channel> \"q\" & 'a'\\r\\nBcc: evil@example[.]com\\u{202e}"
        )
    );
    assert!(r.text.contains("x[.]paypa1[.]com<script>alert(1)</script>"));

    assert!(!r.html.contains("<script"));
    assert!(!r.html.contains("<img"));
    assert!(!r.html.contains("<!channel>"));
    assert!(
        r.html
            .contains("x[.]paypa1[.]com&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(r.html.contains("*bold* &lt;!channel&gt; &quot;q&quot; &amp; &#39;a&#39;\\r\\nBcc: evil@example[.]com\\u{202e}"));
    assert!(
        r.html
            .contains("&lt;img src=x onerror=alert(1)&gt;\\nX-Injected: 1")
    );
    assert!(
        !r.html.contains("evil.example\">"),
        "no link from a bad hash"
    );
    assert_eq!(r.html.matches("<a ").count(), 0);
    // The triage command quotes the brand for the shell and stays on one line.
    assert!(
        r.text.contains(
            "lookalike triage paypa1.com --brand 'Pay\\r\\nBcc: evil@example.com' --status"
        )
    );
}

#[test]
fn unicode_form_is_shown_when_it_differs() {
    let mut a = alert("PayPal", "xn--pypal-4ve.com", 85);
    a.record.finding.unicode = "pаypal.com".into();
    let r = render(&route(), &[a]);
    assert!(r.text.contains("  Unicode      pаypal[.]com\n"));
    assert!(r.html.contains("<code>pаypal[.]com</code>"));
    let plain = render(&route(), &[alert("PayPal", "paypa1.com", 80)]);
    assert!(!plain.text.contains("Unicode"));
}

#[test]
fn brand_with_quote_is_shell_quoted() {
    let r = render(&route(), &[alert("O'Reilly", "oreily.com", 70)]);
    assert!(
        r.text
            .contains("lookalike triage oreily.com --brand 'O'\\''Reilly' --status")
    );
}

#[test]
fn digest_lists_every_finding_highest_score_first() {
    let alerts = [
        alert("PayPal", "paypa1.com", 70),
        alert("Example", "examp1e.net", 95),
        alert("PayPal", "paypal-login.com", 80),
    ];
    let r = render(&route(), &alerts);
    assert_eq!(
        r.subject,
        "[lookalike] 3 new lookalike domains (Example, PayPal)"
    );
    let a = r.text.find("examp1e[.]net (score 95").unwrap();
    let b = r.text.find("paypal-login[.]com (score 80").unwrap();
    let c = r.text.find("paypa1[.]com (score 70").unwrap();
    assert!(a < b && b < c);
    for cmd in [
        "lookalike triage paypa1.com --brand 'PayPal'",
        "lookalike triage examp1e.net --brand 'Example'",
        "lookalike triage paypal-login.com --brand 'PayPal'",
    ] {
        assert!(r.text.contains(cmd), "{cmd}");
        assert!(r.html.contains(&text::html(cmd)), "{cmd}");
    }
    assert!(r.text.contains("delivery digest-"));

    let mut mixed = alerts.clone();
    mixed[0].reason = AlertReason::Escalated;
    assert_eq!(
        render(&route(), &mixed).subject,
        "[lookalike] 3 lookalike domains: 2 new, 1 escalated (Example, PayPal)"
    );
}

#[test]
fn digest_id_is_stable_and_order_independent() {
    let a = [alert("A", "a1.com", 70), alert("B", "b1.com", 70)];
    let b = [a[1].clone(), a[0].clone()];
    assert_eq!(delivery_id(&a), delivery_id(&b));
    assert_ne!(delivery_id(&a), delivery_id(&a[..1]));
}

#[test]
fn subject_is_capped() {
    let long = "a".repeat(400);
    let r = render(&route(), &[alert(&long, "paypa1.com", 80)]);
    assert_eq!(r.subject.chars().count(), SUBJECT_MAX);
    assert!(r.subject.ends_with('…'));
}

#[tokio::test]
async fn bad_addresses_are_permanent() {
    let a = [alert("PayPal", "paypa1.com", 80)];
    let mut r = route();
    r.from = "not an address".into();
    assert!(matches!(
        deliver(&r, &a).await,
        Err(DeliveryError::Permanent(_))
    ));
    let mut r = route();
    r.to = vec!["soc@example.org".into(), "bad@@".into()];
    assert!(matches!(
        deliver(&r, &a).await,
        Err(DeliveryError::Permanent(_))
    ));
    let mut r = route();
    r.to.clear();
    assert!(matches!(
        deliver(&r, &a).await,
        Err(DeliveryError::Permanent(_))
    ));
}

#[tokio::test]
async fn bad_ca_file_is_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let a = [alert("PayPal", "paypa1.com", 80)];
    let mut r = route();
    r.security = SmtpSecurity::StartTls;
    r.ca_file = Some(dir.path().join("missing.pem"));
    assert!(matches!(
        deliver(&r, &a).await,
        Err(DeliveryError::Permanent(m)) if m.contains("missing.pem")
    ));
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    r.ca_file = Some(junk);
    assert!(matches!(
        deliver(&r, &a).await,
        Err(DeliveryError::Permanent(m)) if m.contains("junk.pem")
    ));
}
