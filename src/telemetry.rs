//! Tracing set-up, done once at start-up. Log fields never carry a NIK or an API key: handlers log masked NIKs
//! (`Nik`'s `Debug`) and the request span carries only the method, the request id and the agency.

use std::{future::Future, io::IsTerminal};

use tracing::Instrument;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default filter (`info`).
///
/// Logs go to stderr (stdout carries what a command answers, such as a new API key), with colour codes only when
/// stderr is a terminal: a log file or a pipe gets plain text.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,h2=warn,tower=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests, or a library embedding lindung) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => {
            let layer = fmt::layer().with_target(false).with_writer(std::io::stderr);
            registry.with(layer.with_ansi(std::io::stderr().is_terminal())).try_init()
        }
        LogFormat::Json => {
            registry.with(fmt::layer().json().flatten_event(true).with_writer(std::io::stderr)).try_init()
        }
    };
}

/// What a panic said, when it said it with a string.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Runs `future` inside the current span on a new task: streaming handlers keep their request's span.
pub fn spawn_in_span<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // The task answers in the language of the call that spawned it.
    let locale = crate::messages::current();
    tokio::spawn(crate::messages::scope(locale, future).instrument(tracing::Span::current()))
}
