//! Helpers for unit tests of plugin logic in native builds.
//!
//! In a native build, [`crate::note`] returns the note set here and
//! [`crate::log`] records lines here instead of calling a host. The state is
//! per thread, so tests running in parallel do not see each other's notes.
//!
//! ```
//! use sandnotes_plugin_sdk::{log, note, testing};
//!
//! testing::set_note("Groceries", "milk, eggs");
//! log::info("read the note");
//!
//! assert_eq!(note::body(), "milk, eggs");
//! assert_eq!(testing::take_logs(), vec![(log::Level::Info, "read the note".to_owned())]);
//! ```

use crate::log::Level;

/// Sets the note that [`crate::note::title`] and [`crate::note::body`]
/// return on this thread.
pub fn set_note(title: &str, body: &str) {
    crate::native::set_note(title, body);
}

/// Returns and clears the lines logged on this thread, oldest first.
pub fn take_logs() -> Vec<(Level, String)> {
    crate::native::take_logs()
}
