//! The host side of the plugin world: the note and the bounded log.

use sandbox_protocol::{GuestLimits, LogLevel, LogLine, NoteContent};

use crate::limiter::GuestLimiter;

wasmtime::component::bindgen!({
    path: "../plugins/wit",
    world: "plugin",
    imports: { default: trappable },
});

pub(crate) use self::sandnotes::plugin::host::Level;

/// Raised when a plugin logs after its log budget is spent.
#[derive(Debug, thiserror::Error)]
#[error("log budget of {limit_bytes} bytes exceeded")]
pub(crate) struct LogLimitExceeded {
    pub(crate) limit_bytes: u64,
}

/// Store data of one run.
pub(crate) struct HostState {
    note: NoteContent,
    logs: Vec<LogLine>,
    log_bytes_used: u64,
    log_limit_bytes: u64,
    log_line_limit_bytes: usize,
    pub(crate) limiter: GuestLimiter,
}

impl HostState {
    pub(crate) fn new(note: NoteContent, limits: &GuestLimits) -> Self {
        Self {
            note,
            logs: Vec::new(),
            log_bytes_used: 0,
            log_limit_bytes: limits.log_bytes,
            log_line_limit_bytes: usize::try_from(limits.log_line_bytes).unwrap_or(usize::MAX),
            limiter: GuestLimiter::new(limits.memory_bytes, limits.table_elements),
        }
    }

    /// Takes the log lines recorded so far, oldest first.
    pub(crate) fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.logs)
    }

    /// Records one log line, truncated to the per-line limit. Each kept line
    /// costs its length plus one byte of the budget; a line that does not
    /// fit raises [`LogLimitExceeded`], which ends the run.
    fn record_log(&mut self, level: LogLevel, mut message: String) -> wasmtime::Result<()> {
        truncate_at_char_boundary(&mut message, self.log_line_limit_bytes);

        let cost = message.len() as u64 + 1;
        let used = self.log_bytes_used.saturating_add(cost);
        if used > self.log_limit_bytes {
            return Err(LogLimitExceeded {
                limit_bytes: self.log_limit_bytes,
            }
            .into());
        }

        self.log_bytes_used = used;
        self.logs.push(LogLine { level, message });
        Ok(())
    }
}

/// Shortens `text` to at most `max_bytes`, cutting at a character boundary.
pub(crate) fn truncate_at_char_boundary(text: &mut String, max_bytes: usize) {
    if text.len() <= max_bytes {
        return;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

impl sandnotes::plugin::host::Host for HostState {
    fn note_title(&mut self) -> wasmtime::Result<String> {
        Ok(self.note.title.clone())
    }

    fn note_body(&mut self) -> wasmtime::Result<String> {
        Ok(self.note.body.clone())
    }

    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.record_log(level, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(log_bytes: u64, log_line_bytes: u64) -> HostState {
        let limits = GuestLimits {
            log_bytes,
            log_line_bytes,
            ..GuestLimits::default()
        };
        HostState::new(NoteContent::default(), &limits)
    }

    #[test]
    fn long_line_is_truncated() {
        let mut state = state(100, 4);

        state
            .record_log(LogLevel::Info, "abcdefgh".to_owned())
            .unwrap();

        assert_eq!(state.take_logs()[0].message, "abcd");
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        let mut text = "aé".to_owned();

        truncate_at_char_boundary(&mut text, 2);

        assert_eq!(text, "a");
    }

    #[test]
    fn log_past_budget_is_typed_error() {
        let mut state = state(10, 100);

        state
            .record_log(LogLevel::Info, "12345678".to_owned())
            .unwrap();
        let error = state
            .record_log(LogLevel::Info, "x".to_owned())
            .unwrap_err();

        assert!(
            error.downcast_ref::<LogLimitExceeded>().is_some(),
            "{error}"
        );
        assert_eq!(state.take_logs().len(), 1);
    }

    #[test]
    fn empty_lines_spend_budget() {
        let mut state = state(3, 100);

        for _ in 0..3 {
            state.record_log(LogLevel::Debug, String::new()).unwrap();
        }

        assert!(state.record_log(LogLevel::Debug, String::new()).is_err());
    }
}
