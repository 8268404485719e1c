//! Enrichment against real servers on loopback: Unbound serving local zones (A, MX, SPF,
//! DMARC, null MX, a wildcard, a large TXT, NXDOMAIN), an RDAP server with RFC 9083 answers,
//! 404, 429 with Retry-After and a wrong shape, and web sites over HTTPS and HTTP (a login
//! page, a parked page, a redirect chain ending on 10.0.0.1, a loop, 50 MB, a hostile title).

use crate::support::enrich;

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use enrich::{Page, RdapAnswer, RdapServer, Site, Unbound, unbound_or_skip};
use lookalike::config::{EnrichConfig, Network, RdapBootstrap};
use lookalike::enrich::Lookups;
use lookalike::store::{DomainState, MailReadiness};

fn config(unbound: Option<&Unbound>, bootstrap: Option<&Path>) -> EnrichConfig {
    EnrichConfig {
        resolvers: unbound.map(|u| vec![u.addr()]).unwrap_or_default(),
        rdap: bootstrap.is_some(),
        rdap_bootstrap: bootstrap.map_or(RdapBootstrap::Bundled, |p| RdapBootstrap::Path(p.into())),
        allow_networks: vec![Network::parse("127.0.0.0/8").unwrap()],
        timeout: Duration::from_secs(3),
        rdap_requests_per_second: 50.0,
        ..EnrichConfig::default()
    }
}

async fn lookups(c: &EnrichConfig) -> Lookups {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Lookups::build(c, &reqwest::Client::new()).await.unwrap().0
}

fn terms() -> Vec<String> {
    vec!["paypal".into()]
}

