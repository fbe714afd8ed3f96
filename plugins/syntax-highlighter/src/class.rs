//! The token classes of the output.

/// The kind of a highlighted token. Its class name is the value of
/// `<span class="...">`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenClass {
    /// A reserved word, a literal constant such as `true`, or a
    /// preprocessor directive or attribute.
    Keyword,
    /// A string or character literal, including its quotes and prefix.
    String,
    /// A comment, including documentation comments.
    Comment,
    /// A numeric literal.
    Number,
    /// The name of a function where it is defined, a macro or a decorator.
    Function,
    /// A built-in type or the name of a type where it is defined.
    Type,
    /// An operator such as `=`, `+` or `&&`.
    Operator,
    /// Brackets, separators and other punctuation.
    Punctuation,
}

impl TokenClass {
    /// Every class, in the order of the documentation.
    pub const ALL: [Self; 8] = [
        Self::Keyword,
        Self::String,
        Self::Comment,
        Self::Number,
        Self::Function,
        Self::Type,
        Self::Operator,
        Self::Punctuation,
    ];

    /// Returns the CSS class name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::String => "string",
            Self::Comment => "comment",
            Self::Number => "number",
            Self::Function => "function",
            Self::Type => "type",
            Self::Operator => "operator",
            Self::Punctuation => "punctuation",
        }
    }
}
