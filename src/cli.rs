//! The command line's shape (clap): every command, flag, value list and example. `main.rs`
//! runs it; the man pages (`lookalike manpages DIR`, clap_mangen) and the shell completions
//! (`lookalike completions SHELL`, clap_complete) are generated from it, so they never drift.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};

use lookalike::hits;
use lookalike::matcher::score::DEFAULT_MIN_SCORE;
use lookalike::scan::Format;
use lookalike::store::{DomainState, TriageStatus};
use lookalike::{Technique, logging};

const CONFIG_HELP: &str = "Service config (TOML). Default: $LOOKALIKE_CONFIG, else \
/etc/lookalike/lookalike.toml when it exists, else the built-in defaults";
const WATCHLIST_HELP: &str = "Watchlist file or folder of *.toml (repeatable). Default: the \
config's watchlists, else ./watchlists/, else the set built into the binary";

/// Catch brand-impersonation domains: homoglyphs, typos, combosquats, level-squats, TLD swaps.
#[derive(Parser)]
#[command(
    name = "lookalike",
    version,
    about,
    long_about = None,
    after_help = "\
Examples:
  lookalike check paypa1-login.com xn--80ak6aa92e.com
  lookalike permute PayPal | lookalike scan --min-score 0
  lookalike run --config /etc/lookalike/lookalike.toml
  lookalike hits --since 24h --status new
  lookalike completions bash > /etc/bash_completion.d/lookalike

The config is --config, else $LOOKALIKE_CONFIG, else /etc/lookalike/lookalike.toml when it
exists, else the built-in defaults. `man lookalike` and `man lookalike-SUBCOMMAND` say more."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// The service: follow every CT log, match, store, alert, serve the API.
    #[command(after_help = "\
Examples:
  lookalike run                                   # every public CT log, bundled watchlists
  lookalike run --config /etc/lookalike/lookalike.toml --json
  LOOKALIKE_LOG=debug lookalike run --log-format json

SIGHUP (systemctl reload lookalike) reloads the watchlists, routes and [alerts]; SIGINT or
SIGTERM stop it after saving what is in flight.")]
    Run {
        #[arg(long, short = 'c', help = CONFIG_HELP)]
        config: Option<PathBuf>,
        /// Print each new finding as one JSON line on stdout (the finding schema).
        #[arg(long)]
        json: bool,
        /// How often to log the status line and tell systemd the status (at least 1s).
        #[arg(long, default_value = "30s", value_parser = status_interval)]
        status_interval: Duration,
        /// Log lines as text, or as one JSON object per line for log shippers. Under systemd
        /// (JOURNAL_STREAM set) text lines carry journald priorities.
        #[arg(long, value_enum, default_value_t = logging::LogFormat::Text, env = "LOOKALIKE_LOG_FORMAT")]
        log_format: logging::LogFormat,
    },
    /// Explain how each domain matches the watched brands.
    #[command(after_help = "\
Examples:
  lookalike check paypa1-login.com 'аррӏе.com'
  lookalike check --json openai.com.key-rotation.support
  lookalike permute Rakuten | cut -f2 | lookalike check -
  lookalike check --enrich paypa1-mail.com       # also look it up now (DNS, RDAP, web)

Exit status: 0, or 2 if a name is not a domain name.")]
    Check {
        #[arg(long, short = 'w', help = WATCHLIST_HELP)]
        watchlist: Vec<PathBuf>,
        /// One JSON finding per line instead of text.
        #[arg(long)]
        json: bool,
        /// Also look each matching domain up now (DNS, mail readiness, RDAP, web probe), as the
        /// config's [enrich] says (default: the system resolver, the bundled bootstrap).
        #[arg(long)]
        enrich: bool,
        #[arg(long, short = 'c', help = CONFIG_HELP)]
        config: Option<PathBuf>,
        /// Domain names to check; `-` reads names from stdin, one per line.
        #[arg(required = true, value_name = "DOMAIN")]
        domains: Vec<String>,
    },
    /// Match every name in files (or stdin) and print the findings.
    #[command(after_help = "\
Examples:
  lookalike scan names.txt
  zcat nrd-2026-12-01.txt.gz | lookalike scan --format jsonl > findings.jsonl
  lookalike permute PayPal | lookalike scan --min-score 0 --format csv

