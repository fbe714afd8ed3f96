//! Runs the syntax highlighter natively, outside the sandbox, for
//! development:
//! `cargo run -p syntax-highlighter --example highlight -- NOTE_FILE [ARGS_JSON]`.
//! Prints the plugin's HTML output, or its error message on stderr.

fn main() {
    let mut argv = std::env::args().skip(1);
    let path = argv.next().expect("usage: highlight NOTE_FILE [ARGS_JSON]");
    let args = argv.next().unwrap_or_default();
    let code = std::fs::read_to_string(&path).expect("note file must be readable UTF-8");
    let result = syntax_highlighter::parse_language(&args)
        .map_err(|e| e.to_string())
        .and_then(|language| {
            syntax_highlighter::highlight(&code, language).map_err(|e| e.to_string())
        });
    match result {
        Ok(html) => println!("{html}"),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
