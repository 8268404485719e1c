//! Blocklist exports loaded by the real programs they are for.
//!
//! - The RPZ zone in Unbound, run on 127.0.0.1: a listed domain (and any name below it) is
//!   answered NXDOMAIN although local data would resolve it, an unlisted name resolves.
//! - The `unbound` local-zone list, the same way, after `unbound-checkconf`.
//! - The Postfix access map compiled by `postmap` and queried.
//! - The zone checked by BIND's `named-checkzone`, Knot's `kzonecheck` and PowerDNS's
//!   `zone2sql` where they are installed.
//!
//! Each test prints a message and passes when its program is absent. On Debian:
//! `apt-get install -y unbound postfix bind9-utils knot-dnssecutils pdns-server`.

use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lookalike::export::{self, Entry, Export, Format, Policy, TriageStatus, ZoneOptions};

const BLOCKED: &str = "paypa1-login.com";
const BLOCKED_IDN: &str = "xn--80ak6aa92e.com";
/// A finding under the score threshold: not exported, so it must still resolve.
const UNLISTED: &str = "metal-shop.com";
const SAFE: &str = "safe.example";

fn entry(domain: &str, brand: &str, score: u8, status: TriageStatus) -> Entry {
    Entry {
        domain: domain.into(),
        brand: brand.into(),
        score,
        status,
        first_seen: "2026-11-28T06:41:07Z".into(),
        techniques: vec!["homoglyph".into()],
    }
}

/// Names as a certificate could carry them: none may reach a file.
const HOSTILE: &[&str] = &[
    "evil.com\nsafe.example",
    "evil.com;x",
    "$ORIGIN evil.",
    "evil\".com",
    "#evil.com",
    "*.evil.com",
    "10.0.0.0.8.rpz-ip",
];

fn selected() -> Vec<Entry> {
    let mut all = vec![
        entry(BLOCKED, "PayPal", 80, TriageStatus::New),
        entry(BLOCKED_IDN, "Apple", 90, TriageStatus::Confirmed),
        entry(UNLISTED, "Meta", 30, TriageStatus::New),
        entry("fp-paypal.com", "PayPal", 100, TriageStatus::FalsePositive),
    ];
    all.extend(
        HOSTILE
            .iter()
            .map(|d| entry(d, "PayPal", 100, TriageStatus::Confirmed)),
    );
    export::select(all, &Policy::default())
}

fn rendered(format: Format) -> Export {
    let zone = ZoneOptions {
        serial: export::next_serial(None, export::content_hash(&selected()), 1_764_312_000),
        ..ZoneOptions::default()
    };
    let export = export::render(format, &selected(), &zone);
    assert_eq!(export.count, 2, "{}", export.body);
    assert_eq!(export.skipped, HOSTILE.len());
    for line in export.body.lines() {
        assert!(!line.contains("evil") && !line.contains("rpz-ip"), "{line}");
    }
    export
}

/// A program on PATH or in the usual sbin folders (Debian puts `unbound` and `postmap` in
/// /usr/sbin, which is not on every user's PATH).
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/local/sbin",
                "/usr/sbin",
                "/sbin",
                "/usr/local/bin",
                "/usr/bin",
            ]
            .map(PathBuf::from),
        )
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn tool_or_skip(name: &str, package: &str, test: &str) -> Option<PathBuf> {
    let found = find_tool(name);
    if found.is_none() {
        eprintln!("skipping {test}: `{name}` not found (Debian: apt-get install {package})");
    }
    found
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("tool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A UDP port nobody is using right now: bind port 0, note the port, let it go.
fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket.local_addr().unwrap().port()
}

/// A running server, killed when dropped.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the server answers a query for `probe` on `port`.
    fn wait_ready(&mut self, port: u16, probe: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("server exited ({status}):\n{}", self.log());
            }
            if query(port, probe, TYPE_A).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server did not answer:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn start_unbound(unbound: &Path, conf: &Path, dir: &Path) -> Server {
    let log = dir.join("unbound.log");
    let child = Command::new(unbound)
        .arg("-d")
        .arg("-c")
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.join("unbound.stderr")).unwrap())
        .spawn()
        .expect("unbound starts");
    Server { child, log }
}

