//! Text primitives shared by the sample plugins: sentence segmentation and the
//! English stop-word list.
//!
//! Everything here is pure Rust with no I/O, clocks or randomness, so it builds
//! for `wasm32-unknown-unknown` and gives the same output for the same input.

mod sentences;
mod stopwords;

pub use sentences::{Sentence, Sentences, split_sentences};
pub use stopwords::is_stop_word;
