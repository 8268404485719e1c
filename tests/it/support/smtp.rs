//! A real SMTP server on 127.0.0.1 for tests: aiosmtpd (Python), started as a child process.
//!
//! The server saves every accepted message as a folder `msg-N` in a temporary directory, with
//! the MIME parts already decoded by Python's `email` package: `subject.txt`, `text.txt`,
//! `html.txt`, the raw message (`raw.eml`) and `meta.json` (envelope sender and recipients,
//! whether the session was encrypted, who authenticated, every header).
//!
//! Python is looked up as `$LOOKALIKE_TEST_PYTHON`, then `python3`, then `/usr/bin/python3`:
//! the first that can `import aiosmtpd` is used (`pip install aiosmtpd`, or Debian's
//! `python3-aiosmtpd`). Without one, [`SmtpServer::start`] returns `None` and the tests skip,
//! unless `LOOKALIKE_REQUIRE_AIOSMTPD=1` is set (CI): then they fail.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, date_time_ymd,
};

const SERVER_PY: &str = r#"
import asyncio, email, json, os, ssl, sys, threading
from email import policy
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

cfg = json.loads(sys.argv[1])
out = cfg["dir"]
count = 0

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in cfg["reject"]:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        tmp = os.path.join(out, ".tmp-%d" % count)
        os.makedirs(tmp)
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=policy.default)
        def write(name, data):
            mode = "wb" if isinstance(data, bytes) else "w"
            with open(os.path.join(tmp, name), mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
                f.write(data)
        write("raw.eml", raw)
        write("subject.txt", str(msg["subject"]))
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        write("text.txt", text.get_content() if text is not None else "")
        write("html.txt", html.get_content() if html is not None else "")
        login = session.auth_data if session.authenticated else None
        write("meta.json", json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "login": login.decode() if isinstance(login, bytes) else login,
            "content_type": msg.get_content_type(),
            "parts": [p.get_content_type() for p in msg.iter_parts()] if msg.is_multipart() else [],
            "headers": [[k, str(v)] for k, v in msg.items()],
        }))
        os.rename(tmp, os.path.join(out, "msg-%d" % count))
        return "250 2.0.0 accepted"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login.decode() == cfg["user"]
          and auth_data.password.decode() == cfg["password"])
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

async def main():
    mode = cfg["mode"]
    ctx = None
    if mode in ("starttls", "tls"):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cfg["cert"], cfg["key"])
    kw = {"hostname": "mx.test"}
    if cfg["user"] is not None:
        kw["authenticator"] = authenticator
    if mode == "starttls":
        kw.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
    else:
        # Implicit TLS: the whole session is encrypted, aiosmtpd does not know it.
        kw.update(auth_require_tls=False)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Handler(), **kw), host="127.0.0.1", port=0,
        ssl=ctx if mode == "tls" else None)
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    # The test holds our stdin: when it goes away (even killed), so do we.
    def watch():
        sys.stdin.read()
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
    await server.serve_forever()

asyncio.run(main())
"#;

/// Which kind of SMTP service to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    /// STARTTLS offered and required before MAIL and AUTH.
    StartTls,
    /// Implicit TLS (smtps).
    Tls,
}

/// A test CA and a server certificate it signed for `localhost` and `127.0.0.1`.
pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Pki {
    pub fn new() -> Pki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::default();
        ca.distinguished_name
            .push(DnType::CommonName, "lookalike SMTP test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.not_before = date_time_ymd(2024, 1, 1);
        ca.not_after = date_time_ymd(2045, 1, 1);
        let ca_pem = ca.self_signed(&ca_key).expect("CA certificate").pem();
        let issuer = Issuer::new(ca, ca_key);

        let key = KeyPair::generate().expect("server key");
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).expect("SAN");
        leaf.subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.not_before = date_time_ymd(2024, 1, 1);
        leaf.not_after = date_time_ymd(2045, 1, 1);
        let cert_pem = leaf
            .signed_by(&key, &issuer)
            .expect("server certificate")
            .pem();
        Pki {
            ca_pem,
            cert_pem,
            key_pem: key.serialize_pem(),
        }
    }
}

pub struct Options<'a> {
    pub mode: Mode,
    /// Needed for `StartTls` and `Tls`.
    pub pki: Option<&'a Pki>,
    /// The one account AUTH accepts (PLAIN and LOGIN).
    pub user: Option<(&'a str, &'a str)>,
    /// Recipients refused with `550`.
    pub reject: Vec<&'a str>,
}

