//! The `lookalike` command line: parse arguments, call into the library, map errors to exit
//! codes (0 ok, 1 error, 2 bad usage).

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use lookalike::access::Access;
use lookalike::config::Config;
use lookalike::hits;
use lookalike::matcher::score::DEFAULT_MIN_SCORE;
use lookalike::scan::{self, Format};
use lookalike::store::{DomainState, TriageStatus};
use lookalike::{Domain, Matcher, Technique, app, permute, watchlist};

/// Catch brand-impersonation domains: homoglyphs, typos, combosquats, level-squats, TLD swaps.
#[derive(Parser)]
#[command(name = "lookalike", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The service: follow every CT log, match, store, print new findings.
    Run {
        /// Service config (TOML). Without it: watchlists/ (or the bundled set), ./lookalike-data,
        /// every public CT log.
        #[arg(long, short = 'c')]
        config: Option<PathBuf>,
        /// Print each new finding as one JSON line on stdout.
        #[arg(long)]
        json: bool,
        /// How often to print the status line on stderr (at least 1s).
        #[arg(long, default_value = "30s", value_parser = status_interval)]
        status_interval: Duration,
    },
    /// Explain how each domain matches the watched brands.
    Check {
        /// Watchlist file or folder of *.toml (repeatable); default watchlists/ or the bundled set.
        #[arg(long, short = 'w')]
        watchlist: Vec<PathBuf>,
        /// One JSON finding per line instead of text.
        #[arg(long)]
        json: bool,
        /// Also look each matching domain up now (DNS, mail readiness, RDAP, web probe), as
        /// `[enrich]` in --config says (default: the system resolver, the bundled bootstrap).
        #[arg(long)]
        enrich: bool,
        /// Service config whose `[enrich]` section --enrich follows.
        #[arg(long, short = 'c', requires = "enrich")]
        config: Option<PathBuf>,
        /// Domain names to check.
        #[arg(required = true)]
        domains: Vec<String>,
    },
    /// Match every name in files (or stdin) and print the findings.
    Scan {
        #[arg(long, short = 'w')]
        watchlist: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Print only findings with at least this score (0-100).
        #[arg(long, default_value_t = DEFAULT_MIN_SCORE, value_parser = clap::value_parser!(u8).range(0..=100))]
        min_score: u8,
        /// Worker threads (default: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// List every unreadable line with its file and line number.
        #[arg(long, short = 'v')]
        verbose: bool,
        /// Files with one name per line; `-` or nothing reads stdin.
        files: Vec<String>,
    },
    /// Print lookalike candidates of a brand or domain, to pre-register or pre-block.
    Permute {
        #[arg(long, short = 'w')]
        watchlist: Vec<PathBuf>,
        /// Only these techniques (repeatable).
        #[arg(long)]
        technique: Vec<Technique>,
        /// A brand name from the watchlist, or a domain.
        target: String,
    },
    /// List findings from the store.
    Hits {
        #[arg(long, short = 'c')]
        config: Option<PathBuf>,
        #[arg(long)]
        brand: Option<String>,
        /// RFC 3339 time or date, or a duration back from now (24h, 7d); not before 1970.
        #[arg(long, value_parser = hits::parse_since)]
        since: Option<String>,
        #[arg(long)]
        status: Option<TriageStatus>,
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        min_score: Option<u8>,
        #[arg(long)]
        technique: Option<Technique>,
        /// Enrichment state: unregistered, registered, parked, live or mail-ready.
        #[arg(long)]
        state: Option<DomainState>,
        /// Only domains that can receive and send mail.
        #[arg(long)]
        mail_ready: bool,
        /// At most this many (newest first).
        #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        limit: usize,
        /// One JSON object per line (finding schema + first_seen, sources, status, triage).
        #[arg(long)]
        json: bool,
    },
    /// Record a decision about a finding: confirmed, false_positive, ignored, taken_down, new.
    Triage {
        #[arg(long, short = 'c')]
        config: Option<PathBuf>,
        /// The registrable domain (as `hits` shows it; Unicode or A-label).
        domain: String,
        #[arg(long)]
        status: TriageStatus,
        /// Only this brand's finding (default: every brand the domain matched).
        #[arg(long)]
        brand: Option<String>,
        /// Why (at most 4096 bytes).
        #[arg(long, value_parser = triage_note)]
        note: Option<String>,
    },
    /// Write a blocklist for mail and DNS filters, a STIX bundle or a MISP feed from the findings.
    Export {
        #[arg(long, short = 'c')]
        config: Option<PathBuf>,
        /// rpz, hosts, plain, adguard, unbound, dnsmasq, postfix, rspamd, csv, json, stix or misp.
        #[arg(long)]
        format: lookalike::export::Output,
        /// Write to this file (atomically) instead of stdout; for misp, the feed's folder.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Alert deliveries waiting or dead in the outbox.
    Outbox {
        #[arg(long, short = 'c', global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Watchlist files.
    Watchlist {
        #[command(subcommand)]
        command: WatchlistCommand,
    },
    /// The service config.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Every delivery: route, state, attempts, last error.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Put dead deliveries (all, or one by id) back in line; `run` sends them (stop it first:
    /// this needs the store).
    Retry { id: Option<u64> },
    /// Remove deliveries: one by id, or every dead one.
    Drop { id: Option<u64> },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a config file and the watchlists it names; print what `run` would do.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum WatchlistCommand {
    /// Check watchlist files and folders; print the brands they define.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// A duration like `30s` or `1m`, longer than zero.
fn positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be longer than zero".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// `--status-interval`: a status line more often than every second only floods the log.
fn status_interval(text: &str) -> Result<Duration, String> {
    let d = positive_duration(text)?;
    if d < Duration::from_secs(1) {
        return Err(format!("{text} is under the minimum of 1s"));
    }
    Ok(d)
}

/// `triage --note`: the store keeps notes up to [`lookalike::store::MAX_NOTE_BYTES`], the
/// API's limit too.
fn triage_note(text: &str) -> Result<String, String> {
    if text.len() > lookalike::store::MAX_NOTE_BYTES {
        return Err(format!(
            "{} bytes is over the limit of {} bytes",
            text.len(),
            lookalike::store::MAX_NOTE_BYTES
        ));
    }
    Ok(text.to_owned())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lookalike: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The names column of `hits`: the registrable domain `triage` takes, in Unicode with its
/// A-label when it is an IDN, then the name first seen when that is a longer one.
fn hit_names(h: &serde_json::Value) -> String {
    let registrable = h["registrable"].as_str().unwrap_or("");
    let seen = h["domain"].as_str().unwrap_or(registrable);
    let Ok(d) = Domain::parse(seen) else {
        return registrable.to_owned();
    };
    let mut s = d.registrable_unicode().to_owned();
    if d.registrable_unicode() != d.registrable() {
        s.push_str(&format!(" ({})", d.registrable()));
    }
    if d.ascii() != d.registrable() {
        s.push_str(&format!("  seen as {}", d.unicode()));
    }
    s
}

/// `LOOKALIKE_LOG`: a bare `debug` or `trace` is lookalike's own, other crates stay at `info`
/// (sled and hyper at `debug` drown the service's lines); `warn`, `error`, `off` and a full filter
/// (`info,lookalike::sources=trace`) is taken as written; unset or invalid means `info`.
fn log_filter(env: Option<&str>) -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    let Some(v) = env.map(str::trim).filter(|v| !v.is_empty()) else {
        return EnvFilter::new("info");
    };
    let spec = match v.parse::<tracing::Level>() {
        Ok(level) if level > tracing::Level::INFO => format!("info,lookalike={v}"),
        _ => v.to_owned(),
    };
    EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("lookalike: LOOKALIKE_LOG={v}: {e}; using info");
        EnvFilter::new("info")
    })
}

/// Whether `brand` names a brand of the config's watchlists (any case); else the names of
/// those it has, for the message.
fn known_brand(config: &Config, brand: &str) -> Result<Result<(), String>> {
    let brands = watchlist::load(&config.watchlists).context("loading the watchlists")?;
    if brands.iter().any(|b| b.name.eq_ignore_ascii_case(brand)) {
        return Ok(Ok(()));
    }
    let names: Vec<String> = brands
        .iter()
        .map(|b| lookalike::text::terminal(&b.name, 100).into_owned())
        .collect();
    Ok(Err(names.join(", ")))
}

/// The config a command names, or the default one.
fn load_config(config: Option<&std::path::Path>) -> Result<Config> {
    Ok(match config {
        Some(c) => Config::load_for_store(c)?,
        None => Config::default(),
    })
}

fn run_service(config: Option<PathBuf>, json: bool, status_every: Duration) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(std::env::var("LOOKALIKE_LOG").ok().as_deref()))
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
    let config = match &config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(app::run(
        app::RunOptions {
            config,
            json,
            status_every,
        },
        app::signals(),
    ))?;
    // Blocking tasks (a stuck DNS lookup, say) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(ExitCode::SUCCESS)
}

