//! Hostile test plugin: logs the same line forever.

use sandnotes_plugin_sdk::{Args, Output, export_plugin, log};

fn run(_args: Args) -> Result<Output, String> {
    let mut line: u64 = 0;
    loop {
        log::info(&format!("log line {line}"));
        line = line.wrapping_add(1);
    }
}

export_plugin!(run);
