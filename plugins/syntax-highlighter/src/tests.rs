//! Pinned outputs per language, so that a tokenizer regression fails without
//! Python.

use super::*;

/// Renders `code` as `class:text` pairs, one per token, for readable pins.
fn spans(code: &str, language: Language) -> Vec<String> {
    let rules = language.rules().unwrap();
    lexer::tokenize(code, rules)
        .iter()
        .map(|t| format!("{}:{}", t.class.as_str(), &code[t.start..t.end]))
        .collect()
}

#[test]
fn rust_tokens() {
    let code = "/// Doc.\n#[derive(Debug)]\npub fn add<'a>(x: &'a str) -> u32 { let c = '\\n'; println!(\"{x}\"); r#\"raw\"# ; 0x1F_u32 }";
    assert_eq!(
        spans(code, Language::Rust),
        [
            "comment:/// Doc.",
            "keyword:#[derive(Debug)]",
            "keyword:pub",
            "keyword:fn",
            "function:add",
            "operator:<",
            "operator:'",
            "operator:>",
            "punctuation:(",
            "punctuation::",
            "operator:&",
            "operator:'",
            "type:str",
            "punctuation:)",
            "punctuation:->",
            "type:u32",
            "punctuation:{",
            "keyword:let",
            "operator:=",
            "string:'\\n'",
            "punctuation:;",
            "function:println!",
            "punctuation:(",
            "string:\"{x}\"",
            "punctuation:)",
            "punctuation:;",
            "string:r#\"raw\"#",
            "punctuation:;",
            "number:0x1F_u32",
            "punctuation:}",
        ]
    );
}

#[test]
fn python_tokens() {
    let code = "@cache\ndef f(self, n=1.5e3):\n    \"\"\"Doc.\"\"\"\n    return len(b'x') # done\nclass E(ValueError): pass";
    assert_eq!(
        spans(code, Language::Python),
        [
            "function:@cache",
            "keyword:def",
            "function:f",
            "punctuation:(",
            "keyword:self",
            "punctuation:,",
            "operator:=",
            "number:1.5e3",
            "punctuation:)",
            "punctuation::",
            "string:\"\"\"Doc.\"\"\"",
            "keyword:return",
            "function:len",
            "punctuation:(",
            "string:b'x'",
            "punctuation:)",
            "comment:# done",
            "keyword:class",
            "type:E",
            "punctuation:(",
            "type:ValueError",
            "punctuation:)",
            "punctuation::",
            "keyword:pass",
        ]
    );
}

#[test]
fn javascript_regex_and_template() {
    let code = "const r = /a\\/b[/]/g; let s = `x ${y}`; x = a / b;";
    assert_eq!(
        spans(code, Language::JavaScript),
        [
            "keyword:const",
            "operator:=",
            "string:/a\\/b[/]/g",
            "punctuation:;",
            "keyword:let",
            "operator:=",
            "string:`x ${",
            "string:}`",
            "punctuation:;",
            "operator:=",
            "operator:/",
            "punctuation:;",
        ]
    );
}

#[test]
fn template_interpolation_is_code() {
    let code = "`a ${f({b: 1})} c ${`in ${d}`}` + 2";
    assert_eq!(
        spans(code, Language::JavaScript),
        [
            "string:`a ${",
            "punctuation:(",
            "punctuation:{",
            "operator::",
            "number:1",
            "punctuation:}",
            "punctuation:)",
            "string:} c ${",
            "string:`in ${",
            "string:}`",
            "string:}`",
            "operator:+",
            "number:2",
        ]
    );
}

#[test]
fn typescript_types() {
    let code = "interface User { name: string }";
    assert_eq!(
        spans(code, Language::TypeScript),
        [
            "keyword:interface",
            "type:User",
            "punctuation:{",
            "operator::",
            "type:string",
            "punctuation:}"
        ]
    );
}

