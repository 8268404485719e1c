use super::*;
use crate::config::Config;
use crate::sinks::{BodyFormat, SmtpSecurity, SyslogTransport};

#[test]
fn smtp_urls() {
    assert_eq!(
        parse_smtp("smtp+starttls://mail.example.org:587"),
        Some((SmtpSecurity::StartTls, "mail.example.org".into(), 587))
    );
    assert_eq!(
        parse_smtp("smtps://mail.example.org"),
        Some((SmtpSecurity::Tls, "mail.example.org".into(), 465))
    );
    assert_eq!(
        parse_smtp("smtp://127.0.0.1:2525"),
        Some((SmtpSecurity::Plain, "127.0.0.1".into(), 2525))
    );
    assert_eq!(parse_smtp("http://x"), None);
    assert_eq!(parse_smtp("smtp://:25"), None);
}

#[test]
fn syslog_urls() {
    assert_eq!(
        parse_syslog("tcp://127.0.0.1:6514"),
        Some((SyslogTransport::Tcp, "127.0.0.1".into(), 6514))
    );
    assert_eq!(
        parse_syslog("udp://logs.example.org"),
        Some((SyslogTransport::Udp, "logs.example.org".into(), 514))
    );
    assert_eq!(
        parse_syslog("udp://[::1]:5514"),
        Some((SyslogTransport::Udp, "::1".into(), 5514))
    );
    assert_eq!(
        parse_syslog("tcp://[::1]"),
        Some((SyslogTransport::Tcp, "::1".into(), 514))
    );
    for bad in [
        "syslog://x",
        "tcp://",
        "tcp://x:port",
        "udp://[::1",
        "tcp://a b",
    ] {
        assert_eq!(parse_syslog(bad), None, "{bad}");
    }
}

#[test]
fn siem_and_bus_routes_parse() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hec"), "0000-1111\n").unwrap();
    std::fs::write(
        dir.path().join("whsec"),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
    )
    .unwrap();
    let text = r#"
[[route]]
name = "splunk"
type = "splunk"
url = "https://splunk.example:8088"
token_file = "hec"
index = "threat"
format = "ecs"

[[route]]
name = "siem"
type = "syslog"
url = "udp://127.0.0.1:5514"
facility = "local3"

[[route]]
name = "bus"
type = "nats"
url = "nats://127.0.0.1:4222"
subject = "lookalike.findings"
stream = "LOOKALIKE"
duplicate_window = "1h"

