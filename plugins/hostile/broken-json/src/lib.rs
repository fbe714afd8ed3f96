//! Hostile test plugin: declares its output as JSON and returns text that
//! does not parse, so the host must reject the output.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

fn run(_args: Args) -> Result<Output, String> {
    Ok(Output::Json(r#"{"words": 3, "unterminated": "#.to_owned()))
}

export_plugin!(run);