Input lines: a name; a CSV line (its first field that is a domain); `technique<TAB>name` as
`permute` prints; a certstream JSON message. Blank lines and # comments are skipped.
Exit status: 0 whether or not anything was found; 1 on unreadable input; 2 on bad usage.")]
    Scan {
        #[arg(long, short = 'w', help = WATCHLIST_HELP)]
        watchlist: Vec<PathBuf>,
        #[arg(long, short = 'c', help = CONFIG_HELP)]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Print only findings with at least this score (0-100).
        #[arg(long, default_value_t = DEFAULT_MIN_SCORE, value_parser = clap::value_parser!(u8).range(0..=100))]
        min_score: u8,
        /// Worker threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// List every unreadable line with its file and line number.
        #[arg(long, short = 'v')]
        verbose: bool,
        /// Files with one name per line; `-` or nothing reads stdin.
        #[arg(value_name = "FILE")]
        files: Vec<String>,
    },
    /// Print lookalike candidates of a brand or domain, to pre-register or pre-block.
    #[command(after_help = "\
Examples:
  lookalike permute PayPal --technique homoglyph --technique omission
  lookalike permute example.co.jp
  lookalike permute Rakuten | lookalike scan --min-score 0

Output: `technique<TAB>name`, one candidate per line; `scan` and `check -` read it as it is.")]
    Permute {
        #[arg(long, short = 'w', help = WATCHLIST_HELP)]
        watchlist: Vec<PathBuf>,
        #[arg(long, short = 'c', help = CONFIG_HELP)]
        config: Option<PathBuf>,
        /// Only these techniques (repeatable).
        #[arg(long, value_parser = technique_parser())]
        technique: Vec<Technique>,
        /// A brand name from the watchlist, or a domain.
        #[arg(value_name = "BRAND|DOMAIN")]
        target: String,
    },
    /// List findings from the store (or the running service's API).
    #[command(after_help = "\
Examples:
  lookalike hits --since 24h
  lookalike hits --since 2026-12-01T09:00:00+09:00 --brand Rakuten
  lookalike hits --status confirmed --json
  lookalike hits --state live --technique homoglyph