/// Writes the config of a throw-away Unbound on 127.0.0.1:`port` (no daemon, no syslog, no
/// privilege drop or chroot, everything in `dir`) followed by `extra`, and returns its path.
///
/// Without internet, names must resolve from local data. `SAFE` is local data. The listed
/// names and `UNLISTED` are authoritative zones used *upstream* (`for-upstream: yes`,
/// `for-downstream: no`): the iterator resolves them there as if from the internet, after
/// policy is applied. (Unbound answers `local-data` before it applies RPZ, so local data
/// cannot stand for a name the RPZ must override.)
fn unbound_config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let d = dir.display();
    let mut conf = format!(
        r#"server:
    interface: 127.0.0.1
    port: {port}
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: no
    do-daemonize: no
    use-syslog: no
    logfile: "{d}/unbound.log"
    log-queries: yes
    verbosity: 1
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    num-threads: 1
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    module-config: "respip validator iterator"
    local-zone: "{SAFE}." static
    local-data: "{SAFE}. A 192.0.2.1"
"#
    );
    for (i, (zone, last_octet)) in [(BLOCKED, 2), (BLOCKED_IDN, 5), (UNLISTED, 4)]
        .into_iter()
        .enumerate()
    {
        let file = dir.join(format!("upstream{i}.zone"));
        std::fs::write(
            &file,
            format!(
                "$TTL 60\n@ IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 604800 60\n\
                 @ IN NS ns.invalid.\n@ IN A 192.0.2.{last_octet}\n* IN A 192.0.2.{last_octet}\n"
            ),
        )
        .unwrap();
        conf += &format!(
            "auth-zone:\n    name: \"{zone}.\"\n    zonefile: \"{}\"\n    \
             for-downstream: no\n    for-upstream: yes\n    fallback-enabled: no\n",
            file.display()
        );
    }
    conf += extra;
    let path = dir.join("unbound.conf");
    std::fs::write(&path, &conf).unwrap();
    if let Some(checkconf) = find_tool("unbound-checkconf") {
        let (ok, out) = run(Command::new(checkconf).arg(&path));
        assert!(ok, "unbound-checkconf:\n{out}\n{conf}");
    }
    path
}

/// Without a blocklist, every test name resolves: what the blocklist must change.
fn unbound_control_run(unbound: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_udp_port();
    let conf = unbound_config(dir.path(), port, "");
    let mut server = start_unbound(unbound, &conf, dir.path());
    server.wait_ready(port, SAFE);
    assert_resolves(&server, port, BLOCKED, Ipv4Addr::new(192, 0, 2, 2));
    assert_resolves(
        &server,
        port,
        &format!("www.{BLOCKED}"),
        Ipv4Addr::new(192, 0, 2, 2),
    );
    assert_resolves(&server, port, BLOCKED_IDN, Ipv4Addr::new(192, 0, 2, 5));
    assert_resolves(&server, port, UNLISTED, Ipv4Addr::new(192, 0, 2, 4));
    assert_resolves(&server, port, SAFE, Ipv4Addr::new(192, 0, 2, 1));
}

const TYPE_A: u16 = 1;
const NOERROR: u8 = 0;
const NXDOMAIN: u8 = 3;

/// The parts of a DNS answer the tests look at.
#[derive(Debug)]
struct Answer {
    rcode: u8,
    /// A records in the answer section.
    a: Vec<Ipv4Addr>,
    answers: u16,
}

/// One query over UDP: a minimal hand-written DNS client (RFC 1035).
fn query(port: u16, name: &str, qtype: u16) -> std::io::Result<Answer> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket.set_read_timeout(Some(Duration::from_millis(500)))?;
    let id: u16 = 0x4c6b ^ (std::process::id() as u16);
    let mut packet = Vec::new();
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    packet.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QD=1, AN=NS=AR=0
    for label in name.split('.') {
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&qtype.to_be_bytes());
    packet.extend_from_slice(&1u16.to_be_bytes()); // IN
    socket.send_to(&packet, (Ipv4Addr::LOCALHOST, port))?;
    let mut buf = [0u8; 4096];
    loop {
        let (n, _) = socket.recv_from(&mut buf)?;
        let msg = &buf[..n];
        if n < 12 || msg[0..2] != id.to_be_bytes() || msg[2] & 0x80 == 0 {
            continue;
        }
        return parse_answer(msg).ok_or_else(|| std::io::Error::other("malformed DNS answer"));
    }
}