/// Writes `path` whole or not at all, and durably: the content goes to a file beside it,
/// which is synced before it is renamed over `path`, and the folder is synced after, so a
/// resolver reloading the file never sees half of it, and a crash after the command never
/// leaves an empty or missing file.
fn write_durably(path: &std::path::Path, body: &[u8]) -> Result<()> {
    let tmp = path.with_extension("lookalike-tmp");
    let written = (|| -> io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(body)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", tmp.display()));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    File::open(folder)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing the folder {}", folder.display()))?;
    Ok(())
}

fn load_matcher(paths: &[PathBuf]) -> Result<(Vec<lookalike::Brand>, Matcher)> {
    let brands = watchlist::load(paths).context("loading the watchlist")?;
    if brands.is_empty() {
        eprintln!(
            "lookalike: warning: the watchlists define no brand, so nothing will match (watchlists/README.example.toml explains how to add one)"
        );
    }
    let matcher = Matcher::build(&brands);
    Ok((brands, matcher))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run {
            config,
            json,
            status_interval,
        } => run_service(config, json, status_interval),
        Command::Hits {
            config,
            brand,
            since,
            status,
            min_score,
            technique,
            state,
            mail_ready,
            limit,
            json,
        } => {
            let config = load_config(config.as_deref())?;
            let access = Access::open(&config)?;
            let known = brand
                .as_ref()
                .map(|b| known_brand(&config, b))
                .transpose()?;
            let filter = hits::Filter {
                brand,
                since,
                status,
                min_score,
                technique,
                domain: None,
                state,
                mail_ready,
            };
            let found = access.hits(&filter, limit)?;
            // An unknown brand with no stored findings is a typo, not an empty result. (One
            // that left the watchlist keeps its findings, and they are shown.)
            if let (Some(Err(brands)), true) = (&known, found.is_empty()) {
                eprintln!(
                    "lookalike: no brand named '{}' (the watchlists have: {})",
                    lookalike::text::terminal(filter.brand.as_deref().unwrap_or(""), 100),
                    brands
                );
                return Ok(ExitCode::from(2));
            }
            let mut out = io::stdout().lock();
            for h in &found {
                if json {
                    writeln!(out, "{}", serde_json::to_string(h)?)?;
                } else {
                    let techniques: Vec<&str> = h["techniques"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
                        .unwrap_or_default();
                    let score = h["enriched_score"]
                        .as_u64()
                        .or(h["score"].as_u64())
                        .unwrap_or(0);
                    let line = format!(
                        "{}  {:>3}  {:<14}  {:<12}  {:<12}  {:<22}  {}",
                        h["first_seen"].as_str().unwrap_or(""),
                        score,
                        h["status"].as_str().unwrap_or(""),
                        h["state"].as_str().unwrap_or("-"),
                        h["brand"].as_str().unwrap_or(""),
                        techniques.join(","),
                        hit_names(h)
                    );
                    writeln!(out, "{}", lookalike::text::terminal(&line, 1000))?;
                }
            }
            out.flush()?;
            eprintln!("{} shown", lookalike::count(found.len(), "finding"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Triage {
            config,
            domain,
            status,
            brand,
            note,
        } => {
            let config = load_config(config.as_deref())?;
            let access = Access::open(&config)?;
            // Accept the defanged form a mail or chat message shows.
            let domain = domain.replace("[.]", ".");
            let registrable = Domain::parse(&domain)
                .map(|d| d.registrable().to_owned())
                .unwrap_or(domain.to_ascii_lowercase());
            let by = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            let done =
                access.triage(&registrable, brand.as_deref(), status, note.as_deref(), &by)?;
            if done.is_empty() {
                let what = format!(
                    "{registrable}{}",
                    brand.map(|b| format!(" and brand {b}")).unwrap_or_default()
                );
                eprintln!(
                    "lookalike: no finding for {}",
                    lookalike::text::terminal(&what, lookalike::text::ECHO_MAX)
                );
                return Ok(ExitCode::FAILURE);
            }
            for (registrable, brand, status, decisions) in done {
                let line = format!(
                    "{registrable} {brand}: {status} ({} so far)",
                    lookalike::count(decisions, "decision")
                );
                println!("{}", lookalike::text::terminal(&line, 1000));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            config,
            format,
            output,
        } => {
            let config = load_config(config.as_deref())?;
            let access = Access::open(&config)?;
            let document = match format {
                lookalike::export::Output::Document(d) => d,
                lookalike::export::Output::Misp => {
                    let Some(dir) = output else {
                        eprintln!(
                            "lookalike: --format misp writes a feed folder: give it with --output DIR"
                        );
                        return Ok(ExitCode::from(2));
                    };
                    let feed = access.misp(&config)?;
                    let removed = lookalike::export::misp::write_dir(&feed, &dir)
                        .with_context(|| format!("writing the MISP feed to {}", dir.display()))?;
                    eprintln!(
                        "MISP feed in {}: {}{}",
                        dir.display(),
                        lookalike::count(feed.events, "event"),
                        if removed > 0 {
                            format!(
                                " ({} no longer listed, removed)",
                                lookalike::count(removed, "old event file")
                            )
                        } else {
                            String::new()
                        }
                    );
                    if feed.skipped > 0 {
                        eprintln!(
                            "{} left out: their names or times cannot be exported",
                            lookalike::count(feed.skipped, "finding")
                        );
                    }
                    return Ok(ExitCode::SUCCESS);
                }
            };
            let body = access.export(&config, document)?;
            match output {
                Some(path) => write_durably(&path, body.as_bytes())?,
                None => io::stdout().lock().write_all(body.as_bytes())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox { config, command } => {
            let config = load_config(config.as_deref())?;
            let access = Access::open(&config)?;
            match command {
                OutboxCommand::List { json } => {
                    let all = access.deliveries()?;
                    for d in &all {
                        if json {
                            println!("{}", serde_json::to_string(d)?);
                        } else {
                            let f = &d["alert"]["record"];
                            println!(
                                "{:>6}  {:<16}  {:<7}  attempts {:<2}  {} {}  {}",
                                d["id"],
                                d["alert"]["route"].as_str().unwrap_or(""),
                                d["state"].as_str().unwrap_or(""),
                                d["attempts"],
                                f["brand"].as_str().unwrap_or(""),
                                f["registrable"].as_str().unwrap_or(""),
                                d["last_error"].as_str().unwrap_or("")
                            );
                        }
                    }
                    eprintln!("{}", lookalike::count(all.len(), "delivery"));
                }
                OutboxCommand::Retry { id } => {
                    let store = access.local("outbox retry")?;
                    let n = store.retry_dead(id)?;
                    store.flush_blocking()?;
                    if let (Some(id), 0) = (id, n) {
                        bail!("no dead delivery with id {id} (`lookalike outbox list` shows them)");
                    }
                    eprintln!("{} back in line", lookalike::count(n, "delivery"));
                }
                OutboxCommand::Drop { id } => {
                    let store = access.local("outbox drop")?;
                    let n = store.drop_deliveries(id)?;
                    store.flush_blocking()?;
                    if let (Some(id), 0) = (id, n) {
                        bail!("no delivery with id {id} (`lookalike outbox list` shows them)");
                    }
                    eprintln!("{} dropped", lookalike::count(n, "delivery"));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            command: ConfigCommand::Check { file },
        } => {
            let config = Config::load(&file)?;
            let brands = watchlist::load_some(&config.watchlists)
                .with_context(|| format!("loading the watchlists {} names", file.display()))?;
            lookalike::sinks::outbox::Router::new(&config.routes, &config.alerts, &brands)?;
            // The effective config, in words; secrets only say whether they are set.
            print!("{}", config.describe(brands.len()));
            eprintln!("{}: valid", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            watchlist,
            json,
            enrich,
            config,
            domains,
        } => {
            let lookups = if enrich {
                let config = load_config(config.as_deref())?;
                Some(enrich_lookups(&config)?)
            } else {
                None
            };
            check(&watchlist, json, lookups.as_ref(), &domains)
        }
        Command::Scan {
            watchlist,
            format,
            min_score,
            threads,
            verbose,
            files,
        } => scan_files(&watchlist, format, min_score, threads, verbose, &files),
        Command::Permute {
            watchlist,
            technique,
            target,
        } => permute_cmd(&watchlist, &technique, &target),
        Command::Watchlist {
            command: WatchlistCommand::Validate { paths },
        } => {
            let brands = watchlist::load(&paths)?;
            for b in &brands {
                let line = format!("{}: {} — terms: {}", b.origin, b, b.terms.join(", "));
                println!("{}", lookalike::text::terminal(&line, 2000));
            }
            eprintln!("{}, valid", lookalike::count(brands.len(), "brand"));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The lookups `check --enrich` makes, with a runtime to run them on.
struct CheckLookups {
    runtime: tokio::runtime::Runtime,
    lookups: lookalike::enrich::Lookups,
}

fn enrich_lookups(config: &Config) -> Result<CheckLookups> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let (lookups, _) =
        runtime.block_on(lookalike::enrich::Lookups::build(&config.enrich, &http))?;
    Ok(CheckLookups { runtime, lookups })
}

fn check(
    paths: &[PathBuf],
    json: bool,
    lookups: Option<&CheckLookups>,
    domains: &[String],
) -> Result<ExitCode> {
    let (_, matcher) = load_matcher(paths)?;
    let mut out = io::stdout().lock();
    let mut bad = false;
    for raw in domains {
        let d = match Domain::parse(raw) {
            Ok(d) => d,
            Err(e) => {
                eprintln!(
                    "lookalike: '{}': {e}",
                    lookalike::text::terminal(raw, lookalike::text::ECHO_MAX)
                );
                bad = true;
                continue;
            }
        };
        let findings = matcher.check(&d);
        let enrichment = match (lookups, findings.is_empty()) {
            (Some(l), false) => {
                let mut terms: Vec<String> = Vec::new();
                for f in &findings {
                    terms.push(f.term.to_lowercase());
                    terms.push(f.brand.to_lowercase());
                }
                let outcome = l
                    .runtime
                    .block_on(l.lookups.lookup(d.registrable(), &terms, None));
                Some(outcome.enrichment)
            }
            _ => None,
        };
        if json {
            for f in &findings {
                let mut v = serde_json::to_value(f)?;
                if let Some(e) = &enrichment {
                    v["state"] = serde_json::to_value(e.state)?;
                    v["enriched_score"] =
                        lookalike::enrich::state::adjusted(f.score, Some(e)).into();
                    v["enrichment"] = serde_json::to_value(e)?;
                }
                serde_json::to_writer(&mut out, &v)?;
                writeln!(out)?;
            }
            continue;
        }
        let shown = if d.is_idn() {
            format!("{} ({})", d.unicode(), d.ascii())
        } else {
            d.ascii().to_string()
        };
        if findings.is_empty() {
            let why = if matcher.is_official(&d) {
                "an official domain of a watched brand"
            } else {
                "no match"
            };
            writeln!(out, "{shown}: {why}")?;
        }
        for f in &findings {
            let techniques: Vec<&str> = f.techniques.iter().map(|t| t.name()).collect();
            writeln!(
                out,
                "{shown}: {} (term '{}'), score {}, {}",
                f.brand,
                f.term,
                f.score,
                techniques.join(", ")
            )?;
            for r in &f.reasons {
                writeln!(out, "  - {r}")?;
            }
            if let Some(e) = &enrichment {
                writeln!(
                    out,
                    "  enrichment: {} (score {} → {})",
                    lookalike::enrich::summary(e, std::time::SystemTime::now()),
                    f.score,
                    lookalike::enrich::state::adjusted(f.score, Some(e))
                )?;
                for err in &e.errors {
                    writeln!(out, "  lookup failed: {err}")?;
                }
            }
        }
    }
    Ok(if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn scan_files(
    paths: &[PathBuf],
    format: Format,
    min_score: u8,
    threads: usize,
    verbose: bool,
    files: &[String],
) -> Result<ExitCode> {
    let (_, matcher) = load_matcher(paths)?;
    let mut inputs: Vec<(String, Box<dyn BufRead + Send>)> = Vec::new();
    let files = if files.is_empty() {
        vec!["-".to_string()]
    } else {
        files.to_vec()
    };
    for f in &files {
        if f == "-" {
            inputs.push((
                "<stdin>".into(),
                Box::new(BufReader::with_capacity(1 << 16, io::stdin())),
            ));
        } else {
            let file = File::open(f).with_context(|| format!("opening {f}"))?;
            inputs.push((f.clone(), Box::new(BufReader::with_capacity(1 << 16, file))));
        }
    }
    let opts = scan::Options {
        format,
        min_score,
        threads,
        keep_errors: verbose,
    };
    let progress = scan::Progress::default();
    let started = Instant::now();
    let show_progress = io::stderr().is_terminal();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let done = std::sync::atomic::AtomicBool::new(false);
    let summary = std::thread::scope(|s| {
        if show_progress {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(250));
                    let names = progress.names.load(Ordering::Relaxed);
                    let rate = names as f64 / started.elapsed().as_secs_f64().max(1e-3);
                    eprint!(
                        "\r{} names, {} findings, {:.0} names/s   ",
                        names,
                        progress.findings.load(Ordering::Relaxed),
                        rate
                    );
                }
                eprint!("\r\x1b[K");
            });
        }
        let r = scan::run_reporting(
            &matcher,
            inputs,
            &mut out,
            &mut io::stderr(),
            &opts,
            &progress,
        );
        done.store(true, Ordering::Relaxed);
        r
    });
    let summary = match summary {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => bail!("scanning: {e}"),
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "scanned {} names in {:.2}s ({:.0}/s): {} at score >= {min_score}, {}{}{}",
        summary.names,
        secs,
        summary.names as f64 / secs.max(1e-9),
        lookalike::count(summary.findings, "finding"),
        lookalike::count(summary.invalid, "unreadable line"),
        if summary.invalid > 0 && !verbose {
            " (--verbose lists them)"
        } else {
            ""
        },
        if summary.suffixes > 0 {
            format!(
                ", {} skipped (nobody registers those)",
                lookalike::count(summary.suffixes, "public suffix")
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn permute_cmd(paths: &[PathBuf], techniques: &[Technique], target: &str) -> Result<ExitCode> {
    let (brands, matcher) = load_matcher(paths)?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(b) = brands.iter().find(|b| b.name.eq_ignore_ascii_case(target)) {
        for term in &b.terms {
            let mut suffixes: Vec<String> = b
                .domains
                .iter()
                .filter_map(|d| Domain::parse(d).ok())
                .filter(|d| d.label_unicode() == term)
                .map(|d| d.suffix().to_string())
                .collect();
            if suffixes.is_empty() {
                suffixes.push("com".into());
            }
            for s in suffixes {
                pairs.push((term.clone(), s));
            }
        }
    } else if !target.contains('.') {
        let names: Vec<&str> = brands.iter().map(|b| b.name.as_str()).collect();
        bail!(
            "no brand named '{target}' in the watchlist (its brands: {}); a domain needs its suffix, e.g. {target}.com",
            names.join(", ")
        );
    } else {
        let d = Domain::parse(target).with_context(|| {
            format!("'{target}' is neither a brand of the watchlist nor a domain")
        })?;
        pairs.push((d.label_unicode().to_string(), d.suffix().to_string()));
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = (|| -> io::Result<()> {
        for (term, suffix) in pairs {
            for (t, name) in permute::candidates(&term, &suffix, techniques) {
                // Official domains (the brand's own suffixes among the TLD swaps) are not
                // lookalikes, and a name on the Public Suffix List (chatgpt.site) is not
                // registrable.
                if Domain::parse(&name).map_or(true, |d| matcher.is_official(&d)) {
                    continue;
                }
                writeln!(out, "{}\t{name}", t.name())?;
            }
        }
        out.flush()
    })();
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A reader that went away (`| head`) is no failure, as for `grep`.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        // A full disk is: the list is incomplete.
        Err(e) => bail!("writing the candidates: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::log_filter;

    #[test]
    fn a_bare_verbose_level_is_lookalikes_own() {
        assert_eq!(
            log_filter(Some("debug")).to_string(),
            "lookalike=debug,info"
        );
        assert_eq!(log_filter(Some("warn")).to_string(), "warn");
        assert_eq!(
            log_filter(Some("info,sled=debug")).to_string(),
            "sled=debug,info"
        );
        assert_eq!(log_filter(None).to_string(), "info");
        assert_eq!(log_filter(Some("no=such=filter")).to_string(), "info");
    }
}