Works the same whether or not `lookalike run` holds the store: when it does, the command asks
its API (with the config's token when the API has one).")]
    Hits {
        #[arg(long, short = 'c', help = CONFIG_HELP)]
        config: Option<PathBuf>,
        /// Only this brand's findings.
        #[arg(long)]
        brand: Option<String>,
        /// First seen at or after: RFC 3339 with any offset (2026-12-01T09:00:00+09:00), a date
        /// (UTC midnight), or a duration back from now (24h, 7d); not before 1970.
        #[arg(long, value_parser = hits::parse_since)]
        since: Option<String>,
        /// Triage status.
        #[arg(long, value_parser = status_parser())]
        status: Option<TriageStatus>,
        /// At least this score (0-100).
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        min_score: Option<u8>,
        /// Findings that use this technique.
        #[arg(long, value_parser = technique_parser())]
        technique: Option<Technique>,
        /// Enrichment state.
        #[arg(long, value_parser = state_parser())]
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
    /// Record a decision about a finding.
    #[command(after_help = "\
Examples:
  lookalike triage paypa1-login.com --status confirmed --note 'kit on /login, reported'
  lookalike triage 'paypa1[.]com' --brand PayPal --status false_positive")]
    Triage {
        #[arg(long, short = 'c', help = CONFIG_HELP)]
        config: Option<PathBuf>,
        /// The registrable domain (as `hits` shows it; Unicode, A-label or defanged).
        domain: String,
        /// The decision.
        #[arg(long, value_parser = status_parser())]
        status: TriageStatus,
        /// Only this brand's finding (default: every brand the domain matched).
        #[arg(long)]
        brand: Option<String>,
        /// Why (kept with the decision, who and when; at most 4096 bytes).
        #[arg(long, value_parser = triage_note)]
        note: Option<String>,
    },
    /// Write a blocklist for mail and DNS filters from the findings.
    #[command(after_help = "\
Examples:
  lookalike export --format rpz --output /var/lib/unbound/lookalike.rpz
  lookalike export --format hosts > /etc/hosts.lookalike")]
    Export {
        #[arg(long, short = 'c', help = CONFIG_HELP)]
        config: Option<PathBuf>,
        /// A blocklist format, a STIX 2.1 bundle (stix) or a MISP feed (misp, with --output DIR).
        #[arg(long, value_parser = export_format_parser())]
        format: lookalike::export::Output,
        /// Write to this file (atomically) instead of stdout; for misp, the feed's folder.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Alert deliveries waiting or dead in the outbox.
    Outbox {
        #[arg(long, short = 'c', global = true, help = CONFIG_HELP)]
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
    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  lookalike completions bash > ~/.local/share/bash-completion/completions/lookalike
  lookalike completions zsh > ~/.zfunc/_lookalike
  lookalike completions fish > ~/.config/fish/completions/lookalike.fish

The Debian package installs them for bash, zsh and fish.")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (lookalike.1, lookalike-SUBCOMMAND.1) into a folder.
    #[command(hide = true)]
    Manpages {
        /// The folder (created if needed).
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Every delivery: route, state, attempts, last error.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Put dead deliveries (all, or one by id) back in line; `run` sends them (stop it first:
    /// this needs the store).
    Retry {
        /// The delivery (`outbox list` shows ids); default: every dead one.
        id: Option<u64>,
    },
    /// Remove deliveries: one by id, or every dead one.
    Drop {
        /// The delivery (`outbox list` shows ids); default: every dead one.
        id: Option<u64>,
    },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Check a config file and the watchlists it names; print what `run` would do.
    Check {
        /// The config file. Default: $LOOKALIKE_CONFIG, else /etc/lookalike/lookalike.toml.
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum WatchlistCommand {
    /// Check watchlist files and folders; print the brands they define.
    Validate {
        /// Watchlist files or folders of *.toml.
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

/// A parser that accepts exactly `all`'s names (listed in `--help`, in errors and in the
/// completions), plus `-`/`_` spellings of the same names.
fn listed<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    let values = all.iter().map(move |&t| {
        let n = name(t);
        let other = if n.contains('_') {
            n.replace('_', "-")
        } else {
            n.replace('-', "_")
        };
        let value = PossibleValue::new(n);
        if other != n {
            value.alias(other)
        } else {
            value
        }
    });
    PossibleValuesParser::new(values).map(move |s: String| {
        let s = s.replace('-', "_");
        *all.iter()
            .find(|&&t| name(t).replace('-', "_") == s)
            .expect("clap accepted one of the listed values")
    })
}

fn technique_parser() -> impl TypedValueParser<Value = Technique> {
    listed(&Technique::ALL, Technique::name)
}

fn status_parser() -> impl TypedValueParser<Value = TriageStatus> {
    listed(&TriageStatus::ALL, TriageStatus::as_str)
}

fn state_parser() -> impl TypedValueParser<Value = DomainState> {
    listed(&DomainState::ALL, DomainState::as_str)
}

fn export_format_parser() -> impl TypedValueParser<Value = lookalike::export::Output> {
    listed(
        &lookalike::export::Output::ALL,
        lookalike::export::Output::name,
    )
}

impl Cli {
    /// The clap command, for man pages and completions.
    pub fn command() -> clap::Command {
        <Cli as clap::CommandFactory>::command()
    }
}

/// Writes `lookalike.1` and one page per subcommand (`lookalike-hits.1`,
/// `lookalike-outbox-list.1`, ...) into `dir`; returns the files written.
pub fn write_man_pages(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let root = Cli::command();
    write_page(dir, "lookalike", root.clone(), &mut written)?;
    Ok(written)
}

fn write_page(
    dir: &std::path::Path,
    name: &str,
    cmd: clap::Command,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let cmd = cmd.name(name.to_owned()).bin_name(name.replace('-', " "));
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .source(concat!("lookalike ", env!("CARGO_PKG_VERSION")))
        .manual("lookalike manual")
        .render(&mut out)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, out)?;
    written.push(path);
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        write_page(
            dir,
            &format!("{name}-{}", sub.get_name()),
            sub.clone(),
            written,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every flag and argument of every command says what it is for (issue 17).
    #[test]
    fn every_flag_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &format!("{path} {}", sub.get_name()), missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "lookalike", &mut missing);
        assert!(missing.is_empty(), "no help: {missing:?}");
    }
}
