//! Real servers for the enrichment tests, all on loopback: Unbound serving local zones, an
//! RDAP server (axum) answering RFC 9083 JSON, 404 and 429, and web sites over HTTPS (a
//! certificate from an rcgen CA) and HTTP on 127.0.0.N ports 443 and 80.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A program on PATH or in the usual sbin folders.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Unbound, or `None` after a message; with `LOOKALIKE_REQUIRE_UNBOUND` set, a missing
/// Unbound fails the test instead.
pub fn unbound_or_skip(test: &str) -> Option<PathBuf> {
    let found = find_tool("unbound");
    if found.is_none() {
        assert!(
            std::env::var_os("LOOKALIKE_REQUIRE_UNBOUND").is_none(),
            "{test}: `unbound` not found and LOOKALIKE_REQUIRE_UNBOUND is set"
        );
        eprintln!("skipping {test}: `unbound` not found (Debian: apt-get install unbound)");
    }
    found
}

/// A throw-away Unbound on 127.0.0.1:`port` answering `local-data` for the zone `test.`
/// (everything else under it is NXDOMAIN).
pub struct Unbound {
    pub port: u16,
    program: PathBuf,
    dir: PathBuf,
    child: Option<Child>,
}

impl Drop for Unbound {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Unbound {
    /// `data` holds unbound.conf `server:` lines (`local-data: "..."`, `local-zone: ...`).
    ///
    /// Unbound binds its port itself: the port is picked free (for UDP and TCP) and let go
    /// first, so another socket can take it in between. Then Unbound exits at once, and it is
    /// started again on another port.
    pub fn start(program: &Path, dir: &Path, data: &str) -> Unbound {
        let mut u = Unbound {
            port: 0,
            program: program.to_owned(),
            dir: dir.to_owned(),
            child: None,
        };
        for attempt in 1..=5 {
            u.port = free_tcp_and_udp_port();
            match u.run(data) {
                Ok(()) => return u,
                Err(error) if attempt < 5 => {
                    eprintln!("unbound on port {}: {error}; trying another port", u.port)
                }
                Err(error) => panic!("{error}"),
            }
        }
        unreachable!()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops and starts again with new zone data, on the same port.
    pub fn restart(&mut self, data: &str) {
        self.stop();
        self.run(data).unwrap_or_else(|error| panic!("{error}"));
    }

    fn run(&mut self, data: &str) -> Result<(), String> {
        let d = self.dir.display();
        let conf = format!(
            r#"server:
    interface: 127.0.0.1
    port: {port}
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    do-daemonize: no
    use-syslog: no
    logfile: "{d}/unbound.log"
    verbosity: 1
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    num-threads: 1
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    local-zone: "test." static
{data}
"#,
            port = self.port
        );
        let path = self.dir.join("unbound.conf");
        std::fs::write(&path, &conf).unwrap();
        if let Some(check) = find_tool("unbound-checkconf") {
            let out = Command::new(check).arg(&path).output().unwrap();
            assert!(
                out.status.success(),
                "unbound-checkconf: {}{}\n{conf}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let child = Command::new(&self.program)
            .arg("-d")
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("unbound.stderr")).unwrap())
            .spawn()
            .expect("unbound starts");
        self.child = Some(child);
        let logs = |dir: &Path| {
            std::fs::read_to_string(dir.join("unbound.log")).unwrap_or_default()
                + &std::fs::read_to_string(dir.join("unbound.stderr")).unwrap_or_default()
        };
        // Ready when it answers (any answer) over UDP.
        let deadline = Instant::now() + Duration::from_secs(20);
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let query = [
            0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, b't', b'e', b's', b't', 0, 0, 1, 0, 1,
        ];
        loop {
            let _ = socket.send_to(&query, (Ipv4Addr::LOCALHOST, self.port));
            let mut buf = [0u8; 512];
            if socket.recv_from(&mut buf).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Err(format!("unbound exited ({status}): {}", logs(&self.dir)));
            }
            if Instant::now() >= deadline {
                return Err(format!("unbound did not answer: {}", logs(&self.dir)));
            }
        }
    }
}

/// A port of 127.0.0.1 free for both TCP and UDP right now (Unbound binds both).
fn free_tcp_and_udp_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// What the RDAP server answers for a domain.
#[derive(Clone)]
pub enum RdapAnswer {
    /// A registered domain: (created RFC 3339, registrar, abuse e-mail).
    Registered(String, String, String),
    /// 429 with this Retry-After.
    Throttle(u64),
    /// 200 with a body that is not a domain object.
    Raw(String),
}

type Answers = Arc<Mutex<HashMap<String, RdapAnswer>>>;

/// An RDAP server on 127.0.0.1: `GET /rdap/domain/{name}`.
pub struct RdapServer {
    pub port: u16,
    pub answers: Answers,
    pub requests: Arc<AtomicUsize>,
}

/// An RFC 9083 domain object shaped like a gTLD registry's answer.
pub fn rdap_domain(name: &str, created: &str, registrar: &str, abuse: &str) -> serde_json::Value {
    serde_json::json!({
        "objectClassName": "domain",
        "handle": format!("{}-TEST", name.to_ascii_uppercase()),
        "ldhName": name.to_ascii_uppercase(),
        "status": ["client transfer prohibited", "server hold"],
        "entities": [{
            "objectClassName": "entity",
            "handle": "9999",
            "roles": ["registrar"],
            "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
            "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", registrar]]],
            "entities": [{
                "objectClassName": "entity",
                "roles": ["abuse"],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", ""],
                    ["tel", {"type": "voice"}, "uri", "tel:+1.5555550100"],
                    ["email", {}, "text", abuse]]]
            }]
        }],
        "events": [
            {"eventAction": "registration", "eventDate": created},
            {"eventAction": "expiration", "eventDate": "2099-01-01T00:00:00Z"},
            {"eventAction": "last update of RDAP database", "eventDate": created}
        ],
        "secureDNS": {"delegationSigned": false},
        "nameservers": [{"objectClassName": "nameserver", "ldhName": "NS1.REGISTRAR-SERVERS.TEST"}],
        "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_1"],
        "notices": [{"title": "Terms of Use", "description": ["Test data."]}]
    })
}

