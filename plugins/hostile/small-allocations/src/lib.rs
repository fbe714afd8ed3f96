//! Hostile test plugin: keeps allocating 16-byte blocks until memory
//! growth fails, stressing the allocator and the memory limiter with
//! millions of small requests instead of a few large ones.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

fn run(_args: Args) -> Result<Output, String> {
    let mut blocks: Vec<Box<[u8; 16]>> = Vec::new();
    loop {
        blocks.push(std::hint::black_box(Box::new([1u8; 16])));
        if blocks.len() == usize::MAX {
            return Ok(Output::text("unreachable"));
        }
    }
}

export_plugin!(run);
