//! Hostile test plugin: returns HTML with a script element, an event
//! handler attribute and a `javascript:` link. The host's sanitizer must
//! remove all three and keep the harmless markup.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

const HTML: &str = concat!(
    "<p>kept paragraph</p>",
    "<script>fetch('/v1/notes')</script>",
    "<img src=\"x.png\" onerror=\"alert(1)\">",
    "<a href=\"javascript:alert(2)\">link</a>",
);

fn run(_args: Args) -> Result<Output, String> {
    Ok(Output::html(HTML))
}

export_plugin!(run);
