//! A single-pass scanner that splits code into classified tokens using a
//! language's [`Rules`].
//!
//! The scanner is lexical only: it never parses, so a construct it does not
//! know (an f-string's inner expression, a nested template literal) is
//! classified by its outermost token. Unknown characters stay unclassified.
//! It runs in time linear in the length of the code.

use crate::class::TokenClass;
use crate::language::Rules;

/// A classified span of the code, in bytes. Spans do not overlap and come in
/// order; text between them is unclassified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) class: TokenClass,
}

/// The last token that was neither whitespace nor a comment.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Previous {
    Nothing,
    /// An identifier or keyword, with the class it received.
    Word {
        start: usize,
        end: usize,
        class: Option<TokenClass>,
    },
    Symbol(char),
    Literal,
}

struct Lexer<'a> {
    code: &'a str,
    rules: &'a Rules,
    keywords: WordSet,
    types: WordSet,
    builtins: WordSet,
    pos: usize,
    tokens: Vec<Token>,
    previous: Previous,
    /// Only whitespace since the last line break.
    line_start: bool,
    /// Depth of `[` inside TOML values, so that a line starting with `[`
    /// inside an array is not taken for a table header.
    array_depth: usize,
    /// One entry per open `${` of a template string: the number of `{` opened
    /// inside it and not yet closed.
    template_braces: Vec<usize>,
}

/// Splits `code` into classified tokens.
pub(crate) fn tokenize(code: &str, rules: &'static Rules) -> Vec<Token> {
    let mut lexer = Lexer {
        code,
        rules,
        keywords: WordSet::new(rules.keywords, rules.case_insensitive),
        types: WordSet::new(rules.types, rules.case_insensitive),
        builtins: WordSet::new(rules.builtins, rules.case_insensitive),
        pos: 0,
        tokens: Vec::new(),
        previous: Previous::Nothing,
        line_start: true,
        array_depth: 0,
        template_braces: Vec::new(),
    };
    lexer.run();
    lexer.tokens
}

