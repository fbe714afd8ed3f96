//! Runs the summarizer natively, outside the sandbox, for development:
//! `cargo run -p summarizer --example summarize -- NOTE_FILE [ARGS_JSON]`.
//! Prints the plugin's JSON output, or its error message on stderr.

fn main() {
    let mut argv = std::env::args().skip(1);
    let path = argv.next().expect("usage: summarize NOTE_FILE [ARGS_JSON]");
    let args = argv.next().unwrap_or_default();
    let text = std::fs::read_to_string(&path).expect("note file must be readable UTF-8");
    match summarizer::SummaryLength::from_json(&args) {
        Ok(length) => println!(
            "{}",
            serde_json::to_string(&summarizer::summarize(&text, length)).unwrap()
        ),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