/// One message as the server received it.
#[derive(Debug)]
pub struct Received {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
    pub meta: serde_json::Value,
}

impl Received {
    pub fn rcpt_tos(&self) -> Vec<String> {
        strings(&self.meta["rcpt_tos"])
    }

    pub fn mail_from(&self) -> String {
        self.meta["mail_from"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn tls(&self) -> bool {
        self.meta["tls"].as_bool().unwrap_or(false)
    }

    pub fn login(&self) -> Option<String> {
        self.meta["login"].as_str().map(str::to_owned)
    }

    /// The values of every header called `name` (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Vec<String> {
        self.meta["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .map(|h| h[1].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub fn header_names(&self) -> Vec<String> {
        self.meta["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h[0].as_str().map(str::to_owned))
            .collect()
    }
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

pub struct SmtpServer {
    child: Child,
    /// Held so the server exits when this process does.
    _stdin: ChildStdin,
    pub port: u16,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

/// A Python with aiosmtpd, looked for once.
pub fn python() -> Option<&'static str> {
    static PYTHON: OnceLock<Option<String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let mut candidates: Vec<String> = Vec::new();
            if let Ok(p) = std::env::var("LOOKALIKE_TEST_PYTHON") {
                candidates.push(p);
            }
            candidates.extend(["python3".to_owned(), "/usr/bin/python3".to_owned()]);
            candidates.into_iter().find(|p| {
                Command::new(p)
                    .args(["-c", "import aiosmtpd.smtp"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
        })
        .as_deref()
}

impl SmtpServer {
    /// Starts a server, or returns `None` (after saying why) when no Python has aiosmtpd.
    pub fn start(opts: Options<'_>) -> Option<SmtpServer> {
        let Some(python) = python() else {
            if std::env::var("LOOKALIKE_REQUIRE_AIOSMTPD").is_ok_and(|v| v == "1") {
                panic!(
                    "LOOKALIKE_REQUIRE_AIOSMTPD=1 but no Python with aiosmtpd was found \
                     (tried $LOOKALIKE_TEST_PYTHON, python3, /usr/bin/python3)"
                );
            }
            eprintln!(
                "SKIPPED: no Python with aiosmtpd (tried $LOOKALIKE_TEST_PYTHON, python3, \
                 /usr/bin/python3). Install it with `pip install aiosmtpd` or \
                 `apt-get install python3-aiosmtpd` to run the SMTP tests."
            );
            return None;
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("mail");
        std::fs::create_dir(&dir).expect("mail dir");
        let script = tmp.path().join("smtpd.py");
        std::fs::write(&script, SERVER_PY).expect("write smtpd.py");
        let (cert, key) = match opts.pki {
            Some(pki) => {
                let cert = tmp.path().join("server.pem");
                let key = tmp.path().join("server.key");
                std::fs::write(&cert, &pki.cert_pem).expect("write cert");
                std::fs::write(&key, &pki.key_pem).expect("write key");
                (Some(cert), Some(key))
            }
            None => {
                assert_eq!(opts.mode, Mode::Plain, "TLS modes need a Pki");
                (None, None)
            }
        };
        let config = serde_json::json!({
            "dir": dir,
            "mode": match opts.mode {
                Mode::Plain => "plain",
                Mode::StartTls => "starttls",
                Mode::Tls => "tls",
            },
            "cert": cert,
            "key": key,
            "user": opts.user.map(|u| u.0),
            "password": opts.user.map(|u| u.1),
            "reject": opts.reject,
        });
        let stderr_path = tmp.path().join("stderr.log");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).expect("stderr log"))
            .spawn()
            .expect("start aiosmtpd");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        let Some(port) = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "aiosmtpd did not start: {line:?}\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        };
        Some(SmtpServer {
            child,
            _stdin: stdin,
            port,
            dir,
            _tmp: tmp,
        })
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        let mut dirs: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.dir)
            .expect("mail dir")
            .filter_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_str()?.strip_prefix("msg-")?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect();
        dirs.sort();
        dirs.into_iter().map(|(_, d)| read_message(&d)).collect()
    }

    /// What the server wrote to stderr (its log), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._tmp.path().join("stderr.log")).unwrap_or_default()
    }
}

fn read_message(dir: &Path) -> Received {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    Received {
        subject: read("subject.txt"),
        text: read("text.txt"),
        html: read("html.txt"),
        raw: String::from_utf8_lossy(&std::fs::read(dir.join("raw.eml")).expect("raw.eml"))
            .into_owned(),
        meta: serde_json::from_str(&read("meta.json")).expect("meta.json"),
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
