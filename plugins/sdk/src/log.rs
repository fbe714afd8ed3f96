//! Log lines that go back to the caller with the run's result.
//!
//! The host truncates long lines and ends the run with a log-limit outcome
//! once the run's log budget (64 KiB by default) is spent. Log lines are
//! user data: they reach the user who started the run, never server logs.

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Detail for the plugin's author.
    Debug,
    /// Normal progress.
    Info,
    /// Something unexpected that the plugin handled.
    Warn,
    /// A failure.
    Error,
}

/// Appends one line at `level`.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::__private::bindings::sandnotes::plugin::host;

        let level = match level {
            Level::Debug => host::Level::Debug,
            Level::Info => host::Level::Info,
            Level::Warn => host::Level::Warn,
            Level::Error => host::Level::Error,
        };
        host::log(level, message);
    }

    #[cfg(not(target_arch = "wasm32"))]
    crate::native::log(level, message);
}

/// Appends one line at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Appends one line at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Appends one line at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Appends one line at error level.
pub fn error(message: &str) {
    log(Level::Error, message);
}

/// Installs, once per instance, a panic hook that logs the panic message at
/// error level, because a guest panic otherwise reaches the caller only as
/// an `unreachable` trap. Native builds keep the default hook so test
/// failures print as usual.
pub(crate) fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    {
        static INSTALL: std::sync::Once = std::sync::Once::new();

        INSTALL.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                error(&format!("plugin panicked: {info}"));
            }));
        });
    }
}
