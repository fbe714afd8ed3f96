//! Benchmark inputs: note bodies of exact sizes cut from the corpus.

use std::path::Path;

use anyhow::{Context, Result};

/// Note sizes of the size-dependent cases, in bytes.
pub const NOTE_SIZES: [usize; 4] = [1 << 10, 4 << 10, 64 << 10, 1 << 20];

/// Title of every benchmark note.
pub const TITLE: &str = "Benchmark note";

/// English prose from the repository's `corpus/` folder, concatenated.
pub struct Corpus {
    text: String,
}

impl Corpus {
    /// Reads every `.txt` file under `workspace/corpus`, in name order.
    pub fn read(workspace: &Path) -> Result<Self> {
        let folder = workspace.join("corpus");
        let mut paths: Vec<_> = std::fs::read_dir(&folder)
            .with_context(|| format!("failed to list {}", folder.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
            .collect();
        paths.sort();

        let mut text = String::new();
        for path in paths {
            let part = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            text.push_str(&part);
            text.push('\n');
        }
        anyhow::ensure!(!text.is_empty(), "{} has no .txt files", folder.display());
        Ok(Self { text })
    }

    /// Returns a body of exactly `size` bytes: the corpus repeated and cut
    /// at a character boundary, padded with spaces.
    pub fn body(&self, size: usize) -> String {
        let mut body = String::with_capacity(size);
        while body.len() < size {
            let room = size - body.len();
            let mut end = room.min(self.text.len());
            while !self.text.is_char_boundary(end) {
                end -= 1;
            }
            if end == 0 {
                break;
            }
            body.push_str(&self.text[..end]);
        }
        while body.len() < size {
            body.push(' ');
        }
        body
    }
}

/// Formats a note size such as `4 KiB` or `1 MiB`.
pub fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size.is_multiple_of(1 << 20) {
        format!("{} MiB", size >> 20)
    } else if size >= 1 << 10 && size.is_multiple_of(1 << 10) {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}