impl RdapServer {
    pub async fn start() -> RdapServer {
        use axum::extract::{Path as AxPath, State};
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::IntoResponse;
        let answers: Answers = Arc::default();
        let requests: Arc<AtomicUsize> = Arc::default();
        let state = (answers.clone(), requests.clone());
        let app = axum::Router::new()
            .route(
                "/rdap/domain/{name}",
                axum::routing::get(
                    |State((answers, requests)): State<(Answers, Arc<AtomicUsize>)>,
                     AxPath(name): AxPath<String>| async move {
                        requests.fetch_add(1, Ordering::Relaxed);
                        let answer = answers.lock().unwrap().get(&name.to_lowercase()).cloned();
                        let json = |v: String| {
                            let mut h = HeaderMap::new();
                            h.insert(header::CONTENT_TYPE, "application/rdap+json".parse().unwrap());
                            (StatusCode::OK, h, v).into_response()
                        };
                        match answer {
                            Some(RdapAnswer::Registered(c, r, a)) => {
                                json(rdap_domain(&name, &c, &r, &a).to_string())
                            }
                            Some(RdapAnswer::Raw(body)) => json(body),
                            Some(RdapAnswer::Throttle(secs)) => {
                                let mut h = HeaderMap::new();
                                h.insert(header::RETRY_AFTER, secs.to_string().parse().unwrap());
                                (StatusCode::TOO_MANY_REQUESTS, h, "slow down").into_response()
                            }
                            None => (
                                StatusCode::NOT_FOUND,
                                r#"{"errorCode":404,"title":"Not Found","description":["The domain is not registered."]}"#,
                            )
                                .into_response(),
                        }
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        RdapServer {
            port,
            answers,
            requests,
        }
    }

    pub fn set(&self, domain: &str, answer: RdapAnswer) {
        self.answers
            .lock()
            .unwrap()
            .insert(domain.to_owned(), answer);
    }

    /// A bootstrap file (RFC 9224) sending `.test` to this server.
    pub fn bootstrap_file(&self, dir: &Path) -> PathBuf {
        let path = dir.join("dns.json");
        std::fs::write(
            &path,
            serde_json::json!({
                "description": "RDAP bootstrap file for Domain Name System registrations",
                "publication": "2026-11-01T00:00:00Z",
                "version": "1.0",
                "services": [[["test"], [format!("http://127.0.0.1:{}/rdap/", self.port)]]]
            })
            .to_string(),
        )
        .unwrap();
        path
    }
}

/// One answer of a test site.
#[derive(Clone)]
pub enum Page {
    Html(String),
    Redirect(String),
    /// `n` bytes of filler HTML, streamed.
    Huge(usize),
}

pub type Pages = Arc<Mutex<HashMap<(String, String), Page>>>;

/// Web sites on `ip` ports 443 (TLS, a certificate for `*.test` from a test CA) and 80.
pub struct Site {
    pub pages: Pages,
}

impl Site {
    /// HTTPS on 443 and HTTP on 80. `None` (after a message) when the ports cannot be bound
    /// here (not root).
    pub async fn start(ip: Ipv4Addr) -> Option<Site> {
        Site::listen(ip, true).await
    }

    /// HTTP on 80 only: nothing listens on 443, as on many parked and phishing hosts.
    pub async fn start_http_only(ip: Ipv4Addr) -> Option<Site> {
        Site::listen(ip, false).await
    }

    async fn listen(ip: Ipv4Addr, with_https: bool) -> Option<Site> {
        let mut listeners = Vec::new();
        if with_https {
            match tokio::net::TcpListener::bind((ip, 443)).await {
                Ok(l) => listeners.push((l, Some(tls_acceptor()))),
                Err(e) => {
                    eprintln!(
                        "skipping the web part: cannot listen on {ip}:443 ({e}); run as root"
                    );
                    return None;
                }
            }
        }
        match tokio::net::TcpListener::bind((ip, 80)).await {
            Ok(l) => listeners.push((l, None)),
            Err(e) => {
                eprintln!("skipping the web part: cannot listen on {ip}:80 ({e}); run as root");
                return None;
            }
        }
        let pages: Pages = Arc::default();
        for (listener, tls) in listeners {
            let pages = pages.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        return;
                    };
                    let (pages, tls) = (pages.clone(), tls.clone());
                    tokio::spawn(async move {
                        match tls {
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(tcp).await {
                                    serve(stream, &pages).await;
                                }
                            }
                            None => serve(tcp, &pages).await,
                        }
                    });
                }
            });
        }
        Some(Site { pages })
    }

    pub fn page(&self, host: &str, path: &str, page: Page) {
        self.pages
            .lock()
            .unwrap()
            .insert((host.to_owned(), path.to_owned()), page);
    }
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::OrganizationName, "Lookalike Test CA");
    ca.distinguished_name
        .push(DnType::CommonName, "lookalike enrichment test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["*.test".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::DnsName("test".try_into().unwrap()));
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// One HTTP/1.1 exchange: the page for (Host, path), then the connection closes.
async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut s: S, pages: &Pages) {
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&req);
    let path = text
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let host = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("host").then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let page = pages.lock().unwrap().get(&(host, path)).cloned();
    let _ = match page {
        Some(Page::Html(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes())
                .await
                .and(s.write_all(body.as_bytes()).await)
        }
        Some(Page::Redirect(to)) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            s.write_all(head.as_bytes()).await
        }
        Some(Page::Huge(n)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n<title>Huge</title>"
            );
            let mut r = s.write_all(head.as_bytes()).await;
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while r.is_ok() && sent < n {
                r = s.write_all(&chunk[..chunk.len().min(n - sent)]).await;
                sent += chunk.len();
            }
            r
        }
        None => {
            s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await
        }
    };
    let _ = s.shutdown().await;
}