[[route]]
name = "elastic"
type = "webhook"
url = "https://elastic.example/ingest"
format = "ecs"
signing = "standard"
secret_file = "whsec"
"#;
    let c = Config::parse("c.toml", text, dir.path())
        .and_then(crate::config::Parsed::read_secrets)
        .unwrap();
    let RouteKind::Splunk(s) = &c.routes[0].kind else {
        panic!()
    };
    assert_eq!(s.token.expose(), "0000-1111");
    assert_eq!(s.index.as_deref(), Some("threat"));
    assert_eq!(s.sourcetype, "lookalike:finding");
    assert_eq!(s.format, BodyFormat::Ecs);
    assert!(
        !format!("{s:?}").contains("0000-1111"),
        "secrets never print"
    );
    let RouteKind::Syslog(l) = &c.routes[1].kind else {
        panic!()
    };
    assert_eq!(
        (l.transport, l.port, l.facility),
        (SyslogTransport::Udp, 5514, 19)
    );
    assert_eq!(l.sd_id, "lookalike@32473");
    let RouteKind::Nats(n) = &c.routes[2].kind else {
        panic!()
    };
    assert_eq!(n.stream.as_deref(), Some("LOOKALIKE"));
    assert_eq!(n.duplicate_window, Duration::from_secs(3600));
    let RouteKind::Webhook(w) = &c.routes[3].kind else {
        panic!()
    };
    assert_eq!((w.format, w.signing), (BodyFormat::Ecs, Signing::Standard));

    let bad = [
        (
            "[[route]]\nname = \"a\"\ntype = \"splunk\"\nurl = \"https://x\"\n",
            "c.toml:1:",
            "token_env",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"syslog\"\nurl = \"syslog://x\"\n",
            "c.toml:4:",
            "tcp://",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"syslog\"\nurl = \"tcp://x\"\nfacility = \"local9\"\n",
            "c.toml:5:",
            "local0",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"nats\"\nurl = \"http://x\"\nsubject = \"a\"\n",
            "c.toml:4:",
            "nats://",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"nats\"\nurl = \"nats://x\"\nsubject = \"a.>\"\n",
            "c.toml:5:",
            "wildcards",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"nats\"\nurl = \"nats://x\"\nsubject = \"a\"\nstream = \"a.b\"\n",
            "c.toml:6:",
            "stream name",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"webhook\"\nurl = \"https://x\"\nformat = \"cef\"\n",
            "c.toml:5:",
            "ecs",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"webhook\"\nurl = \"https://x\"\nsigning = \"pgp\"\n",
            "c.toml:5:",
            "standard",
        ),
    ];
    for (text, location, needle) in bad {
        let err = Config::parse("c.toml", text, dir.path())
            .and_then(crate::config::Parsed::read_secrets)
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
fn routes_and_alerts_parse_and_secrets_resolve() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
    let text = r#"
[alerts]
routes = ["mail"]
min_score = 70
retry_initial = "1s"

[[route]]
name = "mail"
type = "email"
smtp = "smtp+starttls://mail.example.org"
username = "lookalike"
password_file = "pw"
from = "lookalike@example.org"
to = ["soc@example.org"]
digest_minutes = 15

[[route]]
name = "hooks"
type = "webhook"
url = "https://hooks.example.org/x"
min_score = 80
brands = ["PayPal"]
techniques = ["homoglyph"]

[[route]]
name = "script"
type = "command"
argv = ["/usr/local/bin/handle", "--json"]
timeout = "5s"
"#;
    let c = Config::parse("c.toml", text, dir.path())
        .and_then(crate::config::Parsed::read_secrets)
        .unwrap();
    assert_eq!(c.alerts.routes, vec!["mail"]);
    assert_eq!(c.alerts.min_score, 70);
    assert_eq!(c.alerts.retry_initial, Duration::from_secs(1));
    let RouteKind::Email(mail) = &c.routes[0].kind else {
        panic!()
    };
    assert_eq!(mail.password.as_ref().unwrap().expose(), "s3cret");
    assert!(
        !format!("{mail:?}").contains("s3cret"),
        "secrets never print"
    );
    assert_eq!(mail.port, 587);
    assert_eq!(mail.digest_minutes, 15);
    assert_eq!(c.routes[1].filter.techniques, vec![Technique::Homoglyph]);
    assert_eq!(c.routes[1].kind.type_name(), "webhook");
    let RouteKind::Command(cmd) = &c.routes[2].kind else {
        panic!()
    };
    assert_eq!(cmd.timeout, Duration::from_secs(5));
}

#[test]
fn route_errors_name_the_line() {
    let cases = [
        (
            "[[route]]\nname = \"a\"\ntype = \"pager\"\n",
            "c.toml:3:",
            "unknown route type",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"email\"\nsmtp = \"smtp://x\"\nfrom = \"a@b\"\n",
            "c.toml:1:",
            "needs `to`",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"webhook\"\nurl = \"https://x\"\nsecret_env = \"LOOKALIKE_TEST_UNSET_VAR\"\n",
            "c.toml:5:",
            "is not set",
        ),
        (
            "[alerts]\nroutes = [\"nope\"]\n",
            "c.toml:1:",
            "no [[route]]",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"webhook\"\nurl = \"https://x\"\n[[route]]\nname = \"a\"\ntype = \"webhook\"\nurl = \"https://y\"\n",
            "c.toml:6:",
            "twice",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"webhook\"\nurl = \"https://x\"\ntechniques = [\"magic\"]\n",
            "c.toml:5:",
            "unknown technique",
        ),
        // Each type takes its own fields: another type's is an error at its line.
        (
            "[[route]]\nname = \"a\"\ntype = \"webhook\"\nurl = \"https://x\"\nsmtp = \"smtp://x\"\n",
            "c.toml:5:",
            "a route of type \"webhook\": unknown field `smtp`, expected one of",
        ),
        (
            "[[route]]\nname = \"a\"\ntype = \"slack\"\nurl = \"https://x\"\nsecret_env = \"S\"\n",
            "c.toml:5:",
            "a route of type \"slack\": unknown field `secret_env`",
        ),
        (
            "[[route]]\nname = \"a\"\nurl = \"https://x\"\n",
            "c.toml:1:",
            "a [[route]] needs `type`",
        ),
    ];
    for (text, location, needle) in cases {
        let err = Config::parse("c.toml", text, Path::new(""))
            .and_then(crate::config::Parsed::read_secrets)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("config {location}")),
            "{text:?}: {err}"
        );
        assert!(err.contains(needle), "{text:?}: {err}");
    }
}