#[test]
fn go_tokens() {
    let code = "func main() {\n\tx := len(`raw`) // c\n}";
    assert_eq!(
        spans(code, Language::Go),
        [
            "keyword:func",
            "function:main",
            "punctuation:(",
            "punctuation:)",
            "punctuation:{",
            "operator::=",
            "function:len",
            "punctuation:(",
            "string:`raw`",
            "punctuation:)",
            "comment:// c",
            "punctuation:}",
        ]
    );
}

#[test]
fn c_preprocessor_and_declarations() {
    let code =
        "#include <stdio.h>\n#define N 3 /* n */\nstatic int *twice(int x) { return x * 2; }";
    assert_eq!(
        spans(code, Language::C),
        [
            "keyword:#include ",
            "string:<stdio.h>",
            "keyword:#define N 3 ",
            "comment:/* n */",
            "keyword:static",
            "type:int",
            "operator:*",
            "function:twice",
            "punctuation:(",
            "type:int",
            "punctuation:)",
            "punctuation:{",
            "keyword:return",
            "operator:*",
            "number:2",
            "punctuation:;",
            "punctuation:}",
        ]
    );
}

#[test]
fn java_tokens() {
    let code = "@Override public String name() { return \"a\"; }";
    assert_eq!(
        spans(code, Language::Java),
        [
            "function:@Override",
            "keyword:public",
            "function:name",
            "punctuation:(",
            "punctuation:)",
            "punctuation:{",
            "keyword:return",
            "string:\"a\"",
            "punctuation:;",
            "punctuation:}",
        ]
    );
}

#[test]
fn sql_is_case_insensitive() {
    let code = "SELECT 'it''s', n::text FROM t -- c\nwhere id = 1;";
    assert_eq!(
        spans(code, Language::Sql),
        [
            "keyword:SELECT",
            "string:'it''s'",
            "punctuation:,",
            "punctuation::",
            "punctuation::",
            "type:text",
            "keyword:FROM",
            "comment:-- c",
            "keyword:where",
            "operator:=",
            "number:1",
            "punctuation:;",
        ]
    );
}

#[test]
fn toml_headers_keys_and_values() {
    let code =
        "[package]\nname = \"x\" # c\nlist = [\n  1,\n]\nwhen = 1979-05-27T07:32:00Z\n[[bin]]";
    assert_eq!(
        spans(code, Language::Toml),
        [
            "keyword:[package]",
            "operator:=",
            "string:\"x\"",
            "comment:# c",
            "operator:=",
            "punctuation:[",
            "number:1",
            "punctuation:,",
            "punctuation:]",
            "operator:=",
            "number:1979-05-27T07:32:00Z",
            "keyword:[[bin]]",
        ]
    );
}

#[test]
fn json_tokens() {
    let code = r#"{"a": [-1.5e2, true, null]}"#;
    assert_eq!(
        spans(code, Language::Json),
        [
            "punctuation:{",
            "string:\"a\"",
            "punctuation::",
            "punctuation:[",
            "number:-1.5e2",
            "punctuation:,",
            "keyword:true",
            "punctuation:,",
            "keyword:null",
            "punctuation:]",
            "punctuation:}",
        ]
    );
}

#[test]
fn html_output_is_escaped_and_wrapped() {
    let html = highlight("x = \"<b>&'\" # <i>", Some(Language::Python)).unwrap();
    assert_eq!(
        html,
        "<pre><code class=\"language-python\">x <span class=\"operator\">=</span> \
         <span class=\"string\">\"&lt;b&gt;&amp;'\"</span> \
         <span class=\"comment\"># &lt;i&gt;</span></code></pre>"
    );
}

#[test]
fn plain_text_has_no_spans() {
    let html = highlight("a < b", Some(Language::PlainText)).unwrap();
    assert_eq!(
        html,
        "<pre><code class=\"language-plaintext\">a &lt; b</code></pre>"
    );
}

#[test]
fn missing_language_is_detected() {
    let html = highlight("fn main() {}", None).unwrap();
    assert!(
        html.starts_with("<pre><code class=\"language-rust\">"),
        "{html}"
    );
}