const ZONES: &str = r#"
    local-data: "paypa1-mail.test. 1 IN SOA ns1.registrar-servers.test. hostmaster.test. 1 3600 600 86400 1"
    local-data: "paypa1-mail.test. 1 IN NS ns1.registrar-servers.test."
    local-data: "paypa1-mail.test. 1 IN A 192.0.2.10"
    local-data: "paypa1-mail.test. 1 IN MX 10 mx1.paypa1-mail.test."
    local-data: "paypa1-mail.test. 1 IN MX 20 mx2.paypa1-mail.test."
    local-data: 'paypa1-mail.test. 1 IN TXT "v=spf1 mx ip4:192.0.2.0/24 -all"'
    local-data: '_dmarc.paypa1-mail.test. 1 IN TXT "v=DMARC1; p=reject; rua=mailto:d@paypa1-mail.test"'
    local-data: "paypa1-nomail.test. 1 IN A 192.0.2.11"
    local-data: "paypa1-nomail.test. 1 IN MX 0 ."
    local-data: 'paypa1-nomail.test. 1 IN TXT "v=spf1 -all"'
    local-data: "paypa1-sender.test. 1 IN A 192.0.2.12"
    local-data: 'paypa1-sender.test. 1 IN TXT "v=spf1 include:_spf.bulk.test ~all"'
    local-zone: "paypa1-wild.test." redirect
    local-data: "paypa1-wild.test. 1 IN A 192.0.2.13"
    local-data: "paypa1-parkns.test. 1 IN NS ns1.sedoparking.com."
    local-data: "paypa1-parkns.test. 1 IN A 192.0.2.14"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_and_mail_readiness_from_a_real_unbound() {
    let test = "dns_and_mail_readiness_from_a_real_unbound";
    let Some(program) = unbound_or_skip(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // A TXT record of ~8 KB (32 strings of 250 bytes): over UDP's size, fetched over TCP,
    // cut to 2 KB and counted.
    let big: String = (0..32)
        .map(|i| format!("\"{}\"", format!("{i:02}").repeat(125)))
        .collect::<Vec<_>>()
        .join(" ");
    let zones = format!("{ZONES}    local-data: 'paypa1-bigtxt.test. 1 IN TXT {big}'\n");
    let unbound = Unbound::start(&program, dir.path(), &zones);
    let l = lookups(&EnrichConfig {
        web: false,
        ..config(Some(&unbound), None)
    })
    .await;

    let dns = l.dns.lookup("paypa1-mail.test").await.unwrap();
    assert_eq!(dns.a, ["192.0.2.10"]);
    assert_eq!(dns.mx, ["mx1.paypa1-mail.test", "mx2.paypa1-mail.test"]);
    assert_eq!(dns.ns, ["ns1.registrar-servers.test"]);
    assert_eq!(dns.spf.as_deref(), Some("v=spf1 mx ip4:192.0.2.0/24 -all"));
    assert_eq!(dns.dmarc_policy.as_deref(), Some("reject"));
    assert!(!dns.wildcard && !dns.nxdomain && !dns.null_mx);
    let o = l.lookup("paypa1-mail.test", &terms(), None).await;
    assert!(!o.failed, "{:?}", o.enrichment.errors);
    assert_eq!(o.enrichment.mail, Some(MailReadiness::MailReady));
    assert_eq!(o.enrichment.state, Some(DomainState::MailReady));

    let dns = l.dns.lookup("paypa1-nomail.test").await.unwrap();
    assert!(dns.null_mx && dns.mx.is_empty());
    assert_eq!(
        lookalike::enrich::mail::readiness(&dns),
        MailReadiness::None
    );
    let o = l.lookup("paypa1-nomail.test", &terms(), None).await;
    assert_eq!(o.enrichment.state, Some(DomainState::Registered));

    let dns = l.dns.lookup("paypa1-sender.test").await.unwrap();
    assert_eq!(
        lookalike::enrich::mail::readiness(&dns),
        MailReadiness::CanSend
    );

    let dns = l.dns.lookup("paypa1-wild.test").await.unwrap();
    assert!(dns.wildcard, "{dns:?}");

    let o = l.lookup("paypa1-parkns.test", &terms(), None).await;
    assert_eq!(o.enrichment.state, Some(DomainState::Parked));

    let dns = l.dns.lookup("paypa1-nothing.test").await.unwrap();
    assert!(dns.nxdomain && dns.a.is_empty());
    let o = l.lookup("paypa1-nothing.test", &terms(), None).await;
    assert_eq!(o.enrichment.state, Some(DomainState::Unregistered));
    assert!(o.enrichment.score_adjustment < 0);

    let before = l.dns.capped.load(Ordering::Relaxed);
    let dns = l.dns.lookup("paypa1-bigtxt.test").await.unwrap();
    assert_eq!(dns.spf, None);
    assert!(
        l.dns.capped.load(Ordering::Relaxed) > before,
        "the big TXT was counted"
    );

    // Unbound gone: the lookup fails cleanly, and says so.
    drop(unbound);
    let o = l.lookup("paypa1-mail.test", &terms(), None).await;
    assert!(o.failed);
    assert!(
        o.enrichment.errors[0].starts_with("dns: "),
        "{:?}",
        o.enrichment.errors
    );
    assert_eq!(o.enrichment.state, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdap_registered_unregistered_throttled_and_malformed() {
    let rdap = RdapServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = rdap.bootstrap_file(dir.path());
    rdap.set(
        "paypa1-login.test",
        RdapAnswer::Registered(
            "2026-11-27T10:12:31Z".into(),
            "Example Registrar, Inc.".into(),
            "abuse@registrar.test".into(),
        ),
    );
    rdap.set("paypa1-busy.test", RdapAnswer::Throttle(30));
    rdap.set(
        "paypa1-odd.test",
        RdapAnswer::Raw(r#"[{"objectClassName":"domain"}]"#.into()),
    );
    rdap.set(
        "paypa1-html.test",
        RdapAnswer::Raw("<html>oops</html>".into()),
    );
    let l = lookups(&EnrichConfig {
        web: false,
        ..config(None, Some(&bootstrap))
    })
    .await;
    let r = l.rdap.as_ref().unwrap();

    let info = r.lookup("paypa1-login.test").await.unwrap();
    assert!(info.registered);
    assert_eq!(info.created.as_deref(), Some("2026-11-27T10:12:31Z"));
    assert_eq!(info.registrar.as_deref(), Some("Example Registrar, Inc."));
    assert_eq!(info.abuse_email.as_deref(), Some("abuse@registrar.test"));
    assert_eq!(info.status, ["client transfer prohibited", "server hold"]);

    let info = r.lookup("paypa1-free.test").await.unwrap();
    assert!(!info.registered, "404 is not registered");

    let err = r.lookup("paypa1-busy.test").await.unwrap_err().to_string();
    assert!(err.contains("(429)") && err.contains("30s"), "{err}");
    // The server is blocked for its Retry-After: no request goes out meanwhile.
    let sent = rdap.requests.load(Ordering::Relaxed);
    let err = r.lookup("paypa1-login.test").await.unwrap_err().to_string();
    assert!(err.contains("429"), "{err}");
    assert_eq!(rdap.requests.load(Ordering::Relaxed), sent);

    let l = lookups(&EnrichConfig {
        web: false,
        ..config(None, Some(&bootstrap))
    })
    .await;
    let r = l.rdap.as_ref().unwrap();
    for odd in ["paypa1-odd.test", "paypa1-html.test"] {
        let err = r.lookup(odd).await.unwrap_err().to_string();
        assert!(err.contains("not an RDAP domain object"), "{err}");
    }
    let err = r.lookup("paypa1.invalid").await.unwrap_err().to_string();
    assert!(err.contains("no RDAP server"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_probe_reads_pages_and_never_reaches_private_addresses() {
    let test = "web_probe_reads_pages_and_never_reaches_private_addresses";
    let Some(program) = unbound_or_skip(test) else {
        return;
    };
    let ip = Ipv4Addr::new(127, 0, 0, 21);
    let Some(site) = Site::start(ip).await else {
        return;
    };
    let names = [
        "paypa1-login",
        "paypa1-parked",
        "paypa1-redirect",
        "paypa1-hop",
        "paypa1-loop",
        "paypa1-huge",
        "paypa1-hostile",
        "paypa1-plain",
    ];
    let mut zones: String = names
        .iter()
        .map(|n| format!("    local-data: \"{n}.test. 1 IN A {ip}\"\n"))
        .collect();
    // An HTTP-only host: nothing answers on 443, so the probe falls back to http://.
    let plain_ip = Ipv4Addr::new(127, 0, 0, 22);
    let Some(plain) = Site::start_http_only(plain_ip).await else {
        return;
    };
    zones.push_str(&format!(
        "    local-data: \"paypa1-http-only.test. 1 IN A {plain_ip}\"\n"
    ));
    zones.push_str("    local-data: \"paypa1-internal.test. 1 IN A 10.0.0.1\"\n");
    zones.push_str("    local-data: \"paypa1-metadata.test. 1 IN A 169.254.169.254\"\n");
    let dir = tempfile::tempdir().unwrap();
    let unbound = Unbound::start(&program, dir.path(), &zones);
    let l = lookups(&config(Some(&unbound), None)).await;
    let web = l.web.as_ref().unwrap();

    site.page(
        "paypa1-login.test",
        "/",
        Page::Html(
            "<!doctype html><html><head><title>PayPal: Log in to your account</title></head>\
             <body><form action=/login><input name=email><input type=password></form>\
             <p>Welcome back to Pay<b>Pal</b>.</p></body></html>"
                .into(),
        ),
    );
    let w = web.probe("paypa1-login.test", &terms()).await;
    assert_eq!(w.error, None);
    assert_eq!(w.status, Some(200));
    assert_eq!(w.url.as_deref(), Some("https://paypa1-login.test/"));
    assert_eq!(w.title.as_deref(), Some("PayPal: Log in to your account"));
    assert!(w.mentions_brand && !w.parked);
    assert_eq!(w.issuer.as_deref(), Some("Lookalike Test CA"));
    let o = l.lookup("paypa1-login.test", &terms(), None).await;
    assert_eq!(o.enrichment.state, Some(DomainState::Live));
    assert!(o.enrichment.score_adjustment >= 15);

    site.page(
        "paypa1-parked.test",
        "/",
        Page::Html("<title>paypa1-parked.test</title><h1>This domain is for sale!</h1><script>window.park = 'x'</script>".into()),
    );
    let w = web.probe("paypa1-parked.test", &terms()).await;
    assert!(w.parked, "{w:?}");
    let o = l.lookup("paypa1-parked.test", &terms(), None).await;
    assert_eq!(o.enrichment.state, Some(DomainState::Parked));

    // HTTPS refused, HTTP answers: the page is read over HTTP.
    plain.page(
        "paypa1-http-only.test",
        "/",
        Page::Html("<title>PayPal - Sign in</title><p>paypal</p>".into()),
    );
    let w = web.probe("paypa1-http-only.test", &terms()).await;
    assert_eq!(w.error, None, "{w:?}");
    assert_eq!(w.status, Some(200));
    assert_eq!(w.url.as_deref(), Some("http://paypa1-http-only.test/"));
    assert_eq!(w.redirects, ["http://paypa1-http-only.test/"]);
    assert_eq!(w.title.as_deref(), Some("PayPal - Sign in"));
    assert!(w.mentions_brand && w.issuer.is_none(), "{w:?}");

    // A chain whose third hop is 10.0.0.1: refused before any connection to it.
    site.page(
        "paypa1-redirect.test",
        "/",
        Page::Redirect("http://paypa1-hop.test/next".into()),
    );
    site.page(
        "paypa1-hop.test",
        "/next",
        Page::Redirect("http://10.0.0.1/admin".into()),
    );
    let refused = l.guard.refused.load(Ordering::Relaxed);
    let w = web.probe("paypa1-redirect.test", &terms()).await;
    assert_eq!(
        w.redirects,
        [
            "https://paypa1-redirect.test/",
            "http://paypa1-hop.test/next",
            "http://10.0.0.1/admin"
        ]
    );
    assert!(
        w.error
            .as_deref()
            .unwrap()
            .contains("10.0.0.1: refused by the SSRF rule"),
        "{w:?}"
    );
    assert_eq!(l.guard.refused.load(Ordering::Relaxed), refused + 1);
    // Names that resolve to private or link-local addresses are never connected to either.
    for name in ["paypa1-internal.test", "paypa1-metadata.test"] {
        let w = web.probe(name, &terms()).await;
        assert!(
            w.error.as_deref().unwrap().contains("SSRF"),
            "{name}: {w:?}"
        );
        assert_eq!(w.status, None);
    }
    let o = l.lookup("paypa1-internal.test", &terms(), None).await;
    assert_eq!(o.enrichment.state, Some(DomainState::Registered));

    site.page("paypa1-loop.test", "/", Page::Redirect("/a".into()));
    site.page("paypa1-loop.test", "/a", Page::Redirect("/b".into()));
    site.page("paypa1-loop.test", "/b", Page::Redirect("/a".into()));
    let w = web.probe("paypa1-loop.test", &terms()).await;
    assert!(
        w.error.as_deref().unwrap().contains("redirect loop"),
        "{w:?}"
    );

    // 50 MB: read up to the 1 MiB cap, the rest never downloaded.
    site.page("paypa1-huge.test", "/", Page::Huge(50 << 20));
    let w = web.probe("paypa1-huge.test", &terms()).await;
    assert!(w.truncated && w.bytes == 1 << 20, "{w:?}");
    assert_eq!(w.title.as_deref(), Some("Huge"));

    site.page(
        "paypa1-hostile.test",
        "/",
        Page::Html("<title>\u{1b}[2J\u{1b}[31mVerify\r\nX-Injected: 1 &lt;script&gt;alert(1)&lt;/script&gt;<img src=x onerror=alert(1)>\u{202e}</title>".into()),
    );
    let w = web.probe("paypa1-hostile.test", &terms()).await;
    assert_eq!(
        w.title.as_deref(),
        Some("Verify X-Injected: 1 <script>alert(1)</script>")
    );
}

#[test]
fn check_enrich_prints_the_lookup_in_one_line() {
    let test = "check_enrich_prints_the_lookup_in_one_line";
    let Some(program) = unbound_or_skip(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let unbound = Unbound::start(&program, dir.path(), ZONES);
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[enrich]\nresolvers = [\"{}\"]\nrdap = false\nweb = false\ntimeout = \"2s\"\n",
            unbound.addr()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
            .arg("check")
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let c = config.to_str().unwrap();
    let out = run(&["--enrich", "--config", c, "paypa1-mail.test"]);
    assert!(
        out.contains(
            "  enrichment: state mail-ready; A 192.0.2.10; MX mx1.paypa1-mail.test (can receive and send) (score 80 → 90)"
        ),
        "{out}"
    );
    let out = run(&["--enrich", "--config", c, "--json", "paypa1-mail.test"]);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["state"], "mail-ready");
    assert_eq!(v["enrichment"]["dns"]["dmarc_policy"], "reject");
    assert_eq!(v["enriched_score"], 90);
}
