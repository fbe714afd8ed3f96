//! Hostile test plugin: allocates 1 MiB blocks and keeps them until memory
//! growth fails.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

const BLOCK_BYTES: usize = 1 << 20;

fn run(_args: Args) -> Result<Output, String> {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        blocks.push(std::hint::black_box(vec![1u8; BLOCK_BYTES]));
        if blocks.len() == usize::MAX {
            return Ok(Output::text("unreachable"));
        }
    }
}

export_plugin!(run);