fn parse_answer(msg: &[u8]) -> Option<Answer> {
    let u16_at =
        |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?])) };
    let rcode = msg[3] & 0x0f;
    let qd = u16_at(4)?;
    let an = u16_at(6)?;
    let mut pos = 12;
    for _ in 0..qd {
        pos = skip_name(msg, pos)? + 4;
    }
    let mut a = Vec::new();
    for _ in 0..an {
        pos = skip_name(msg, pos)?;
        let rtype = u16_at(pos)?;
        let rdlen = usize::from(u16_at(pos + 8)?);
        let rdata = msg.get(pos + 10..pos + 10 + rdlen)?;
        if rtype == TYPE_A && rdlen == 4 {
            a.push(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]));
        }
        pos += 10 + rdlen;
    }
    Some(Answer {
        rcode,
        a,
        answers: an,
    })
}

/// The offset after the (possibly compressed) name at `pos`.
fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        match len {
            0 => return Some(pos + 1),
            l if l & 0xc0 == 0xc0 => return Some(pos + 2),
            l => pos += 1 + usize::from(l),
        }
    }
}

fn assert_nxdomain(server: &Server, port: u16, name: &str) {
    let answer = query(port, name, TYPE_A).unwrap();
    assert_eq!(
        answer.rcode,
        NXDOMAIN,
        "{name}: {answer:?}\n{}",
        server.log()
    );
    assert!(answer.a.is_empty(), "{name}: {answer:?}");
}

fn assert_resolves(server: &Server, port: u16, name: &str, addr: Ipv4Addr) {
    let answer = query(port, name, TYPE_A).unwrap();
    assert_eq!(
        answer.rcode,
        NOERROR,
        "{name}: {answer:?}\n{}",
        server.log()
    );
    assert_eq!(answer.a, [addr], "{name}: {answer:?}");
    assert!(answer.answers >= 1);
}

#[test]
fn unbound_answers_nxdomain_for_names_in_the_rpz() {
    let test = "unbound_answers_nxdomain_for_names_in_the_rpz";
    let Some(unbound) = tool_or_skip("unbound", "unbound", test) else {
        return;
    };
    unbound_control_run(&unbound);

    let dir = tempfile::tempdir().unwrap();
    let zone_path = dir.path().join("lookalike.rpz");
    std::fs::write(&zone_path, rendered(Format::Rpz).body).unwrap();
    let port = free_udp_port();
    let rpz = format!(
        "rpz:\n    name: \"lookalike.rpz.\"\n    zonefile: \"{}\"\n    rpz-log: yes\n",
        zone_path.display()
    );
    let conf = unbound_config(dir.path(), port, &rpz);
    let mut server = start_unbound(&unbound, &conf, dir.path());
    server.wait_ready(port, SAFE);
    assert_nxdomain(&server, port, BLOCKED);
    assert_nxdomain(&server, port, &format!("www.{BLOCKED}"));
    assert_nxdomain(&server, port, &format!("a.b.c.{BLOCKED}"));
    assert_nxdomain(&server, port, BLOCKED_IDN);
    assert_resolves(&server, port, SAFE, Ipv4Addr::new(192, 0, 2, 1));
    assert_resolves(&server, port, UNLISTED, Ipv4Addr::new(192, 0, 2, 4));
    assert_resolves(
        &server,
        port,
        &format!("www.{UNLISTED}"),
        Ipv4Addr::new(192, 0, 2, 4),
    );
    let log = server.log();
    assert!(
        log.contains(&format!("rpz: applied {BLOCKED}. rpz-nxdomain")),
        "{log}"
    );
    assert!(
        log.contains(&format!("rpz: applied *.{BLOCKED}. rpz-nxdomain")),
        "{log}"
    );
}

