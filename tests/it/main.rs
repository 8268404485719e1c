//! The integration tests, one binary: `cargo test --test it` runs them all,
//! `cargo test --test it alerts::` one module. Helpers they share are in `support/`.

mod support;

mod alerts;
mod api;
mod api_limits;
mod certstream;
mod certstream_e2e;
mod cli;
mod console;
mod ct;
mod ct_corpus;
mod email;
mod enrich;
mod enrich_e2e;
mod export;
mod fakelog_selftest;
mod hostile;
mod intel;
mod kill9;
mod nats;
mod nrd;
mod nrd_e2e;
mod operator;
mod properties;
mod reload;
mod siem;
mod sinks;
mod systemd;
