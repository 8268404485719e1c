use super::*;
use crate::sources::ct::loglist::{self, Api};
use crate::sources::ct::monitor::Start;

#[test]
fn empty_config_is_the_embedded_default_relative_to_the_file() {
    let c = Config::parse("c.toml", "", Path::new("/etc/lookalike"))
        .and_then(Parsed::read_secrets)
        .unwrap();
    assert_eq!(c.store, PathBuf::from("/etc/lookalike/lookalike-data"));
    assert!(c.watchlists.is_empty());
    assert_eq!(c.ct.len(), 1);
    assert_eq!(c.ct[0].lists, Lists::Live);
    assert_eq!(c.ct[0].start, Start::Head);
}

#[test]
fn ct_source_with_extra_logs() {
    let text = r#"
watchlists = ["/srv/w"]
[store]
path = "/var/lib/lookalike"

[[source]]
type = "ct"
lists = "none"
start = "backfill:100"
exclude = ["Google 'Argon2026h1' log"]
poll = "1s"
shard = "2/3"
  [[source.log]]
  name = "local"
  url = "http://127.0.0.1:9000/static"
  api = "static"
  key = "MFkw"
"#;
    let c = Config::parse("c.toml", text, Path::new("/x"))
        .and_then(Parsed::read_secrets)
        .unwrap();
    assert_eq!(c.store, PathBuf::from("/var/lib/lookalike"));
    let ct = &c.ct[0];
    assert_eq!(ct.lists, Lists::None);
    assert_eq!(ct.start, Start::Backfill(100));
    assert_eq!(ct.poll, Duration::from_secs(1));
    assert_eq!(ct.shard, Some(loglist::Shard { index: 2, count: 3 }));
    assert_eq!(ct.logs[0].url, "http://127.0.0.1:9000/static/");
    assert_eq!(ct.logs[0].api, Api::Static);
    assert_eq!(ct.logs[0].key.as_deref(), Some(&[0x30, 0x59, 0x30][..]));
}

#[test]
fn errors_name_file_line_and_field() {
    let cases = [
        ("[store]\npath = 1\n", "c.toml:2:", "invalid type"),
        (
            "\n\n[[source]]\ntype = \"ct\"\nstart = \"tail\"\n",
            "c.toml:5:",
            "backfill:N",
        ),
        (
            "[[source]]\ntype = \"ct\"\nlists = \"all\"\n",
            "c.toml:3:",
            "\"live\"",
        ),
        (
            "[[source]]\ntype = \"ftp\"\n",
            "c.toml:2:",
            "unknown source type \"ftp\"",
        ),
        (
            "[[source]]\ntype = \"ct\"\n[[source.log]]\nname = \"x\"\nurl = \"ftp://x\"\n",
            "c.toml:5:",
            "http://",
        ),
        (
            "[[source]]\ntype = \"ct\"\n[[source.log]]\nname = \"x\"\nurl = \"http://x\"\nkey = \"!!\"\n",
            "c.toml:6:",
            "base64",
        ),
        ("bogus = 1\n", "c.toml:1:", "unknown field"),
        (
            "[[source]]\ntype = \"ct\"\npoll = \"soon\"\n",
            "c.toml:3:",
            "duration",
        ),
        (
            "[[source]]\ntype = \"ct\"\nshard = \"3/2\"\n",
            "c.toml:3:",
            "1 <= K <= N",
        ),
        (
            "[[source]]\ntype = \"nrd\"\nname = \"x\"\npath = \"f\"\nshard = \"1/2\"\n",
            "c.toml:5:",
            "shard",
        ),
    ];
    for (text, location, needle) in cases {
        let err = Config::parse("c.toml", text, Path::new(""))
            .and_then(Parsed::read_secrets)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("config {location}")),
            "{text:?}: {err}"
        );
        assert!(err.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn http_routes_take_a_ca_file_relative_to_the_config() {
    use crate::sinks::RouteKind;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hec.token"), "t0ken\n").unwrap();
    let text = r#"
[[route]]
name = "splunk"
type = "splunk"
url = "https://splunk.internal:8088"
token_file = "hec.token"
ca_file = "pki/splunk-ca.pem"

[[route]]
name = "hook"
type = "webhook"
url = "https://hooks.internal/lookalike"
ca_file = "/etc/ssl/private-ca.pem"
"#;
    let c = Config::parse("c.toml", text, dir.path())
        .and_then(Parsed::read_secrets)
        .unwrap();
    let routes = &c.routes;
    let RouteKind::Splunk(splunk) = &routes[0].kind else {
        panic!("{:?}", routes[0].kind)
    };
    assert_eq!(
        splunk.ca_file.as_deref(),
        Some(dir.path().join("pki/splunk-ca.pem").as_path())
    );
    let RouteKind::Webhook(hook) = &routes[1].kind else {
        panic!("{:?}", routes[1].kind)
    };
    assert_eq!(
        hook.ca_file.as_deref(),
        Some(Path::new("/etc/ssl/private-ca.pem"))
    );
    assert!(
        c.describe(1)
            .contains("also trusting /etc/ssl/private-ca.pem"),
        "{}",
        c.describe(1)
    );
}

#[test]
fn misp_org_is_checked_where_it_is_written() {
    let c = Config::parse(
        "c.toml",
        "[export]\nmisp_org = \" Example CTI \"\n",
        Path::new("/x"),
    )
    .and_then(Parsed::read_secrets)
    .unwrap();
    assert_eq!(
        c.export.misp_org,
        crate::export::misp::Org::named("Example CTI")
    );
    assert_ne!(c.export.misp_org, crate::export::misp::Org::default());
    for (text, at, says) in [
        (
            "[export]\nmisp_org = \"\"\n",
            "c.toml:2:",
            "1 to 255 characters",
        ),
        (
            "[export]\nmisp_org = \"a\\nb\"\n",
            "c.toml:2:",
            "control characters",
        ),
        (
            "[export]\n\nmisp_org_uuid = \"lookalike\"\n",
            "c.toml:3:",
            "expected the organisation's UUID",
        ),
        (
            "[export]\nmisp_org_uuid = \"00000000-0000-0000-0000-000000000000\"\n",
            "c.toml:2:",
            "expected the organisation's UUID",
        ),
    ] {
        let e = Config::parse("c.toml", text, Path::new("/x"))
            .and_then(Parsed::read_secrets)
            .unwrap_err()
            .to_string();
        assert!(e.contains(at) && e.contains(says), "{text:?}: {e}");
    }
}

#[test]
fn a_nats_route_takes_every_state_change_unless_told_alerts() {
    use crate::sinks::Events;
    let route = |extra: &str| {
        format!(
            "[[route]]\nname = \"bus\"\ntype = \"nats\"\nurl = \"nats://127.0.0.1:4222\"\nsubject = \"lookalike.findings\"\n{extra}"
        )
    };
    let c = Config::parse("c.toml", &route(""), Path::new("/x"))
        .and_then(Parsed::read_secrets)
        .unwrap();
    assert_eq!(c.routes[0].events, Events::All);
    assert!(
        c.describe(1).contains("; every finding and state change"),
        "{}",
        c.describe(1)
    );
    let c = Config::parse("c.toml", &route("events = \"alerts\"\n"), Path::new("/x"))
        .and_then(Parsed::read_secrets)
        .unwrap();
    assert_eq!(c.routes[0].events, Events::Alerts);
    let e = Config::parse("c.toml", &route("events = \"some\"\n"), Path::new("/x"))
        .and_then(Parsed::read_secrets)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("c.toml:6:") && e.contains("expected \"all\""),
        "{e}"
    );
    let hook = "[[route]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"https://x.example/\"\nevents = \"all\"\n";
    let e = Config::parse("c.toml", hook, Path::new("/x"))
        .and_then(Parsed::read_secrets)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("c.toml:5:") && e.contains("nats route only"),
        "{e}"
    );
    let c = Config::parse(
        "c.toml",
        &hook.replace("events = \"all\"\n", ""),
        Path::new("/x"),
    )
    .and_then(Parsed::read_secrets)
    .unwrap();
    assert_eq!(c.routes[0].events, Events::Alerts);
}

