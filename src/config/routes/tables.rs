//! `[[route]]` tables: each read by its `type` into that type's own fields (a field of
//! another type is an error at its line), with the fields every route takes.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use crate::config::ConfigError;
use crate::config::tables::typed_tables;

type Invalid<'a> = &'a dyn Fn(Range<usize>, String) -> ConfigError;

/// Declares the table of one route type: the fields every route takes, then its own. Each
/// type's table refuses the others' fields (`smtp` on a webhook route is an error at its
/// line, not ignored).
macro_rules! route_table {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(in crate::config) struct $name {
            name: Spanned<String>,
            #[serde(rename = "type")]
            kind: Spanned<String>,
            #[serde(default)]
            brands: Vec<String>,
            min_score: Option<u8>,
            #[serde(default)]
            techniques: Vec<Spanned<String>>,
            timeout: Option<Spanned<String>>,
            /// `"en"` | `"ja"`: the language of the route's alert text (mail, Slack, Teams).
            language: Option<Spanned<String>>,
            /// nats: `"all"` (default) or `"alerts"`; refused elsewhere, with that said.
            events: Option<Spanned<String>>,
            $(pub(in crate::config::routes) $field: $ty,)*
        }

        impl $name {
            pub(in crate::config::routes) fn common(&self) -> Common<'_> {
                Common {
                    name: &self.name,
                    kind: &self.kind,
                    brands: &self.brands,
                    min_score: self.min_score,
                    techniques: &self.techniques,
                    timeout: self.timeout.as_ref(),
                    language: self.language.as_ref(),
                    events: self.events.as_ref(),
                }
            }
        }
    };
}

/// The fields every route type takes.
pub(in crate::config::routes) struct Common<'a> {
    pub name: &'a Spanned<String>,
    pub kind: &'a Spanned<String>,
    pub brands: &'a [String],
    pub min_score: Option<u8>,
    pub techniques: &'a [Spanned<String>],
    pub timeout: Option<&'a Spanned<String>>,
    pub language: Option<&'a Spanned<String>>,
    pub events: Option<&'a Spanned<String>>,
}

type Text = Option<Spanned<String>>;

route_table!(RawEmail {
    smtp: Text,
    username: Option<String>,
    password_env: Text,
    password_file: Text,
    from: Text,
    to: Option<Spanned<Vec<String>>>,
    digest_minutes: Option<u32>,
    ca_file: Option<String>,
    defang: Option<bool>,
});
route_table!(RawWebhook {
    url: Text,
    secret_env: Text,
    secret_file: Text,
    format: Text,
    signing: Text,
    ca_file: Option<String>,
});
route_table!(
    /// `slack` and `teams`.
    RawChat {
        url: Text,
        url_env: Text,
    }
);
route_table!(RawCommand {
    argv: Option<Spanned<Vec<String>>>,
});
route_table!(RawSplunk {
    url: Text,
    token_env: Text,
    token_file: Text,
    index: Option<String>,
    source: Option<String>,
    sourcetype: Option<String>,
    format: Text,
    ca_file: Option<String>,
});
route_table!(RawSyslog {
    url: Text,
    facility: Text,
    app_name: Option<String>,
    sd_id: Option<String>,
});
route_table!(RawNats {
    url: Text,
    subject: Text,
    stream: Text,
    duplicate_window: Text,
    token_env: Text,
    token_file: Text,
    username: Option<String>,
    password_env: Text,
    password_file: Text,
    ca_file: Option<String>,
    format: Text,
});

/// One `[[route]]`, read by its `type`.
pub(in crate::config) enum RawRoute {
    Email(RawEmail),
    Webhook(RawWebhook),
    Slack(RawChat),
    Teams(RawChat),
    Command(RawCommand),
    Splunk(RawSplunk),
    Syslog(RawSyslog),
    Nats(RawNats),
}

impl RawRoute {
    pub(in crate::config::routes) fn common(&self) -> Common<'_> {
        match self {
            RawRoute::Email(r) => r.common(),
            RawRoute::Webhook(r) => r.common(),
            RawRoute::Slack(r) | RawRoute::Teams(r) => r.common(),
            RawRoute::Command(r) => r.common(),
            RawRoute::Splunk(r) => r.common(),
            RawRoute::Syslog(r) => r.common(),
            RawRoute::Nats(r) => r.common(),
        }
    }
}

/// Reads the document's `route` value (an array of tables), each table by its `type`.
pub(in crate::config) fn read(
    value: Option<Spanned<DeValue<'_>>>,
    invalid: Invalid,
) -> Result<Vec<(Range<usize>, RawRoute)>, ConfigError> {
    let mut routes = Vec::new();
    for t in typed_tables(value, "route", invalid)? {
        let span = t.span.clone();
        let route = match t.kind.as_deref() {
            Some("email") => RawRoute::Email(t.read(invalid)?),
            Some("webhook") => RawRoute::Webhook(t.read(invalid)?),
            Some("slack") => RawRoute::Slack(t.read(invalid)?),
            Some("teams") => RawRoute::Teams(t.read(invalid)?),
            Some("command") => RawRoute::Command(t.read(invalid)?),
            Some("splunk") => RawRoute::Splunk(t.read(invalid)?),
            Some("syslog") => RawRoute::Syslog(t.read(invalid)?),
            Some("nats") => RawRoute::Nats(t.read(invalid)?),
            _ => {
                return Err(t.unknown(
                    "email, webhook, slack, teams, command, splunk, syslog or nats",
                    invalid,
                ));
            }
        };
        routes.push((span, route));
    }
    Ok(routes)
}