#[test]
fn unbound_loads_the_local_zone_list() {
    let test = "unbound_loads_the_local_zone_list";
    let Some(unbound) = tool_or_skip("unbound", "unbound", test) else {
        return;
    };
    unbound_control_run(&unbound);

    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("lookalike.conf");
    std::fs::write(&list, rendered(Format::Unbound).body).unwrap();
    let port = free_udp_port();
    let include = format!("include: \"{}\"\n", list.display());
    let conf = unbound_config(dir.path(), port, &include);
    let mut server = start_unbound(&unbound, &conf, dir.path());
    server.wait_ready(port, SAFE);
    assert_nxdomain(&server, port, BLOCKED);
    assert_nxdomain(&server, port, &format!("www.{BLOCKED}"));
    assert_nxdomain(&server, port, BLOCKED_IDN);
    assert_resolves(&server, port, SAFE, Ipv4Addr::new(192, 0, 2, 1));
    assert_resolves(&server, port, UNLISTED, Ipv4Addr::new(192, 0, 2, 4));
}

#[test]
fn postmap_compiles_and_answers_the_postfix_map() {
    let test = "postmap_compiles_and_answers_the_postfix_map";
    let Some(postmap) = tool_or_skip("postmap", "postfix", test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // An empty main.cf of our own: postmap then needs nothing from /etc/postfix.
    std::fs::write(dir.path().join("main.cf"), "").unwrap();
    let map = dir.path().join("lookalike_access");
    std::fs::write(&map, rendered(Format::Postfix).body).unwrap();
    let table = format!("hash:{}", map.display());
    let postmap = |args: &[&str]| {
        run(Command::new(&postmap)
            .arg("-c")
            .arg(dir.path())
            .args(args)
            .arg(&table))
    };

    let (ok, out) = postmap(&[]);
    assert!(ok, "postmap:\n{out}");
    assert!(!out.contains("warning"), "postmap:\n{out}");
    for key in [BLOCKED.to_string(), format!(".{BLOCKED}")] {
        let (ok, out) = postmap(&["-q", &key]);
        assert!(ok, "postmap -q {key}:\n{out}");
        assert_eq!(
            out.trim_end(),
            "REJECT lookalike: imitates PayPal (score 80)"
        );
    }
    let (ok, out) = postmap(&["-q", BLOCKED_IDN]);
    assert!(ok, "postmap -q {BLOCKED_IDN}:\n{out}");
    assert_eq!(
        out.trim_end(),
        "REJECT lookalike: imitates Apple (score 90)"
    );
    let (ok, out) = postmap(&["-q", UNLISTED]);
    assert!(!ok, "{UNLISTED} is not listed: {out}");
}

#[test]
fn dns_servers_accept_the_rpz_zone_file() {
    let zone = rendered(Format::Rpz).body;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lookalike.rpz");
    std::fs::write(&path, &zone).unwrap();
    let test = "dns_servers_accept_the_rpz_zone_file";
    let mut checked = 0;
    if let Some(tool) = tool_or_skip("named-checkzone", "bind9-utils", test) {
        let (ok, out) = run(Command::new(tool).arg("lookalike.rpz").arg(&path));
        assert!(ok, "named-checkzone:\n{out}\n{zone}");
        assert!(out.contains("loaded serial 1764312000"), "{out}");
        checked += 1;
    }
    if let Some(tool) = tool_or_skip("kzonecheck", "knot-dnssecutils", test) {
        let (ok, out) = run(Command::new(tool).arg("-o").arg("lookalike.rpz").arg(&path));
        assert!(ok, "kzonecheck:\n{out}\n{zone}");
        checked += 1;
    }
    if let Some(tool) = tool_or_skip("zone2sql", "pdns-server", test) {
        let named_conf = dir.path().join("named.conf");
        std::fs::write(
            &named_conf,
            format!(
                "zone \"lookalike.rpz\" {{ type master; file \"{}\"; }};\n",
                path.display()
            ),
        )
        .unwrap();
        let (ok, out) = run(Command::new(tool)
            .arg(format!("--named-conf={}", named_conf.display()))
            .arg("--gsqlite"));
        assert!(ok, "zone2sql:\n{out}\n{zone}");
        assert!(out.contains("containing 6 records"), "zone2sql:\n{out}");
        assert!(
            out.contains("'*.paypa1-login.com.lookalike.rpz', 'CNAME', '.'"),
            "zone2sql:\n{out}"
        );
        checked += 1;
    }
    eprintln!("{test}: {checked} of 3 zone checkers ran");
}
