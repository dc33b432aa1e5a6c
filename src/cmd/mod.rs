//! One module per subcommand: its flags and how it drives the library.

pub mod access;
pub mod app;
pub mod apply;
pub mod audit;
pub mod auth;
pub mod demo;
pub mod emulator;
pub mod import;
pub mod plan;
pub mod policy;
pub mod rollback;
pub mod run;
pub mod status;
pub mod sync;
pub mod target;
pub mod validate;

use tracing_subscriber::EnvFilter;

/// How `validate` and `plan` print their result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// How log lines on stderr are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Plain,
    Json,
}

/// Installs the global tracing subscriber; `RUST_LOG` overrides the default filter.
pub fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,mortar=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Plain => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
}