#[test]
fn unterminated_literals_do_not_panic() {
    for language in Language::SUPPORTED {
        for code in [
            "\"abc", "'", "/* open", "r#\"x", "'\\", "#", "[", "`", "@", "0x", "1e", "'''", "\\",
        ] {
            let html = highlight(code, Some(language)).unwrap();
            assert!(html.ends_with("</code></pre>"), "{language:?} {code:?}");
        }
    }
}

#[test]
fn output_over_limit_falls_back_to_plain() {
    // Each `(` becomes a 36-byte span, so 400 KB of them overflow 1 MiB.
    let code = "(".repeat(400_000);
    let html = highlight(&code, Some(Language::Rust)).unwrap();
    assert!(!html.contains("<span"));
    assert!(html.len() <= MAX_OUTPUT_BYTES);
}

#[test]
fn escaped_text_over_limit_is_an_error() {
    let code = "<".repeat(300_000);
    assert!(matches!(
        highlight(&code, Some(Language::Rust)),
        Err(HighlightError::TooLarge(_))
    ));
}

#[test]
fn char_classes_cover_every_char() {
    let code = "let é = 1;";
    let classes = classify_chars(code, Language::Rust);
    assert_eq!(classes.len(), code.chars().count());
    assert_eq!(classes[0], Some(TokenClass::Keyword));
    assert_eq!(classes[3], None);
    assert_eq!(classes[8], Some(TokenClass::Number));
}

#[test]
fn markup_in_code_cannot_escape_the_element() {
    let code =
        "x = \"</span></code></pre><script>alert(1)</script>\" // <img src=x onerror=alert(1)>";
    for language in Language::SUPPORTED {
        let html = highlight(code, Some(language)).unwrap();
        assert!(!html.contains("<script"), "{language:?}: {html}");
        assert!(!html.contains("<img"), "{language:?}: {html}");
        assert_eq!(html.matches("</pre>").count(), 1, "{language:?}: {html}");
    }
}

#[test]
fn rendered_len_matches_render() {
    let code = "fn f() -> &'a str { \"<&>\" } // é";
    for tokens in [
        lexer::tokenize(code, language::Language::Rust.rules().unwrap()),
        Vec::new(),
    ] {
        let html = html::render(code, &tokens, Language::Rust);
        assert_eq!(
            html::rendered_len(code, &tokens, Language::Rust),
            html.len()
        );
    }
}

#[test]
fn case_insensitive_word_lists_are_lower_case() {
    for language in Language::SUPPORTED {
        let rules = language.rules().unwrap();
        if !rules.case_insensitive {
            continue;
        }
        for word in rules
            .keywords
            .iter()
            .chain(rules.types)
            .chain(rules.builtins)
        {
            assert_eq!(*word, word.to_ascii_lowercase(), "{language:?}");
        }
    }
}

#[test]
fn plugin_entry_point_reads_note_and_args() {
    sandnotes_plugin_sdk::testing::set_note("snippet", "let x = 1;");
    let output = crate::run(sandnotes_plugin_sdk::Args::new(r#"{"language": "rust"}"#)).unwrap();
    assert_eq!(
        output,
        sandnotes_plugin_sdk::Output::Html(
            "<pre><code class=\"language-rust\"><span class=\"keyword\">let</span> x \
             <span class=\"operator\">=</span> <span class=\"number\">1</span>\
             <span class=\"punctuation\">;</span></code></pre>"
                .to_owned()
        )
    );
}

#[test]
fn plugin_entry_point_rejects_unknown_language() {
    sandnotes_plugin_sdk::testing::set_note("snippet", "x");
    let error =
        crate::run(sandnotes_plugin_sdk::Args::new(r#"{"language": "cobol"}"#)).unwrap_err();
    assert!(
        error.starts_with("unsupported \"language\": \"cobol\""),
        "{error}"
    );
}
