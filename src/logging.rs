//! Where log lines go and how they look: stderr, as text for people (colours only on a
//! terminal and never with `NO_COLOR`), as text with journald priority prefixes (`<4>` for a
//! warning) when stderr is the journal's stream, so `journalctl -p warning` finds warnings, or
//! as one JSON object per line (`--log-format json`) for log shippers.
//!
//! `LOOKALIKE_LOG` picks what is logged: a bare `debug` or `trace` is lookalike's own, other
//! crates stay at `info` (sled and hyper at `debug` drown the service's lines); `warn`,
//! `error`, `off` and a full filter (`info,lookalike::sources=trace`) are taken as written;
//! unset or invalid means `info`.

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people; journald priorities under systemd.
    Text,
    /// One JSON object per line: timestamp, level, target, fields, message.
    Json,
}

/// Installs the global subscriber, writing to stderr.
pub fn init(format: LogFormat) {
    let filter = filter(std::env::var("LOOKALIKE_LOG").ok().as_deref());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
        LogFormat::Text if journal_stream() => builder
            .with_ansi(false)
            .event_format(Journald(
                tracing_subscriber::fmt::format().without_time().compact(),
            ))
            .init(),
        LogFormat::Text => builder
            .with_ansi(colour(
                std::env::var_os("NO_COLOR").as_deref(),
                std::io::stderr().is_terminal(),
            ))
            .init(),
    }
}

/// `LOOKALIKE_LOG` as a filter (see the module docs).
pub fn filter(env: Option<&str>) -> EnvFilter {
    let Some(v) = env.map(str::trim).filter(|v| !v.is_empty()) else {
        return EnvFilter::new("info");
    };
    let spec = match v.parse::<Level>() {
        Ok(level) if level > Level::INFO => format!("info,lookalike={v}"),
        _ => v.to_owned(),
    };
    EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("lookalike: LOOKALIKE_LOG={v}: {e}; using info");
        EnvFilter::new("info")
    })
}

/// Colours on a terminal, unless `NO_COLOR` is set to anything but the empty string
/// (no-color.org).
pub fn colour(no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Whether stderr is connected to the journal: `JOURNAL_STREAM` (`device:inode`, set by
/// systemd) names the very stream stderr is. A child whose stderr was redirected inherits the
/// variable but not the stream, and writes plain lines.
fn journal_stream() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else {
            return false;
        };
        match std::fs::metadata("/proc/self/fd/2") {
            Ok(m) => dev.parse() == Ok(m.dev()) && ino.parse() == Ok(m.ino()),
            // No /proc: trust the variable.
            Err(_) => true,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = value;
        false
    }
}

/// The syslog priority journald reads from a `<N>` line prefix (sd-daemon(3)).
pub fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Text lines with a `<N>` priority prefix and no timestamp (the journal keeps its own).
struct Journald<F>(F);

impl<S, N, F> FormatEvent<S, N> for Journald<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn a_bare_verbose_level_is_lookalikes_own() {
        assert_eq!(filter(Some("debug")).to_string(), "lookalike=debug,info");
        assert_eq!(filter(Some("warn")).to_string(), "warn");
        assert_eq!(
            filter(Some("info,sled=debug")).to_string(),
            "sled=debug,info"
        );
        assert_eq!(filter(None).to_string(), "info");
        assert_eq!(filter(Some("no=such=filter")).to_string(), "info");
    }

    #[test]
    fn no_color_turns_colours_off_unless_empty() {
        assert!(colour(None, true));
        assert!(colour(Some(OsStr::new("")), true));
        assert!(!colour(Some(OsStr::new("1")), true));
        assert!(!colour(None, false));
    }

    #[test]
    fn journald_priorities() {
        assert_eq!(priority(&Level::ERROR), 3);
        assert_eq!(priority(&Level::WARN), 4);
        assert_eq!(priority(&Level::INFO), 6);
        assert_eq!(priority(&Level::DEBUG), 7);
    }
}
