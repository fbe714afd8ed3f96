//! Hostile test plugin: stores the note body in a global and returns what
//! the global held before, as JSON `{"previous": null}` or
//! `{"previous": "<an earlier note body>"}`. A fresh process per run means
//! the global always starts empty.

use std::collections::BTreeMap;
use std::sync::Mutex;

use sandnotes_plugin_sdk::{Args, Output, export_plugin, note};

static STORED_NOTE: Mutex<Option<String>> = Mutex::new(None);

fn run(_args: Args) -> Result<Output, String> {
    let mut stored = STORED_NOTE
        .lock()
        .map_err(|_| "the global lock is poisoned".to_owned())?;
    let previous = stored.replace(note::body());
    Output::json(&BTreeMap::from([("previous", previous)]))
}

export_plugin!(run);