fn is_identifier_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.code[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn char_at(&self, offset: usize) -> Option<char> {
        self.code.get(offset..).and_then(|s| s.chars().next())
    }

    fn push(&mut self, start: usize, end: usize, class: TokenClass) {
        if end > start {
            self.tokens.push(Token { start, end, class });
        }
    }

    /// Returns the offset just past the first `pattern` at or after `from`,
    /// or the end of the code.
    fn find_after(&self, from: usize, pattern: &str) -> usize {
        self.code[from..]
            .find(pattern)
            .map_or(self.code.len(), |i| from + i + pattern.len())
    }

    fn line_end(&self, from: usize) -> usize {
        self.code[from..]
            .find('\n')
            .map_or(self.code.len(), |i| from + i)
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                self.line_start = true;
                self.pos += 1;
                continue;
            }
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            let was_line_start = std::mem::replace(&mut self.line_start, false);
            if self.comment() {
                self.line_start = was_line_start && self.code[..self.pos].ends_with('\n');
                continue;
            }
            let handled = (was_line_start && self.directive_or_header(c))
                || self.attribute()
                || self.string(self.pos, self.pos)
                || self.number(c)
                || self.identifier(c)
                || self.decorator(c)
                || self.regex(c)
                || self.symbol(c);
            if !handled {
                self.previous = Previous::Symbol(c);
                self.pos += c.len_utf8();
            }
        }
    }

    fn comment(&mut self) -> bool {
        let start = self.pos;
        if self
            .rules
            .line_comments
            .iter()
            .any(|p| self.rest().starts_with(p))
        {
            self.pos = self.line_end(start);
            self.push(start, self.pos, TokenClass::Comment);
            return true;
        }
        let Some((open, close)) = self.rules.block_comment else {
            return false;
        };
        if !self.rest().starts_with(open) {
            return false;
        }
        let mut depth = 1;
        let mut i = start + open.len();
        while depth > 0 && i < self.code.len() {
            let rest = &self.code[i..];
            if rest.starts_with(close) {
                depth -= 1;
                i += close.len();
            } else if self.rules.nested_block_comments && rest.starts_with(open) {
                depth += 1;
                i += open.len();
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        self.pos = i;
        self.push(start, i, TokenClass::Comment);
        true
    }

    /// Handles a C preprocessor line or a TOML table header.
    fn directive_or_header(&mut self, c: char) -> bool {
        let features = self.rules.features;
        if features.preprocessor && c == '#' {
            self.preprocessor_line();
            return true;
        }
        if features.table_headers && c == '[' && self.array_depth == 0 {
            let start = self.pos;
            let end = self.line_end(start);
            let header_end = self.code[start..end]
                .rfind(']')
                .map_or(end, |i| start + i + 1);
            self.pos = header_end;
            self.push(start, header_end, TokenClass::Keyword);
            self.previous = Previous::Symbol(']');
            return true;
        }
        false
    }

    /// Classifies a preprocessor directive, with its backslash-continued
    /// lines, as a keyword, except the file name of an `#include`.
    fn preprocessor_line(&mut self) {
        let start = self.pos;
        let mut end = self.line_end(start);
        while self.code[..end]
            .trim_end_matches([' ', '\t', '\r'])
            .ends_with('\\')
            && end < self.code.len()
        {
            end = self.line_end(end + 1);
        }
        let line = &self.code[start..end];
        let directive = line[1..].trim_start();
        if let Some(target) = directive.strip_prefix("include") {
            let target_start = end - target.trim_start().len();
            self.push(start, target_start, TokenClass::Keyword);
            let target_end = target_start + target.trim_start().trim_end().len();
            self.push(target_start, target_end, TokenClass::String);
        } else {
            let comment = line.find("/*").or_else(|| line.find("//"));
            let directive_end = comment.map_or(end, |i| start + i);
            self.push(start, directive_end, TokenClass::Keyword);
            if let Some(i) = comment {
                self.push(start + i, end, TokenClass::Comment);
            }
        }
        self.pos = end;
        self.previous = Previous::Nothing;
    }

    /// Classifies a Rust attribute `#[...]` or `#![...]` as a keyword, except
    /// the string literals inside it.
    fn attribute(&mut self) -> bool {
        if !self.rules.features.attributes
            || !(self.rest().starts_with("#[") || self.rest().starts_with("#!["))
        {
            return false;
        }
        let mut depth = 0usize;
        let mut segment_start = self.pos;
        while let Some(c) = self.peek() {
            if c == '"' {
                self.push(segment_start, self.pos, TokenClass::Keyword);
                self.string(self.pos, self.pos);
                segment_start = self.pos;
                continue;
            }
            self.pos += c.len_utf8();
            match c {
                '[' => depth += 1,
                ']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        self.push(segment_start, self.pos, TokenClass::Keyword);
        self.previous = Previous::Symbol(']');
        true
    }

    /// Scans a string literal whose quote is at `quote`; `start` is where its
    /// prefix begins. Returns false when there is no string there.
    fn string(&mut self, start: usize, quote: usize) -> bool {
        let syntax = self.rules.strings;
        let Some(q) = self.char_at(quote) else {
            return false;
        };
        let rest = &self.code[quote..];

        let end = match q {
            '"' | '\''
                if syntax.triple_quoted
                    && (q == '"' || syntax.single_quoted)
                    && rest.starts_with(&q.to_string().repeat(3)) =>
            {
                let closing = q.to_string().repeat(3);
                self.scan_quoted(quote + 3, &closing, true)
            }
            '"' => self.scan_quoted(quote + 1, "\"", syntax.doubled_quote_escape),
            '\'' if syntax.single_quoted => {
                self.scan_quoted(quote + 1, "'", syntax.doubled_quote_escape)
            }
            '\'' if syntax.char_literals => match self.char_literal(quote) {
                Some(end) => end,
                None => return false,
            },
            '`' if syntax.template_interpolation => {
                self.template_segment(start, quote + 1);
                return true;
            }
            '`' if syntax.backtick => self.scan_quoted(quote + 1, "`", true),
            _ => return false,
        };
        self.pos = end;
        self.push(start, end, TokenClass::String);
        self.previous = Previous::Literal;
        true
    }

    /// Scans a part of a template string from `from` to its closing backtick
    /// or to the next `${`, and classifies `start..` up to there as a string.
    /// After a `${` the main loop tokenizes the inner code until the
    /// matching `}`, which resumes the template.
    fn template_segment(&mut self, start: usize, from: usize) {
        let mut i = from;
        let end = loop {
            let Some(c) = self.char_at(i) else {
                break self.code.len();
            };
            match c {
                '\\' => i += 1 + self.char_at(i + 1).map_or(0, char::len_utf8),
                '`' => break i + 1,
                '$' if self.char_at(i + 1) == Some('{') => {
                    self.template_braces.push(0);
                    break i + 2;
                }
                c => i += c.len_utf8(),
            }
        };
        self.pos = end;
        self.push(start, end, TokenClass::String);
        self.previous = Previous::Symbol('{');
    }

    /// Returns the offset just past the closing delimiter. Backslash escapes
    /// the next character unless the language doubles quotes instead. A
    /// literal that may not span lines ends at the line break when unclosed.
    fn scan_quoted(&self, from: usize, closing: &str, multiline: bool) -> usize {
        let doubled = self.rules.strings.doubled_quote_escape;
        let mut i = from;
        while i < self.code.len() {
            let rest = &self.code[i..];
            if doubled && rest.starts_with(closing) && rest[closing.len()..].starts_with(closing) {
                i += 2 * closing.len();
                continue;
            }
            if rest.starts_with(closing) {
                return i + closing.len();
            }
            let Some(c) = rest.chars().next() else { break };
            if c == '\\' && !doubled {
                i += 1;
                i += self.char_at(i).map_or(0, char::len_utf8);
                continue;
            }
            if c == '\n' && !multiline {
                return i;
            }
            i += c.len_utf8();
        }
        self.code.len()
    }

    /// Returns the end of a character literal at `quote` (`'a'`, `'\n'`,
    /// `'\u{1F600}'`), or `None` when the quote opens a Rust lifetime or
    /// label instead.
    fn char_literal(&self, quote: usize) -> Option<usize> {
        let mut i = quote + 1;
        let first = self.char_at(i)?;
        if first == '\\' {
            let close = self.code[i..]
                .char_indices()
                .skip(1)
                .take(12)
                .find(|&(_, c)| c == '\'' || c == '\n')?;
            return (close.1 == '\'').then_some(i + close.0 + 1);
        }
        if first == '\n' || first == '\'' {
            return None;
        }
        i += first.len_utf8();
        (self.char_at(i) == Some('\'')).then_some(i + 1)
    }

    fn number(&mut self, c: char) -> bool {
        let start = self.pos;
        let next = self.char_at(start + c.len_utf8());
        let previous_is_word = matches!(self.previous, Previous::Word { .. });
        let starts_number = c.is_ascii_digit()
            || (c == '.' && next.is_some_and(|n| n.is_ascii_digit()) && !previous_is_word)
            || (c == '-' && self.rules.features.json && next.is_some_and(|n| n.is_ascii_digit()));
        if !starts_number {
            return false;
        }

        let toml = self.rules.features.table_headers;
        let mut i = start + c.len_utf8();
        let mut previous = c;
        while let Some(d) = self.char_at(i) {
            let exponent_sign = (d == '+' || d == '-')
                && matches!(previous, 'e' | 'E')
                && !self.code[start..i].starts_with("0x");
            let fraction = d == '.' && self.char_at(i + 1).is_some_and(|n| n.is_ascii_digit());
            let date_part = toml && matches!(d, '-' | ':' | '+' | '.');
            if !(d.is_ascii_alphanumeric() || d == '_' || exponent_sign || fraction || date_part) {
                break;
            }
            previous = d;
            i += d.len_utf8();
        }
        self.pos = i;
        self.push(start, i, TokenClass::Number);
        self.previous = Previous::Literal;
        true
    }

    fn identifier(&mut self, c: char) -> bool {
        if !is_identifier_start(c) {
            return false;
        }
        let start = self.pos;
        let end = self
            .rest()
            .find(|c: char| !is_identifier_char(c))
            .map_or(self.code.len(), |i| start + i);
        let word = &self.code[start..end];

        if self.is_string_prefix(word, end) {
            if self.rules.strings.rust_raw && word.ends_with('r') {
                return self.rust_raw_string(start, end);
            }
            return self.string(start, end);
        }

        let mut class = self.classify_word(word, end);
        let mut token_end = end;
        if class.is_none()
            && self.rules.features.bang_macros
            && self.char_at(end) == Some('!')
            && self.char_at(end + 1) != Some('=')
        {
            class = Some(TokenClass::Function);
            token_end = end + 1;
        }
        if let Some(class) = class {
            self.push(start, token_end, class);
        }
        self.pos = token_end;
        self.previous = Previous::Word { start, end, class };
        true
    }

    fn is_string_prefix(&self, word: &str, end: usize) -> bool {
        let syntax = self.rules.strings;
        if word.len() > 2
            || !word
                .chars()
                .all(|c| syntax.prefixes.contains(c) || (syntax.rust_raw && c == 'r'))
        {
            return false;
        }
        match self.char_at(end) {
            Some('"') => true,
            Some('\'') => syntax.single_quoted || syntax.char_literals,
            Some('#') => {
                syntax.rust_raw && word.ends_with('r') && self.raw_string_quote(end).is_some()
            }
            _ => false,
        }
    }

    /// For a Rust raw string `r#"..."#`, returns the offset of its quote.
    fn raw_string_quote(&self, after_prefix: usize) -> Option<usize> {
        let hashes = self.code[after_prefix..]
            .chars()
            .take_while(|&c| c == '#')
            .count();
        (hashes > 0 && self.char_at(after_prefix + hashes) == Some('"'))
            .then_some(after_prefix + hashes)
    }

    /// Scans `r"..."` or `r#"..."#` whose prefix spans `start..after_prefix`.
    fn rust_raw_string(&mut self, start: usize, after_prefix: usize) -> bool {
        let hashes = self.code[after_prefix..]
            .chars()
            .take_while(|&c| c == '#')
            .count();
        let closing = format!("\"{}", "#".repeat(hashes));
        let end = self.find_after(after_prefix + hashes + 1, &closing);
        self.pos = end;
        self.push(start, end, TokenClass::String);
        self.previous = Previous::Literal;
        true
    }

    fn classify_word(&self, word: &str, end: usize) -> Option<TokenClass> {
        let rules = self.rules;
        if let Previous::Word {
            start,
            end: previous_end,
            ..
        } = self.previous
        {
            let previous = &self.code[start..previous_end];
            if contains(rules.function_definers, previous, rules.case_insensitive) {
                return Some(TokenClass::Function);
            }
            if contains(rules.type_definers, previous, rules.case_insensitive) {
                return Some(TokenClass::Type);
            }
        }
        if rules.strings.rust_raw && word == "r" && self.char_at(end) == Some('#') {
            return None;
        }
        if self.keywords.contains(word) {
            return Some(TokenClass::Keyword);
        }
        if self.types.contains(word) {
            return Some(TokenClass::Type);
        }
        if self.builtins.contains(word) {
            return Some(TokenClass::Function);
        }
        if rules.features.exception_names
            && word.starts_with(char::is_uppercase)
            && ["Error", "Exception", "Warning"]
                .iter()
                .any(|s| word.ends_with(s))
        {
            return Some(TokenClass::Type);
        }
        if rules.features.c_style_declarations && self.is_declaration(end) {
            return Some(TokenClass::Function);
        }
        None
    }

    /// Decides whether the identifier ending at `end` is the name in a
    /// function declaration: it follows a type or name and precedes `(`.
    fn is_declaration(&self, end: usize) -> bool {
        let next = self.code[end..].chars().find(|c| !c.is_whitespace());
        if next != Some('(') {
            return false;
        }
        matches!(
            self.previous,
            Previous::Word {
                class: None | Some(TokenClass::Type),
                ..
            } | Previous::Symbol('*')
        )
    }

    /// Classifies `@name` and `@a.b.c` as a function (decorator or
    /// annotation).
    fn decorator(&mut self, c: char) -> bool {
        if c != '@' || !self.rules.features.decorators {
            return false;
        }
        let start = self.pos;
        if !self.char_at(start + 1).is_some_and(is_identifier_start) {
            return false;
        }
        let end = self.code[start + 1..]
            .find(|c: char| !(is_identifier_char(c) || c == '.'))
            .map_or(self.code.len(), |i| start + 1 + i);
        self.pos = end;
        self.push(start, end, TokenClass::Function);
        self.previous = Previous::Literal;
        true
    }

    /// Classifies a JavaScript regular expression literal as a string. A `/`
    /// starts one where a value is expected: at the start, after an operator,
    /// an opening bracket or a keyword.
    fn regex(&mut self, c: char) -> bool {
        if c != '/' || !self.rules.features.regex_literals {
            return false;
        }
        let expects_value = match self.previous {
            Previous::Nothing => true,
            Previous::Symbol(s) => !matches!(s, ')' | ']' | '}'),
            Previous::Word { class, .. } => class == Some(TokenClass::Keyword),
            Previous::Literal => false,
        };
        if !expects_value {
            return false;
        }

        let start = self.pos;
        let mut in_class = false;
        let mut i = start + 1;
        loop {
            let Some(d) = self.char_at(i) else {
                return false;
            };
            match d {
                '\n' => return false,
                '\\' => i += 1,
                '[' => in_class = true,
                ']' => in_class = false,
                '/' if !in_class => break,
                _ => {}
            }
            i += self.char_at(i).map_or(1, char::len_utf8);
        }

        let flags = self.code[i + 1..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .map_or(self.code.len(), |f| i + 1 + f);
        self.pos = flags;
        self.push(start, flags, TokenClass::String);
        self.previous = Previous::Literal;
        true
    }

    fn symbol(&mut self, c: char) -> bool {
        let rules = self.rules;
        let start = self.pos;
        let (length, class) = if let Some(s) = rules
            .punctuation_sequences
            .iter()
            .find(|s| self.rest().starts_with(**s))
        {
            (s.len(), TokenClass::Punctuation)
        } else if let Some(s) = rules
            .operator_sequences
            .iter()
            .find(|s| self.rest().starts_with(**s))
        {
            (s.len(), TokenClass::Operator)
        } else if rules.punctuation.contains(c) {
            (c.len_utf8(), TokenClass::Punctuation)
        } else if rules.operators.contains(c) {
            (c.len_utf8(), TokenClass::Operator)
        } else {
            return false;
        };
        if let Some(open) = self.template_braces.last_mut() {
            match (c, *open) {
                ('}', 0) => {
                    self.template_braces.pop();
                    self.template_segment(start, start + 1);
                    return true;
                }
                ('}', _) => *open -= 1,
                ('{', _) => *open += 1,
                _ => {}
            }
        }
        if rules.features.table_headers {
            match c {
                '[' => self.array_depth += 1,
                ']' => self.array_depth = self.array_depth.saturating_sub(1),
                _ => {}
            }
        }
        self.pos = start + length;
        self.push(start, self.pos, class);
        self.previous = Previous::Symbol(c);
        true
    }
}

fn contains(list: &[&str], word: &str, case_insensitive: bool) -> bool {
    if case_insensitive {
        list.iter().any(|w| w.eq_ignore_ascii_case(word))
    } else {
        list.contains(&word)
    }
}

/// A word list sorted for binary search, because the keyword lists are
/// looked up once per identifier. Lists of case-insensitive languages are
/// written in lower case.
struct WordSet {
    words: Vec<&'static str>,
    case_insensitive: bool,
}

impl WordSet {
    fn new(list: &'static [&'static str], case_insensitive: bool) -> Self {
        let mut words = list.to_vec();
        words.sort_unstable();
        Self {
            words,
            case_insensitive,
        }
    }

    fn contains(&self, word: &str) -> bool {
        if self.case_insensitive && word.bytes().any(|b| b.is_ascii_uppercase()) {
            let lower = word.to_ascii_lowercase();
            return self.words.binary_search(&lower.as_str()).is_ok();
        }
        self.words.binary_search(&word).is_ok()
    }
}
