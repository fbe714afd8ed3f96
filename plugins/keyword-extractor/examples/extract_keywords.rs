//! Runs the keyword extractor natively, outside the sandbox, for development:
//! `cargo run -p keyword-extractor --example extract_keywords -- NOTE_FILE [ARGS_JSON]`.
//! Prints the plugin's JSON output, or its error message on stderr.

fn main() {
    let mut argv = std::env::args().skip(1);
    let path = argv
        .next()
        .expect("usage: extract_keywords NOTE_FILE [ARGS_JSON]");
    let args = argv.next().unwrap_or_default();
    let text = std::fs::read_to_string(&path).expect("note file must be readable UTF-8");
    match keyword_extractor::parse_max_keywords(&args) {
        Ok(n) => println!(
            "{}",
            serde_json::to_string(&keyword_extractor::extract_keywords(&text, n)).unwrap()
        ),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
