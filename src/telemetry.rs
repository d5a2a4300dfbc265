//! Tracing set-up, done once at start-up. Log fields never carry a NIK or an API key: handlers log masked NIKs
//! (`Nik`'s `Debug`) and the request span carries only the method, the request id and the agency.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default filter (`info`).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,h2=warn,tower=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests, or a library embedding lindung) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry.with(fmt::layer().json().flatten_event(true)).try_init(),
    };
}
