//! Hostile test plugin: loops forever without calling the host.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

fn run(_args: Args) -> Result<Output, String> {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

export_plugin!(run);
