//! The `lookalike` command line: parse arguments, call into the library, map errors to exit
//! codes (0 ok, 1 error, 2 bad usage).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

use lookalike::access::Access;
use lookalike::config::Config;
use lookalike::config::discover;
use lookalike::hits;
use lookalike::{Domain, Matcher, app, logging, watchlist};

mod cli;
mod commands;
use cli::{Cli, Command, ConfigCommand, OutboxCommand, WatchlistCommand};
use commands::check::{check, enrich_lookups};
use commands::permute::permute_cmd;
use commands::scan::scan_files;

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

/// The config a command uses (`--config`, else `$LOOKALIKE_CONFIG`, else the system file
/// when present, else the defaults), read without the routes' secrets; an API token that
/// cannot be read only matters if the store is held by a running service.
fn load_config(config: Option<&Path>) -> Result<Config> {
    Ok(match discover::discover(config) {
        Some((path, origin)) => Config::load_for_store(&path)
            .with_context(|| format!("reading the config ({})", origin.describe()))?,
        None => Config::default(),
    })
}

/// The watchlists `check`, `scan` and `permute` use: `--watchlist`, else the found config's,
/// else `./watchlists/` or the bundled set.
fn watchlists(flag: Vec<PathBuf>, config: Option<&Path>) -> Result<Vec<PathBuf>> {
    if !flag.is_empty() {
        return Ok(flag);
    }
    Ok(load_config(config)?.watchlists)
}

fn run_service(
    config: Option<PathBuf>,
    json: bool,
    status_every: Duration,
    log_format: logging::LogFormat,
) -> Result<ExitCode> {
    logging::init(log_format);
    let found = discover::discover(config.as_deref());
    let config_path = match &found {
        Some((path, origin)) => {
            tracing::info!(config = %path.display(), from = origin.describe(), "Config read.");
            Some(path.clone())
        }
        None => {
            tracing::info!("No config file: the built-in defaults.");
            None
        }
    };
    let config = match &found {
        Some((path, _)) => Config::load(path)?,
        None => Config::default(),
    };
    lookalike::memory::limit_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(app::run(
        app::RunOptions {
            config,
            config_path,
            output: if json {
                app::Output::Json
            } else {
                app::Output::Human
            },
            status_every,
            listeners: app::Listeners::default(),
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
            log_format,
        } => run_service(config, json, status_interval, log_format),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "lookalike", &mut io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Manpages { dir } => {
            for page in cli::write_man_pages(&dir)? {
                if !say(&page.display().to_string())? {
                    break;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
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
                ..hits::Filter::default()
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
            let done = access.triage(
                &config,
                &registrable,
                brand.as_deref(),
                status,
                note.as_deref(),
                &by,
            )?;
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
                if !say(&lookalike::text::terminal(&line, 1000))? {
                    break;
                }
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
                        let line = if json {
                            serde_json::to_string(d)?
                        } else {
                            let f = &d["alert"]["record"];
                            format!(
                                "{:>6}  {:<16}  {:<7}  attempts {:<2}  {} {}  {}",
                                d["id"],
                                d["alert"]["route"].as_str().unwrap_or(""),
                                d["state"].as_str().unwrap_or(""),
                                d["attempts"],
                                f["brand"].as_str().unwrap_or(""),
                                f["registrable"].as_str().unwrap_or(""),
                                d["last_error"].as_str().unwrap_or("")
                            )
                        };
                        if !say(&line)? {
                            return Ok(ExitCode::SUCCESS);
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
            let (file, _) = discover::discover(file.as_deref()).context(
                "no config file to check: name one, set LOOKALIKE_CONFIG, or install /etc/lookalike/lookalike.toml",
            )?;
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
            let found = load_config(config.as_deref())?;
            let lookups = if enrich {
                Some(enrich_lookups(&found)?)
            } else {
                None
            };
            let watchlist = if watchlist.is_empty() {
                found.watchlists
            } else {
                watchlist
            };
            check(&watchlist, json, lookups.as_ref(), &domains)
        }
        Command::Scan {
            watchlist,
            config,
            format,
            min_score,
            threads,
            verbose,
            files,
        } => scan_files(
            &watchlists(watchlist, config.as_deref())?,
            format,
            min_score,
            threads,
            verbose,
            &files,
        ),
        Command::Permute {
            watchlist,
            config,
            technique,
            target,
        } => permute_cmd(
            &watchlists(watchlist, config.as_deref())?,
            &technique,
            &target,
        ),
        Command::Watchlist {
            command: WatchlistCommand::Validate { paths },
        } => {
            let brands = watchlist::load(&paths)?;
            for b in &brands {
                let line = format!("{}: {} — terms: {}", b.origin, b, b.terms.join(", "));
                if !say(&lookalike::text::terminal(&line, 2000))? {
                    break;
                }
            }
            eprintln!("{}, valid", lookalike::count(brands.len(), "brand"));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes `line` to stdout; `false` once the reader has gone (`| head`): the command then
/// stops quietly, as `scan` does.
fn say(line: &str) -> Result<bool> {
    match writeln!(io::stdout().lock(), "{line}") {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}
