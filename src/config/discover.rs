//! Which config file a command uses when it is not told: `--config FILE`, else
//! `$LOOKALIKE_CONFIG`, else `/etc/lookalike/lookalike.toml` when it exists (the package's
//! conffile), else none (the embedded defaults).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The config the Debian package installs.
pub const SYSTEM_CONFIG: &str = "/etc/lookalike/lookalike.toml";
/// Names a config file for every command that takes `--config`.
pub const CONFIG_ENV: &str = "LOOKALIKE_CONFIG";

/// Where a config file came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    System,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Flag => "--config",
            Origin::Env => "$LOOKALIKE_CONFIG",
            Origin::System => "the system config",
        }
    }
}

/// The config file to read, or `None` for the embedded defaults. A path given by the flag or
/// the variable is returned whether or not it exists (reading it then names the problem); the
/// system file only when it exists.
pub fn discover(flag: Option<&Path>) -> Option<(PathBuf, Origin)> {
    discover_in(flag, std::env::var_os(CONFIG_ENV), Path::new(SYSTEM_CONFIG))
}

/// [`discover`] with the environment and the system path given (tests).
pub fn discover_in(
    flag: Option<&Path>,
    env: Option<OsString>,
    system: &Path,
) -> Option<(PathBuf, Origin)> {
    if let Some(path) = flag {
        return Some((path.to_owned(), Origin::Flag));
    }
    if let Some(path) = env.filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(path), Origin::Env));
    }
    system
        .is_file()
        .then(|| (system.to_owned(), Origin::System))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_environment_then_system_file_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("lookalike.toml");
        let flag = Path::new("/srv/flag.toml");
        let env = || Some(OsString::from("/srv/env.toml"));

        assert_eq!(
            discover_in(Some(flag), env(), &system),
            Some((flag.to_owned(), Origin::Flag))
        );
        assert_eq!(
            discover_in(None, env(), &system),
            Some(("/srv/env.toml".into(), Origin::Env))
        );
        // An empty variable is unset; a missing system file means the embedded defaults.
        assert_eq!(discover_in(None, Some(OsString::new()), &system), None);
        std::fs::write(&system, "").unwrap();
        assert_eq!(
            discover_in(None, None, &system),
            Some((system.clone(), Origin::System))
        );
    }
}
