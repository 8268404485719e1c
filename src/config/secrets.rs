//! Reading secrets (SMTP passwords, webhook secrets, the API token) from the environment
//! variable or the file the config names: the one place parsing the config reads anything.
//! Read once, at start and on reload, so a missing one stops the start with the field named.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::ConfigError;
use crate::sinks::Secret;

type Invalid<'a> = &'a dyn Fn(Range<usize>, String) -> ConfigError;

/// Reads a secret from the environment variable or the file named by the config. An empty or
/// whitespace-only secret is an error, never "no secret": an API token read from an empty file
/// must not turn authentication off.
pub(super) fn secret(
    env: Option<&Spanned<String>>,
    file: Option<&Spanned<String>>,
    base: &Path,
    what: &str,
    invalid: Invalid,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(var) = env {
        return match std::env::var(var.get_ref()) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(Secret(v))),
            Ok(_) => Err(invalid(
                var.span(),
                format!(
                    "environment variable {} ({what}) is empty or only whitespace",
                    var.get_ref()
                ),
            )),
            Err(_) => Err(invalid(
                var.span(),
                format!("environment variable {} ({what}) is not set", var.get_ref()),
            )),
        };
    }
    if let Some(path) = file {
        let p = resolve(base, path.get_ref());
        return match std::fs::read_to_string(&p) {
            Ok(v) if !v.trim().is_empty() => {
                Ok(Some(Secret(v.trim_end_matches(['\n', '\r']).to_owned())))
            }
            Ok(_) => Err(invalid(
                path.span(),
                format!("{} ({what}) is empty or only whitespace", p.display()),
            )),
            Err(e) => Err(invalid(
                path.span(),
                format!("cannot read {} ({what}): {e}", p.display()),
            )),
        };
    }
    Ok(None)
}

pub(super) fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}