#[test]
fn store_cache_is_set_in_megabytes_and_bounded() {
    let c = Config::parse("c.toml", "", Path::new("/x"))
        .and_then(Parsed::read_secrets)
        .unwrap();
    assert_eq!(c.store_cache_bytes, 64 << 20);
    let c = Config::parse("c.toml", "[store]\ncache_mb = 16\n", Path::new("/x"))
        .and_then(Parsed::read_secrets)
        .unwrap();
    assert_eq!(c.store_cache_bytes, 16 << 20);
    assert!(
        c.describe(1).contains("page cache 16 MB"),
        "{}",
        c.describe(1)
    );
    for bad in ["0", "65537"] {
        let e = Config::parse(
            "c.toml",
            &format!("[store]\ncache_mb = {bad}\n"),
            Path::new("/x"),
        )
        .and_then(Parsed::read_secrets)
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("c.toml:2:") && e.contains("outside 1–65536"),
            "{e}"
        );
    }
}

/// Parsing reads nothing but the text; the secrets it names are read in their own step,
/// whose errors name the line that names the secret.
#[test]
fn parsing_reads_nothing_and_secrets_are_read_in_their_own_step() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[api]
listen = "0.0.0.0:8080"
token_file = "api.token"

[[route]]
name = "hook"
type = "webhook"
url = "https://hooks.internal/lookalike"
secret_env = "LOOKALIKE_TEST_SECRET_THAT_IS_NEVER_SET"
"#;
    let parse = || Config::parse("c.toml", text, dir.path()).expect("parsing reads no secret");
    let token = dir.path().join("api.token");
    assert_eq!(
        parse().secrets().collect::<Vec<_>>(),
        [
            ("API token", token.display().to_string()),
            (
                "webhook secret",
                "env LOOKALIKE_TEST_SECRET_THAT_IS_NEVER_SET".to_owned()
            ),
        ]
    );
    let err = parse().read_secrets().unwrap_err().to_string();
    assert!(
        err.starts_with("config c.toml:4: cannot read ") && err.contains("(API token)"),
        "{err}"
    );

    // A store command reads the API token only, and says why it could not.
    let c = parse().without_route_secrets();
    assert!(c.api.token.is_none());
    assert!(
        c.api
            .token_error
            .as_deref()
            .is_some_and(|e| e.starts_with("config c.toml:4: cannot read")),
        "{:?}",
        c.api.token_error
    );
    std::fs::write(&token, "s3cret\n").unwrap();
    let c = parse().without_route_secrets();
    assert_eq!(c.api.token.as_ref().map(|t| t.expose()), Some("s3cret"));

    // The service's config: the webhook's secret is read, or the start stops at its line.
    let err = parse().read_secrets().unwrap_err().to_string();
    assert_eq!(
        err,
        "config c.toml:10: environment variable LOOKALIKE_TEST_SECRET_THAT_IS_NEVER_SET (webhook secret) is not set"
    );
}
